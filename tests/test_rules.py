"""Every rule against its fixture: each statement marked `-- expect: CODE` is flagged by
that rule, every other statement is not, and the rendered diagnostics match the stored
expectation (set UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change)."""

from __future__ import annotations

import os
import re
from importlib import import_module
from pathlib import Path

import pytest

from expandcontract.formats.text_format import render
from expandcontract.lint.engine import RuleSet, lint_sql
from expandcontract.lint.finding import Report
from expandcontract.linters import RULES
from expandcontract.sql.split import split

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
CASES = sorted(FIXTURES.glob("*.sql"))
# tested elsewhere: the engine's own rules in test_cli / test_suppress, the revision and
# phase rules (EC6xx) on real Alembic projects in test_alembic_lint
ENGINE_RULES = {"parse-error", "unused-suppression", "empty-file", "revision-error"}
_EXPECT = re.compile(r"--\s*expect:\s*(EC\d+)")


def _expected(text: str) -> dict[int, str]:
    """Statement index -> code, from `-- expect: CODE` comments on the line before."""
    script = split(text)
    marks = {}
    for comment in script.comments:
        match = _EXPECT.match("--" + comment.text)
        if match:
            index = next(i for i, s in enumerate(script.statements) if s.line > comment.line)
            marks[index] = match.group(1)
    return marks


def _statement_of(line: int, text: str) -> int:
    for index, stmt in enumerate(split(text).statements):
        if stmt.line <= line <= stmt.end_line:
            return index
    raise AssertionError(f"no statement at line {line}")


@pytest.mark.parametrize("fixture", CASES, ids=lambda p: p.stem)
def test_rule_fixture(fixture: Path) -> None:
    text = fixture.read_text()
    rule = import_module(f"expandcontract.linters.{fixture.stem}").RULE
    version = re.search(r"pg_version:\s*(\d+)", text.splitlines()[0])
    ruleset = RuleSet(
        rules=[rule], catalogue=RULES, pg_version=int(version.group(1)) if version else 14
    )
    findings, count = lint_sql(text, fixture.name, ruleset)

    flagged = {_statement_of(f.line, text): f.code for f in findings}
    assert flagged == _expected(text), "\n" + render(Report(findings, 1, count))

    snapshot = fixture.with_suffix(".expected")
    rendered = render(Report(findings, 1, count)) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        snapshot.write_text(rendered)
    assert snapshot.exists(), f"run with UPDATE_SNAPSHOTS=1 to create {snapshot.name}"
    assert rendered == snapshot.read_text()


def test_every_rule_has_a_fixture() -> None:
    covered = {p.stem for p in CASES}
    for rule in RULES:
        module = rule_module(rule.code)
        if rule.name in ENGINE_RULES or rule.code.startswith("EC6"):
            continue
        assert module in covered, f"{rule.code} {rule.name} has no fixture"


def rule_module(code: str) -> str:
    for path in (Path(__file__).parents[1] / "linters").glob("*.py"):
        if f'code="{code}"' in path.read_text():
            return path.stem
    raise AssertionError(code)
