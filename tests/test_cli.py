"""The command line, driven through click's runner: exit codes, formats, bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract import __version__
from expandcontract.cli import cli

UNSAFE = "CREATE INDEX ix_orders_customer ON orders (customer_id);\n"
SAFE = "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "migrations" / "nested").mkdir(parents=True)
    (tmp_path / "migrations" / "0001_safe.sql").write_text(SAFE)
    (tmp_path / "migrations" / "nested" / "0002_unsafe.sql").write_text("\n" + UNSAFE)
    (tmp_path / "migrations" / "README.md").write_text("not sql")
    return tmp_path


def run(*args: str, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_lint_directory_recursively_text(project: Path) -> None:
    result = run("lint", "migrations")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "migrations/nested/0002_unsafe.sql:2:1: EC301 create-index-not-concurrently [error]"
    )
    assert lines[1].startswith("    hint: Use CREATE INDEX CONCURRENTLY")
    assert lines[-1] == "Found 1 error in 2 files, 3 statements."


def test_clean_file_exits_zero(project: Path) -> None:
    result = run("lint", "migrations/0001_safe.sql")
    assert result.exit_code == 0
    assert result.stdout.strip() == "All clear: 1 file, 2 statements checked."


def test_warnings_alone_exit_zero(project: Path) -> None:
    Path("w.sql").write_text("ALTER TABLE t ADD COLUMN a int;\n")
    result = run("lint", "w.sql")
    assert result.exit_code == 0 and "EC004" in result.stdout


def test_exit_zero_flag(project: Path) -> None:
    assert run("lint", "--exit-zero", "migrations").exit_code == 0


def test_json_contract(project: Path) -> None:
    result = run("lint", "--format", "json", "migrations")
    data = json.loads(result.stdout)
    assert set(data) == {"findings", "files", "statements"}
    assert (data["files"], data["statements"]) == (2, 3)
    (finding,) = data["findings"]
    assert set(finding) == {"path", "line", "column", "code", "rule", "severity", "message", "hint"}
    assert (finding["line"], finding["column"], finding["code"]) == (2, 1, "EC301")
    assert result.stdout.rstrip("\n") == json.dumps(data, indent=2)  # the exact layout


def test_json_escapes_like_json_dumps(tmp_path: Path) -> None:
    odd = tmp_path / 'd\u00e9j\u00e0 "vu"\\'
    odd.mkdir()
    (odd / "m.sql").write_text('CREATE INDEX "ix \u2603" ON t (a);\nUPDATE t SET a = 1;\n')
    result = run("lint", str(odd), "--format", "json")
    data = json.loads(result.stdout)
    assert len(data["findings"]) == 2
    assert result.stdout.rstrip("\n") == json.dumps(data, indent=2)


def test_stdin_with_filename() -> None:
    result = run("lint", "-", "--stdin-filename", "db/m.sql", "--format", "json", stdin=UNSAFE)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["findings"][0]["path"] == "db/m.sql"


def test_select_and_ignore(project: Path) -> None:
    assert run("lint", "--ignore", "create-index-not-concurrently", "migrations").exit_code == 0
    assert run("lint", "--select", "EC108", "migrations").exit_code == 0
    assert run("lint", "--select", "EC301", "migrations").exit_code == 1


def test_unknown_rule_flag_is_usage_error(project: Path) -> None:
    result = run("lint", "--select", "no-such-rule", "migrations")
    assert result.exit_code == 2
    assert "unknown rule 'no-such-rule'" in result.stderr


def test_pg_version_flag() -> None:
    sql = "ALTER TABLE t ADD COLUMN a int DEFAULT 0;"
    assert "EC102" in run("lint", "-", "--pg-version", "10", stdin=sql).stdout
    assert "EC102" not in run("lint", "-", "--pg-version", "11", stdin=sql).stdout


def test_missing_file_is_exit_2_without_traceback(project: Path) -> None:
    result = run("lint", "nope.sql")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: nope.sql: no such file or directory"


def test_binary_file_is_exit_2(project: Path) -> None:
    Path("bin.sql").write_bytes(b"SELECT 1;\n\x00\x01\x02")
    result = run("lint", "bin.sql", "migrations/0001_safe.sql")
    assert result.exit_code == 2
    assert "bin.sql:2: binary file" in result.stderr
    # the readable file was still linted; the other is named in the report, never skipped
    assert "bin.sql:2:1: EC001" in result.stdout and "in 2 files" in result.stdout


def test_non_utf8_is_exit_2_with_line(project: Path) -> None:
    Path("latin.sql").write_bytes(b"SELECT 1;\nSELECT 'caf\xe9';\n")
    result = run("lint", "latin.sql")
    assert result.exit_code == 2
    assert "latin.sql:2:12: not valid UTF-8 (byte 0xe9)" in result.stderr


def test_empty_file_is_a_warning(project: Path) -> None:
    Path("empty.sql").write_text("-- nothing yet\n")
    result = run("lint", "empty.sql")
    assert result.exit_code == 0 and "EC003 empty-file" in result.stdout


def test_garbage_and_unterminated_quote_are_findings(project: Path) -> None:
    Path("bad.sql").write_text("garbage here;\nCREATE INDEX ix ON t (a);\nSELECT $$ open;\n")
    result = run("lint", "bad.sql")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert lines[0].startswith("bad.sql:1:1: EC001 parse-error")
    assert lines[1].startswith("bad.sql:2:1: EC301")
    assert lines[2].startswith("bad.sql:3:8: EC001 parse-error")
    assert "unterminated dollar-quoted string" in lines[2]


def test_github_annotations(project: Path) -> None:
    result = run("lint", "--format", "github", "migrations")
    assert result.stdout.startswith(
        "::error file=migrations/nested/0002_unsafe.sql,line=2,col=1,"
        "title=EC301 create-index-not-concurrently::"
    )
    assert "%0A" in result.stdout  # the hint on its own line, escaped


def test_sarif_structure(project: Path) -> None:
    data = json.loads(run("lint", "--format", "sarif", "migrations").stdout)
    assert data["version"] == "2.1.0" and "sarif-2.1.0" in data["$schema"]
    (run_,) = data["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"EC301", "EC001"}
    (result,) = run_["results"]
    assert result["ruleId"] == "EC301" and result["level"] == "error"
    assert rules[result["ruleIndex"]]["id"] == "EC301"
    assert result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "migrations/nested/0002_unsafe.sql"
    assert location["region"] == {"startLine": 2, "startColumn": 1}


def test_junit_is_valid_xml(project: Path) -> None:
    root = ET.fromstring(run("lint", "--format", "junit", "migrations").stdout)
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("type") == "EC301"


def test_gitlab_code_quality(project: Path) -> None:
    (issue,) = json.loads(run("lint", "--format", "gitlab", "migrations").stdout)
    assert issue["location"] == {"path": "migrations/nested/0002_unsafe.sql", "lines": {"begin": 2}}
    assert issue["severity"] == "major" and len(issue["fingerprint"]) == 64


def test_rules_and_explain() -> None:
    result = run("rules")
    assert result.exit_code == 0
    assert any(
        line.startswith("EC301  create-index-not-concurrently")
        for line in result.stdout.splitlines()
    )
    text = run("explain", "EC301").stdout
    assert "## Why is this bad?" in text and "SHARE" in text
    assert run("explain", "create-index-not-concurrently").stdout == text
    bad = run("explain", "nope")
    assert bad.exit_code == 2 and "unknown rule" in bad.stderr


def test_config_from_pyproject(project: Path) -> None:
    Path("pyproject.toml").write_text(
        '[tool.expandcontract]\npg_version = 10\nignore = ["EC004"]\n'
        'severity = { "create-index-not-concurrently" = "warning" }\nexclude = ["migrations/nested"]\n'
    )
    Path("m.sql").write_text("ALTER TABLE t ADD COLUMN a int DEFAULT 0;\n" + UNSAFE)
    result = run("lint", "m.sql", "--format", "json")
    found = {(f["code"], f["severity"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {("EC102", "error"), ("EC301", "warning")}
    assert json.loads(run("lint", "migrations", "--format", "json").stdout)["files"] == 1
    # the flag wins over the file
    result = run("lint", "m.sql", "--format", "json", "--pg-version", "14")
    assert {f["code"] for f in json.loads(result.stdout)["findings"]} == {"EC301"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("pg_verison = 14", "pyproject.toml:2: unknown key 'pg_verison'"),
        ('ignore = ["no-such-rule"]', "pyproject.toml:2: ignore: unknown rule 'no-such-rule'"),
        ('pg_version = "14"', "pyproject.toml:2: pg_version must be a int"),
        ('severity = { EC301 = "fatal" }', "severity must be 'error' or 'warning'"),
        ("pg_version = ", "pyproject.toml: invalid TOML"),
    ],
)
def test_bad_config_is_exit_2(project: Path, body: str, message: str) -> None:
    Path("pyproject.toml").write_text(f"[tool.expandcontract]\n{body}\n")
    result = run("lint", "migrations")
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("report", "command"),
    [
        ("lint", ["lint"]),
        ("rules", ["rules"]),
        ("status", ["status"]),
        ("check", ["check"]),
        ("verify", ["verify"]),
        ("rehearse", ["rehearse"]),
    ],
)
def test_every_report_offers_text_and_json_from_the_one_registry(report, command) -> None:
    from expandcontract.formats import REPORTS

    assert {"text", "json"} <= set(REPORTS[report])
    help_text = " ".join(run(*command, "--help").output.split())
    assert "[" + "|".join(REPORTS[report]) + "]" in help_text


def test_rules_render_as_json_and_text() -> None:
    rules = json.loads(run("rules", "--format", "json").stdout)
    text = run("rules").stdout.splitlines()
    assert len(rules) == len(text) > 40
    assert all(line.startswith(rule["code"]) for rule, line in zip(rules, text, strict=True))
