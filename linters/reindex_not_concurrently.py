"""
## What it does
Flags `REINDEX` without `CONCURRENTLY`.

## Why is this bad?
`REINDEX INDEX` takes ACCESS EXCLUSIVE on the index (queries that would use it
block) and SHARE on its table (writes block); `REINDEX TABLE` does the same for
every index of the table, for the whole rebuild.

## Example
```sql
REINDEX TABLE orders;
```

## Use instead
```sql
REINDEX TABLE CONCURRENTLY orders;  -- PostgreSQL 12+, outside a transaction block
```

## With Alembic
```python
with op.get_context().autocommit_block():
    op.execute("REINDEX TABLE CONCURRENTLY orders")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.concurrently or ctx.is_new(op):
        return
    target = f"{op.value or ''} {op.name or ''}".strip()
    yield Violation(
        f"REINDEX {target} rebuilds under ACCESS EXCLUSIVE on the index and SHARE on the "
        "table: queries using it and all writes wait",
    )


RULE = Rule(
    code="EC304",
    name="reindex-not-concurrently",
    severity="error",
    summary="REINDEX without CONCURRENTLY blocks the table",
    hint="Use REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside a transaction block.",
    kinds=frozenset({"reindex"}),
    doc=__doc__,
    check=check,
)
