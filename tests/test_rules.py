"""Every rule against its fixture: each statement marked `-- expect: CODE` is flagged by
that rule, every other statement is not, and the rendered diagnostics match the stored
expectation (set UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change).

A rule whose verdict depends on the PostgreSQL version runs its one fixture at each
version in ``VERSIONS`` (ruff-style: rule, fixture, settings), with a snapshot per
version (``<rule>.pg<N>.expected``); a mark may name the versions it holds for:
`-- expect(pg<12): CODE`."""

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
from expandcontract.sql.postgres.split import split

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
CASES = sorted(FIXTURES.glob("*.sql"))
# tested elsewhere: the engine's own rules in test_cli / test_suppress, the revision and
# phase rules (EC6xx) on real Alembic projects in test_alembic_lint
ENGINE_RULES = {"parse-error", "unused-suppression", "empty-file", "revision-error"}
_EXPECT = re.compile(r"--\s*expect(?:\(pg\s*(<|<=|>=|>|==)\s*(\d+)\))?:\s*(EC\d+)")
_COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "==": lambda a, b: a == b,
}
# the rules whose verdicts change with the PostgreSQL version: each fixture at each of these
VERSIONS = {
    "add_column_default_before_pg11": (10, 11),
    "detach_partition_not_concurrently": (13, 14),
    "set_not_null": (11, 12, 18),
    "statement_fails": (11, 12, 14, 18),
}


def _expected(text: str, version: int) -> dict[int, str]:
    """Statement index -> code, from `-- expect: CODE` comments on the line before (those
    whose version condition holds at ``version``)."""
    script = split(text)
    marks = {}
    for comment in script.comments:
        match = _EXPECT.match("--" + comment.text)
        if match:
            operator, bound, code = match.groups()
            if operator and not _COMPARE[operator](version, int(bound)):
                continue
            index = next(i for i, s in enumerate(script.statements) if s.line > comment.line)
            marks[index] = code
    return marks


def _cases() -> list[tuple[Path, int, str]]:
    """(fixture, PostgreSQL version, snapshot name) for every rule fixture."""
    cases = []
    for fixture in CASES:
        versions = VERSIONS.get(fixture.stem)
        if versions:
            cases += [(fixture, v, f"{fixture.stem}.pg{v}.expected") for v in versions]
        else:
            header = re.search(r"pg_version:\s*(\d+)", fixture.read_text().splitlines()[0])
            cases.append(
                (fixture, int(header.group(1)) if header else 14, f"{fixture.stem}.expected")
            )
    return cases


def _statement_of(line: int, text: str) -> int:
    for index, stmt in enumerate(split(text).statements):
        if stmt.line <= line <= stmt.end_line:
            return index
    raise AssertionError(f"no statement at line {line}")


@pytest.mark.parametrize(("fixture", "version", "snapshot"), _cases(), ids=lambda c: str(c))
def test_rule_fixture(fixture: Path, version: int, snapshot: str) -> None:
    text = fixture.read_text()
    rule = import_module(f"expandcontract.linters.{fixture.stem}").RULE
    ruleset = RuleSet(rules=[rule], catalogue=RULES, pg_version=version)
    findings, count = lint_sql(text, fixture.name, ruleset)

    flagged = {_statement_of(f.line, text): f.code for f in findings}
    assert flagged == _expected(text, version), "\n" + render(Report(findings, 1, count))

    snapshot = FIXTURES / snapshot
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
