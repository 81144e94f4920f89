"""Hostile input for the linter: generated PostgreSQL migration SQL and mutations of it.

Properties, for every script: no exception escapes; every finding is at a line inside the
file; every statement whose first word a rule judges is either judged or reported as EC001
at its own line; and the statement count matches an independent split by psql's rules.
A fixed seed keeps the fast tier reproducible; `pytest -m slow` runs a larger one.
"""

from __future__ import annotations

import random
import time

import pytest

from expandcontract.lint.engine import PARSE_ERROR, RuleSet, lint_sql
from expandcontract.linters import RULES
from expandcontract.sql.postgres.split import split
from expandcontract.sql.postgres.statements import analyze
from tests.fuzz_sql import JUDGED, mutate, psql_statements, script

RULESET = RuleSet(rules=list(RULES), catalogue=RULES)
# CREATE FUNCTION or TRIGGER, and a plain VACUUM, are rightly not judged
MUST_HAVE_OPS = JUDGED - {"CREATE", "VACUUM"}


def check(text: str) -> None:
    started = time.monotonic()
    findings, count = lint_sql(text, "fuzz.sql", RULESET)
    assert time.monotonic() - started < 20, "no input may take this long"
    lines = text.count("\n") + 1
    assert all(1 <= f.line <= lines for f in findings), [f for f in findings if f.line > lines]
    assert count == psql_statements(text), (count, psql_statements(text), text[:500])
    unread = {f.line for f in findings if f.code == PARSE_ERROR}
    for stmt in split(text).statements:
        if stmt.keyword not in MUST_HAVE_OPS:
            continue
        try:
            ops = analyze(stmt)
        except Exception:
            assert stmt.line in unread, stmt.text[:200]
        else:
            assert ops, f"{stmt.text[:200]!r} was read, and judged nothing"


def cases(seed: int, scripts: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(scripts):
        text = script(rng, rng.randrange(1, 12))
        for _ in range(rng.randrange(0, 4)):
            text = mutate(rng, text)
        out.append(text)
    return out


FAST = cases(20261126, 400)


@pytest.mark.parametrize("index", range(0, len(FAST), 50), ids=lambda i: f"scripts {i}-{i + 49}")
def test_generated_and_mutated_sql(index: int) -> None:
    for text in FAST[index : index + 50]:
        check(text)


def test_every_form_is_read_and_judged_alone() -> None:
    from tests.fuzz_sql import FORMS

    for form in FORMS:
        check(form.format(t="users", c="email") + ";\n")


@pytest.mark.slow
def test_a_larger_run() -> None:
    for text in cases(7, 20_000):
        check(text)
