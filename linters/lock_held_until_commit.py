"""
## What it does
In a transaction (an explicit `BEGIN`, a file run in one transaction, an
Alembic revision), flags a long statement (one that reads every row of a
table: `VALIDATE CONSTRAINT`, `CREATE TABLE ... AS` / `SELECT ... INTO` /
`INSERT ... SELECT` copying an existing table, `REFRESH MATERIALIZED VIEW`,
even `CONCURRENTLY`, an `UPDATE` or `DELETE` of an existing table whose
`WHERE` is not a lookup by value, such as `WHERE c IS NULL`) that runs after
an earlier statement of the same transaction took a lock that blocks writes
(SHARE or stronger) on an existing table.

## Why is this bad?
PostgreSQL holds every lock until the transaction ends. Each statement alone
is fine (`ADD COLUMN` is catalog-only, `VALIDATE` lets reads and writes go
on), but together the ACCESS EXCLUSIVE of the first is held for the whole scan
of the second: the table is down for as long as the scan takes.

## Example
```sql
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
COMMIT;
```

## Use instead
```sql
BEGIN;
ALTER TABLE orders ADD COLUMN note text;
COMMIT;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
```

## With Alembic
Put the long statement in its own revision (with `transaction_per_migration=True`
in `env.py`), or inside `with op.get_context().autocommit_block():`.
"""

from expandcontract.lint.rule import Rule, Violation
from expandcontract.sql.postgres.facts import LOCK_ORDER, SHARE

_BLOCKS_WRITES = LOCK_ORDER.index(SHARE)


def _work(op, ctx) -> str | None:
    """What makes ``op`` long, or None."""
    if op.kind == "validate_constraint":
        if (op.table, op.name) in ctx.not_valid_pending:
            return None  # validate-in-same-transaction says so
        return f"validating {op.name} reads every row of {op.table}"
    if op.kind == "refresh_matview":
        return f"refreshing {op.table} runs its whole query"
    if op.kind in ("update", "delete") and op.has("where") and not op.has("point"):
        if op.table in ctx.new_tables:
            return None
        verb = "updating" if op.kind == "update" else "deleting"
        return f"{verb} rows of {op.table} by a condition that is no lookup reads all of it"
    if (op.kind == "create_table" and op.has("as_query")) or op.kind == "copy_rows":
        source = op.ref_table
        if source and source not in ctx.new_tables:
            return f"copying the rows of {source} into {op.table} reads all of them"
    return None


def check(op, ctx):
    if not ctx.in_transaction or not ctx.held:
        return
    work = _work(op, ctx)
    if work is None:
        return
    table, (lock, what) = max(ctx.held.items(), key=lambda item: LOCK_ORDER.index(item[1][0]))
    if LOCK_ORDER.index(lock) < _BLOCKS_WRITES:
        return
    blocked = "every query" if lock == LOCK_ORDER[-1] else "every write"
    yield Violation(
        f"{lock} on {table}, taken earlier in this transaction ({what}), is held until "
        f"COMMIT: {blocked} on {table} waits while {work}"
    )


RULE = Rule(
    code="EC502",
    name="lock-held-until-commit",
    severity="error",
    summary="Long statement in a transaction that already holds a blocking lock",
    hint="COMMIT after the statement that takes the lock; run the long one in its own transaction.",
    kinds=frozenset(
        {"validate_constraint", "refresh_matview", "create_table", "copy_rows", "update", "delete"}
    ),
    doc=__doc__,
    check=check,
)
