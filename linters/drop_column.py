"""
## What it does
Flags `ALTER TABLE ... DROP COLUMN` on an existing table.

## Why is this bad?
The drop itself is quick (catalog only, under ACCESS EXCLUSIVE), but the
application version still running reads and writes the column: its queries
fail from the moment the migration commits. And the data is gone: a rollback
cannot bring it back.

## Example
```sql
ALTER TABLE users DROP COLUMN legacy_flags;
```

## Use instead
Stop reading and writing the column in the application first; drop it in the
contract phase, once no old version runs, with a downgrade that restores it.
In a plain SQL migration, suppress with the reason once that is true:
```sql
-- expandcontract: ignore drop-column -- unused since v42
ALTER TABLE users DROP COLUMN legacy_flags;
```

## With Alembic
`op.drop_column(...)` in a revision on the `contract` branch
(`expandcontract new drop-column users legacy_flags -m "..."`).
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new_column(op) or ctx.removal_expected:
        return
    yield Violation(
        f"dropping {op.table}.{op.column} breaks the application version still running "
        "and loses its data",
    )


RULE = Rule(
    code="EC108",
    name="drop-column",
    severity="error",
    summary="DROP COLUMN breaks running code and loses data",
    hint="Drop it in the contract phase, once no running version uses it.",
    kinds=frozenset({"drop_column"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
