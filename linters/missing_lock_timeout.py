"""
## What it does
Warns when a statement that takes an ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE
lock on an existing table runs without `SET lock_timeout` before it.

## Why is this bad?
Even a catalog-only change (`ADD COLUMN`, `SET DEFAULT`, `CREATE TRIGGER`)
must wait for its lock behind every running query on the table: a ten-minute
report, a session idle in transaction. While it waits, every later query on
the table, reads included, queues behind it. The table is down for as long as
the slowest running query. A short `lock_timeout` makes the statement give up
instead, so it can be retried a moment later. It is reported once, at the
first statement that needs it.

## Example
```sql
ALTER TABLE users ADD COLUMN nickname text;
```

## Use instead
```sql
SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN nickname text;
```
and retry the migration on SQLSTATE 55P03 (lock_not_available).

## With Alembic
```python
op.execute("SET lock_timeout = '2s'")
op.add_column("users", sa.Column("nickname", sa.Text()))
```
(`expandcontract upgrade` sets it and retries for you.)
"""

from expandcontract.lint.rule import Rule, Violation
from expandcontract.sql.postgres.facts import AE, SRE


def check(op, ctx):
    if ctx.lock_timeout or ctx.lock_timeout_warned:
        return
    if op.kind == "create_table" and op.has("partition_of") and op.ref_table:
        # a new partition takes ACCESS EXCLUSIVE on its parent, an existing table
        if op.ref_table in ctx.new_tables:
            return
        ctx.lock_timeout_warned = True
        yield Violation(
            f"a new partition takes {AE} on its parent {op.ref_table} with no lock_timeout "
            f"set: while it waits for the lock, every query on {op.ref_table} queues behind it"
        )
        return
    if op.lock not in (AE, SRE):
        return
    if (op.table is None and op.name is None) or ctx.is_new(op):
        return
    target = _relation(op, ctx)
    if target is None:  # a type, domain or schema: no query waits on its lock
        return
    ctx.lock_timeout_warned = True
    yield Violation(
        f"takes {op.lock} on {target} with no lock_timeout set: while it waits for the "
        f"lock, every query on {target} queues behind it"
    )


def _relation(op, ctx) -> str | None:
    """What the queries that queue behind the lock read: the table (an index's table, not
    the index), a view or a sequence; None when no query waits on it."""
    if op.table:
        return op.table
    if op.kind in ("drop_object", "rename_object"):
        if op.value in ("view", "materialized view", "sequence"):
            return f"{op.value} {op.name}"
        return None
    return ctx.index_table(op.name) or f"the table of index {op.name}"


RULE = Rule(
    code="EC004",
    name="missing-lock-timeout",
    severity="warning",
    summary="Exclusive lock on an existing table without SET lock_timeout",
    hint="Put SET lock_timeout = '2s' before it and retry on SQLSTATE 55P03.",
    doc=__doc__,
    check=check,
)
