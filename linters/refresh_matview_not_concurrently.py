"""
## What it does
Flags `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.

## Why is this bad?
The refresh recomputes the view under ACCESS EXCLUSIVE on it: every read of
the view waits for the whole recomputation.

## Example
```sql
REFRESH MATERIALIZED VIEW daily_totals;
```

## Use instead
```sql
REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;
```
It needs a unique index on the view and takes EXCLUSIVE, which lets reads go on.

## With Alembic
`op.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals")`
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.concurrently or ctx.is_new(op):
        return
    yield Violation(
        f"refreshing {op.table} holds ACCESS EXCLUSIVE on it: every read of the view waits",
    )


RULE = Rule(
    code="EC407",
    name="refresh-materialized-view-not-concurrently",
    severity="error",
    summary="REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads",
    hint="Use REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view).",
    kinds=frozenset({"refresh_matview"}),
    doc=__doc__,
    check=check,
)
