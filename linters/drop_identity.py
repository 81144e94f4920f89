"""
## What it does
Flags `ALTER TABLE ... ALTER COLUMN c DROP IDENTITY` on an existing table.

## Why is this bad?
The column keeps its NOT NULL but loses the sequence that numbered it: every
insert of the application version still running, which leaves the key to the
database, fails with a NOT NULL violation as soon as the change commits.

## Example
```sql
ALTER TABLE orders ALTER COLUMN id DROP IDENTITY;
```

## Use instead
Give the column a default first (`SET DEFAULT nextval(...)` on a sequence of
its own, set past the current maximum), or switch the application to supplying
the key itself, and drop the identity in the contract phase.

## With Alembic
`op.execute(...)` on the `contract` branch, after the default is in place.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or ctx.removal_expected:
        return
    yield Violation(
        f"dropping the identity of {op.table}.{op.column} makes every insert that leaves the "
        "key to the database fail",
    )


RULE = Rule(
    code="EC113",
    name="drop-identity",
    severity="error",
    summary="DROP IDENTITY fails the running version's inserts",
    hint="Give the column a default (or have the app supply keys) first; drop in contract.",
    kinds=frozenset({"drop_identity"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
