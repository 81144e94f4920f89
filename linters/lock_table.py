"""
## What it does
Flags an explicit `LOCK TABLE`.

## Why is this bad?
`LOCK TABLE` without a mode takes ACCESS EXCLUSIVE, and holds whatever it
takes until the transaction ends: every statement after it in the migration
runs with the table blocked.

## Example
```sql
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
```

## Use instead
Take no explicit lock; use the lock-safe form of each statement and
`SET lock_timeout` so each waits only briefly.

## With Alembic
Do not call `op.execute("LOCK TABLE ...")` in a revision.
"""

from expandcontract.lint.rule import Rule, Violation

_HARMLESS = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE")


def check(op, ctx):
    if op.lock in _HARMLESS or ctx.is_new(op):
        return
    yield Violation(
        f"LOCK TABLE {op.table} takes {op.lock} until the transaction ends, blocking "
        "the application for the rest of the migration",
    )


RULE = Rule(
    code="EC410",
    name="lock-table",
    severity="error",
    summary="Explicit LOCK TABLE blocks the table until commit",
    hint="Remove the LOCK; use lock-safe statements with SET lock_timeout.",
    kinds=frozenset({"lock_table"}),
    doc=__doc__,
    check=check,
)
