"""
## What it does
Flags `DROP TABLE` (and `DROP MATERIALIZED VIEW`) of an existing table.

## Why is this bad?
It takes ACCESS EXCLUSIVE, breaks the application version still running that
reads the table, and destroys its data: a rollback cannot bring it back.

## Example
```sql
DROP TABLE legacy_sessions;
```

## Use instead
Drop it in the contract phase, once no running version uses it, with a
downgrade that recreates it. In a plain SQL migration, suppress with the reason:
```sql
-- expandcontract: ignore drop-table -- unused since v42, archived to s3
DROP TABLE legacy_sessions;
```

## With Alembic
`op.drop_table(...)` in a revision on the `contract` branch
(`expandcontract new drop-table legacy_sessions -m "..."`).
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or ctx.removal_expected:
        return
    yield Violation(
        f"dropping {op.table} breaks the application version still running and destroys its data",
    )


RULE = Rule(
    code="EC402",
    name="drop-table",
    severity="error",
    summary="DROP TABLE breaks running code and destroys data",
    hint="Drop it in the contract phase, once no running version uses it.",
    kinds=frozenset({"drop_table"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
