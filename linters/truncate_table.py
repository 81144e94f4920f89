"""
## What it does
Flags `TRUNCATE` of an existing table.

## Why is this bad?
`TRUNCATE` takes ACCESS EXCLUSIVE and deletes every row at once: it breaks the
running application and no downgrade can restore the data. It has no place in
a schema migration.

## Example
```sql
TRUNCATE audit_log;
```

## Use instead
Delete in committed key-range batches if the data must go, outside the deploy:
```sql
DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE id > 0 ORDER BY id LIMIT 1000);
```

## With Alembic
Do not truncate in a revision; run a batched job instead.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    yield Violation(f"TRUNCATE {op.table} takes ACCESS EXCLUSIVE and destroys every row")


RULE = Rule(
    code="EC403",
    name="truncate-table",
    severity="error",
    summary="TRUNCATE destroys data under ACCESS EXCLUSIVE",
    hint="Never truncate in a migration; delete in committed batches outside the deploy.",
    kinds=frozenset({"truncate"}),
    doc=__doc__,
    check=check,
)
