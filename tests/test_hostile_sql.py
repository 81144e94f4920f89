"""The reproducers of the hostile-input report, one each: no traceback, no statement hidden
behind another, and never "All clear" for a file whose statements could not all be read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract.cli import cli

NEXT = "CREATE INDEX ix_after ON orders (customer_id);\n"  # must always be found: EC301

CASES = {
    "SET DEFAULT TABLESPACE": "ALTER TABLE t SET DEFAULT TABLESPACE x;\n",
    "table properties": "CREATE TABLE p2 PARTITION OF p DEFAULT;\n",
    "ALTER TABLE *": "ALTER TABLE * ADD COLUMN a int;\n",
    "doubled quote, several actions": 'ALTER TABLE "a""b" ADD COLUMN x int, ADD COLUMN y int;\n',
    "deep nesting": "SELECT " + "(" * 3000 + "1" + ")" * 3000 + ";\n",
    "'begin' in BEGIN ATOMIC": (
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT 'begin'; END;\n"
    ),
    "'case' in BEGIN ATOMIC": (
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql BEGIN ATOMIC SELECT 'case'; END;\n"
    ),
    "\\gset": "SELECT 1 AS one \\gset\n",
    "\\g": "SELECT 1 \\g\n",
    "$1,$2": "PREPARE p AS SELECT $1,$2;\n",
    "begin aliased atomic": "CREATE VIEW v AS SELECT begin atomic FROM t;\n",
    "a meta-command's quote": '\\echo "hi\n',
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_next_statement_is_always_linted(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text(CASES[case] + NEXT)
    for ignore in ([], ["--ignore", "EC001"]):
        result = CliRunner().invoke(cli, ["lint", "--format", "json", *ignore, "m.sql"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        findings = json.loads(result.stdout)["findings"]
        lines = len((CASES[case] + NEXT).splitlines())
        assert ("EC301", lines) in [(f["code"], f["line"]) for f in findings], findings
        assert all(1 <= f["line"] <= lines for f in findings)
        assert all("<Token" not in f["message"] for f in findings)


def test_an_unreadable_statement_is_never_all_clear(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text("ALTR TABLE users ADD COLUMN x int;\nSET lock_timeout = '2s';\n")
    result = CliRunner().invoke(cli, ["lint", "--ignore", "EC001,EC004", "m.sql"])
    assert result.exit_code == 1 and "All clear" not in result.output
    assert "m.sql:1:1: EC001" in result.output


def test_an_unterminated_quote_says_so_consistently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("m.sql").write_text("SET lock_timeout = '2s';\nSELECT 'never closed;\n" + NEXT)
    result = CliRunner().invoke(cli, ["lint", "--format", "json", "m.sql"])
    (finding,) = json.loads(result.stdout)["findings"]
    assert (finding["line"], finding["column"]) == (2, 8)  # where the quote opens
    assert "the rest of the file was not read" in finding["message"]
    assert "still linted" not in finding["hint"]


def test_a_file_the_linter_fails_on_is_a_finding_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash in one file (here a revision whose rendering hits a bug of ours, simulated
    by a rule that raises) is that file's finding; the other files are still reported."""
    import expandcontract.lint.engine as engine

    monkeypatch.chdir(tmp_path)
    Path("a.sql").write_text(NEXT)
    Path("b.sql").write_text(NEXT)
    real = engine.lint_sql

    def flaky(text, name, ruleset, *rest):
        if name == "a.sql":
            raise RuntimeError("boom")
        return real(text, name, ruleset, *rest)

    monkeypatch.setattr(engine, "lint_sql", flaky)
    result = CliRunner().invoke(cli, ["lint", "--format", "json", "a.sql", "b.sql"])
    findings = json.loads(result.stdout)["findings"]
    assert [(f["path"], f["code"]) for f in findings] == [("a.sql", "EC001"), ("b.sql", "EC301")]
    assert "the linter failed on this file (RuntimeError: boom)" in findings[0]["message"]
