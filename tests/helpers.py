"""Small helpers shared by the tests."""

from __future__ import annotations

from expandcontract.lint.engine import RuleSet, lint_sql
from expandcontract.lint.finding import Finding
from expandcontract.linters import BY_CODE, LOOKUP, RULES


def lint(sql: str, *rules: str, **settings) -> list[Finding]:
    """Lint ``sql`` with the named rules (all when none are named)."""
    chosen = [BY_CODE[LOOKUP[r]] for r in rules] if rules else list(RULES)
    return lint_sql(sql, "m.sql", RuleSet(rules=chosen, catalogue=RULES, **settings))[0]


def codes(sql: str, *rules: str, **settings) -> list[str]:
    return [f.code for f in lint(sql, *rules, **settings)]


def full_statements(text: str):
    """Every statement of ``text`` as the full reader sees it: sqlglot's tokens, none
    settled from its text by the plain shapes."""
    from expandcontract.sql.postgres import split as split_module

    comments: list = []
    lines = split_module.LineIndex(text)
    items = split_module._pieces(text, len(text), lines, comments)
    for item in split_module._group(items, len(text)):
        if isinstance(item, tuple):
            yield split_module._statement(text, lines, *item)


def judged(ops: list) -> list:
    """A statement's operations less what the statement table adds beside the readers'
    (``statement`` ops marked ``covered``): what the plain shapes and the full reader must
    agree on."""
    return [op for op in ops if not (op.kind == "statement" and op.has("covered"))]
