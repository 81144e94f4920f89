"""Small helpers shared by the tests."""

from __future__ import annotations

from expandcontract.lint.engine import RuleSet, lint_sql
from expandcontract.lint.finding import Finding
from expandcontract.linters import BY_CODE, LOOKUP, RULES


def lint(sql: str, *rules: str, **settings) -> list[Finding]:
    """Lint ``sql`` with the named rules (all when none are named)."""
    chosen = [BY_CODE[LOOKUP[r]] for r in rules] if rules else list(RULES)
    return lint_sql(sql, "m.sql", RuleSet(rules=chosen, **settings))[0]


def codes(sql: str, *rules: str, **settings) -> list[str]:
    return [f.code for f in lint(sql, *rules, **settings)]
