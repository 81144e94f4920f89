"""
## What it does
Flags `VACUUM FULL` and `CLUSTER` in a migration.

## Why is this bad?
Both rewrite the whole table under ACCESS EXCLUSIVE: no reads or writes for as
long as the copy and the index rebuilds take.

## Example
```sql
VACUUM FULL orders;
CLUSTER orders USING orders_pkey;
```

## Use instead
Plain `VACUUM` (no exclusive lock), or an online repack tool such as
pg_repack or pg_squeeze, outside the deploy.

## With Alembic
Keep table maintenance out of revisions.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    what = "VACUUM FULL" if op.kind == "vacuum_full" else "CLUSTER"
    target = op.table or "every table"
    yield Violation(f"{what} rewrites {target} under ACCESS EXCLUSIVE, blocking every query")


RULE = Rule(
    code="EC406",
    name="vacuum-full-or-cluster",
    severity="error",
    summary="VACUUM FULL / CLUSTER rewrite the table under ACCESS EXCLUSIVE",
    hint="Use plain VACUUM, or an online repack tool outside the deploy.",
    kinds=frozenset({"vacuum_full", "cluster"}),
    doc=__doc__,
    check=check,
)
