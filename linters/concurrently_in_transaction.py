"""
## What it does
Flags `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX ...
CONCURRENTLY` and `DETACH PARTITION ... CONCURRENTLY` inside a transaction
block (an explicit `BEGIN`, or a file your tool runs in one transaction:
`assume_in_transaction = true`).

## Why is this bad?
PostgreSQL refuses them: "cannot run inside a transaction block". The
migration fails at deploy time, after everything before it in the transaction
has already waited for and taken its locks.

## Example
```sql
BEGIN;
CREATE INDEX CONCURRENTLY ix_orders_customer ON orders (customer_id);
COMMIT;
```

## Use instead
```sql
COMMIT;  -- end the transaction first
CREATE INDEX CONCURRENTLY ix_orders_customer ON orders (customer_id);
```

## With Alembic
```python
with op.get_context().autocommit_block():
    op.create_index("ix_orders_customer", "orders", ["customer_id"],
                    postgresql_concurrently=True)
```
"""

from expandcontract.lint.rule import Rule, Violation

_WHAT = {
    "create_index": "CREATE INDEX CONCURRENTLY",
    "drop_index": "DROP INDEX CONCURRENTLY",
    "reindex": "REINDEX CONCURRENTLY",
    "detach_partition": "DETACH PARTITION CONCURRENTLY",
    "refresh_matview": None,  # REFRESH ... CONCURRENTLY is allowed in a transaction
}


def check(op, ctx):
    what = _WHAT.get(op.kind)
    if not (op.concurrently and ctx.in_transaction and what) or op.has("in_block"):
        return  # in a DO block or routine: statement-fails says so
    yield Violation(f"{what} cannot run inside a transaction block: PostgreSQL rejects it")


RULE = Rule(
    code="EC302",
    name="concurrently-in-transaction",
    severity="error",
    summary="CONCURRENTLY inside a transaction block fails",
    hint="Run it outside the transaction (COMMIT first; in Alembic, inside autocommit_block()).",
    kinds=frozenset(_WHAT),
    doc=__doc__,
    check=check,
)
