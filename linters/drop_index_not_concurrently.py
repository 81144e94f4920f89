"""
## What it does
Flags `DROP INDEX` without `CONCURRENTLY` of an index on an existing table.

## Why is this bad?
A plain `DROP INDEX` takes ACCESS EXCLUSIVE on the index's table. The drop is
quick, but waiting for that lock queues every read and write of the table
behind the slowest running query.

## Example
```sql
DROP INDEX ix_orders_customer;
```

## Use instead
```sql
DROP INDEX CONCURRENTLY IF EXISTS ix_orders_customer;  -- outside a transaction block
```

## With Alembic
```python
with op.get_context().autocommit_block():
    op.drop_index("ix_orders_customer", table_name="orders", postgresql_concurrently=True)
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.concurrently or ctx.is_new(op):
        return
    yield Violation(
        f"DROP INDEX {op.name} takes ACCESS EXCLUSIVE on its table, blocking every read and "
        "write while it waits and runs",
    )


RULE = Rule(
    code="EC303",
    name="drop-index-not-concurrently",
    severity="error",
    summary="DROP INDEX without CONCURRENTLY takes ACCESS EXCLUSIVE",
    hint="Use DROP INDEX CONCURRENTLY, outside a transaction block.",
    kinds=frozenset({"drop_index"}),
    doc=__doc__,
    check=check,
)
