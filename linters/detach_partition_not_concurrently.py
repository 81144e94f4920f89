"""
## What it does
Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` (or `FINALIZE`).

## Why is this bad?
A plain detach takes ACCESS EXCLUSIVE on the partitioned parent: every read
and write of every partition waits while it waits for and holds the lock.

## Example
```sql
ALTER TABLE measurements DETACH PARTITION measurements_2020;
```

## Use instead
```sql
ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY;  -- PostgreSQL 14+
```
outside a transaction block.

## With Alembic
```python
with op.get_context().autocommit_block():
    op.execute("ALTER TABLE measurements DETACH PARTITION measurements_2020 CONCURRENTLY")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.concurrently or op.lock != "ACCESS EXCLUSIVE" or ctx.is_new(op):
        return
    hint = None
    if ctx.pg_version < 14:
        hint = "DETACH ... CONCURRENTLY needs PostgreSQL 14; before it, use a maintenance window."
    yield Violation(
        f"DETACH PARTITION takes ACCESS EXCLUSIVE on {op.table}: every query on the "
        "partitioned table waits",
        hint,
    )


RULE = Rule(
    code="EC408",
    name="detach-partition-not-concurrently",
    severity="error",
    summary="DETACH PARTITION without CONCURRENTLY locks the parent",
    hint="Use DETACH PARTITION ... CONCURRENTLY (PostgreSQL 14+), outside a transaction block.",
    kinds=frozenset({"detach_partition"}),
    doc=__doc__,
    check=check,
)
