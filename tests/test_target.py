"""The target (dialect, version) is the one way to the SQL front end and the version."""

from __future__ import annotations

import sys
import types

import pytest

from expandcontract.lint.engine import RuleSet, lint_sql
from expandcontract.linters import BY_CODE, RULES
from expandcontract.sql import target as target_module
from expandcontract.sql.target import Target

SQL = "ALTER TABLE users ADD COLUMN active boolean DEFAULT true;\n"


def test_an_unknown_dialect_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown SQL dialect 'mysql' \\(known: postgresql\\)"):
        Target("mysql", 8)


@pytest.mark.parametrize(("version", "flagged"), [(10, True), (11, False)])
def test_the_rules_read_the_targets_version(version: int, flagged: bool) -> None:
    rule = BY_CODE["EC102"]
    ruleset = RuleSet(rules=[rule], catalogue=RULES, target=Target("postgresql", version))
    findings, _ = lint_sql(SQL, "m.sql", ruleset)
    assert ruleset.pg_version == version
    assert bool(findings) is flagged


def test_the_engine_reads_sql_only_through_the_targets_front_end(monkeypatch) -> None:
    """A second dialect is an entry in DIALECTS: the engine calls its split_script and
    analyze and nothing else (here a front end that records, over PostgreSQL's)."""
    from expandcontract.sql import postgres

    calls: list[str] = []
    front = types.ModuleType("recording_front_end")

    def split_script(text):
        calls.append("split")
        return postgres.split_script(text)

    def analyze(stmt):
        calls.append("analyze")
        return postgres.analyze(stmt)

    front.split_script, front.analyze = split_script, analyze
    monkeypatch.setitem(sys.modules, "recording_front_end", front)
    monkeypatch.setitem(target_module.DIALECTS, "recording", "recording_front_end")
    ruleset = RuleSet(rules=list(RULES), catalogue=RULES, target=Target("recording", 14))
    # one plain statement (settled from its text) and one the full reader takes
    lint_sql(
        SQL + "ALTER TABLE users ALTER COLUMN id TYPE bigint USING id::bigint;\n", "m.sql", ruleset
    )
    assert calls == ["split", "analyze"]
