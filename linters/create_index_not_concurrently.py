"""
## What it does
Flags `CREATE INDEX` without `CONCURRENTLY` on an existing table. `CREATE INDEX
... ON ONLY parent` is not flagged: on a partitioned table it creates the
parent's index alone, invalid and built on no partition, the first step of
indexing a partitioned table without blocking it (then `CREATE INDEX
CONCURRENTLY` on each partition and `ALTER INDEX ... ATTACH PARTITION`).

## Why is this bad?
A plain index build holds a SHARE lock on the table for the whole build: reads
go on, but every INSERT, UPDATE and DELETE waits, for minutes on a large
table.

## Example
```sql
CREATE INDEX ix_orders_customer ON orders (customer_id);
```

## Use instead
```sql
CREATE INDEX CONCURRENTLY ix_orders_customer ON orders (customer_id);
```
outside any transaction block. If it fails it leaves an INVALID index: drop it
(`DROP INDEX CONCURRENTLY`) and run it again.

## With Alembic
```python
with op.get_context().autocommit_block():
    op.create_index("ix_orders_customer", "orders", ["customer_id"],
                    postgresql_concurrently=True)
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.concurrently or ctx.is_new(op):
        return
    if op.has("only"):  # a partitioned parent's index alone: catalog-only, builds nothing
        return
    index = f"index {op.name}" if op.name else "an index"
    yield Violation(
        f"building {index} on {op.table} holds SHARE: every write to {op.table} waits "
        "for the whole build",
    )


RULE = Rule(
    code="EC301",
    name="create-index-not-concurrently",
    severity="error",
    summary="CREATE INDEX without CONCURRENTLY blocks writes",
    hint="Use CREATE INDEX CONCURRENTLY, outside a transaction block.",
    kinds=frozenset({"create_index"}),
    doc=__doc__,
    check=check,
)
