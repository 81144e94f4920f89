"""
## What it does
Flags a statement that, by PostgreSQL's statement table, rewrites, scans or
builds over an existing relation while holding a lock that blocks its writes
(SHARE or stronger), where no more specific rule already says so:
`ALTER TABLE ... ALTER COLUMN ... SET EXPRESSION` (a rewrite), `ALTER INDEX
... SET TABLESPACE`, `ALTER TABLE ... INHERIT` (a scan of the child), a
`CREATE TABLE ... PARTITION OF` a table with a populated default partition
(scanned under ACCESS EXCLUSIVE), `ALTER SEQUENCE ... SET LOGGED`.

## Why is this bad?
The lock is held for the whole of the work: every write (and with ACCESS
EXCLUSIVE every read) of the relation waits until it is done.

## Example
```sql
ALTER TABLE orders ALTER COLUMN total_cents SET EXPRESSION AS (qty * price_cents);
```

## Use instead
A new column filled in batches, switched to, and the old one dropped later
(expand / migrate / switch / contract).

## With Alembic
`expandcontract new` writes the phases of the change.
"""

from expandcontract.lint.rule import Rule, Violation
from expandcontract.sql.postgres.facts import LOCK_ORDER, SHARE
from expandcontract.sql.postgres.statement_table import BUILD, BY_KEY, REWRITE, SCAN

_WORK = {REWRITE: "rewrites", SCAN: "reads every row of", BUILD: "builds an index over"}


def check(op, ctx):
    if op.kind == "create_table":
        yield from _partition(op, ctx)
        return
    if op.has("covered") or op.lock is None or op.value is None or ctx.is_new(op):
        return
    entry = BY_KEY[op.value]
    if entry.key.startswith("ALTER SEQUENCE"):
        return  # a sequence is one row: writing it anew costs nothing
    if entry.work not in _WORK or LOCK_ORDER.index(op.lock) < LOCK_ORDER.index(SHARE):
        return
    target = op.table or op.name or "the relation"
    yield Violation(
        f"{entry.key} {_WORK[entry.work]} {target} holding {op.lock}: "
        f"{'every query' if op.lock == LOCK_ORDER[-1] else 'every write'} on it waits "
        "until it is done"
    )


def _partition(op, ctx):
    if not op.has("partition_of") or op.has("default_partition"):
        return
    default = ctx.default_partitions.get(op.ref_table or "")
    if default is None or default in ctx.new_tables:
        return  # no default partition from before this migration: nothing to scan
    yield Violation(
        f"a new partition of {op.ref_table} makes PostgreSQL scan its default partition "
        f"{default} under ACCESS EXCLUSIVE, to prove no row of the new range is there",
        "Detach the default partition (CONCURRENTLY), create the partition, move its rows "
        "over in batches, then attach the default partition back with a matching CHECK.",
    )


RULE = Rule(
    code="EC413",
    name="blocking-statement",
    severity="error",
    summary="Statement that rewrites or scans a relation under a lock that blocks writes",
    hint="Build the new shape beside the old one (expand / migrate / switch / contract).",
    kinds=frozenset({"statement", "alter_table_other", "create_table"}),
    doc=__doc__,
    check=check,
)
