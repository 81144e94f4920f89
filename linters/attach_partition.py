"""
## What it does
Flags `ALTER TABLE ... ATTACH PARTITION` of a table that existed before the
migration (an error: the scan below happens under ACCESS EXCLUSIVE on it).

## Why is this bad?
Attaching takes SHARE UPDATE EXCLUSIVE on the parent (reads and writes go on)
but ACCESS EXCLUSIVE on the partition, and scans the whole partition to check
the partition bound, unless a valid CHECK constraint matching the bound
already exists. The rule stays silent when the migration validates a CHECK
on the partition before attaching it (it does not compare the expression
with the bound).

## Example
```sql
ALTER TABLE measurements ATTACH PARTITION measurements_2025
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
```

## Use instead
```sql
ALTER TABLE measurements_2025 ADD CONSTRAINT m2025_bound
    CHECK (ts >= '2025-01-01' AND ts < '2026-01-01') NOT VALID;
ALTER TABLE measurements_2025 VALIDATE CONSTRAINT m2025_bound;
ALTER TABLE measurements ATTACH PARTITION measurements_2025
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');          -- no scan now
ALTER TABLE measurements_2025 DROP CONSTRAINT m2025_bound;
```

## With Alembic
The same statements through `op.execute()`, the VALIDATE in a later transaction.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    # the scan is of the partition: one created in this migration is empty
    if op.name in ctx.new_tables or op.name in ctx.checked_tables:
        return
    yield Violation(
        f"ATTACH PARTITION on {op.table} scans the partition under ACCESS EXCLUSIVE unless a "
        "validated CHECK matching the bound exists",
    )


RULE = Rule(
    code="EC409",
    name="attach-partition",
    severity="error",
    summary="ATTACH PARTITION scans the partition unless a matching CHECK exists",
    hint="Add a CHECK matching the bound NOT VALID and VALIDATE it before attaching.",
    kinds=frozenset({"attach_partition"}),
    doc=__doc__,
    check=check,
)
