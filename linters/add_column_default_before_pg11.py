"""
## What it does
Flags `ADD COLUMN ... DEFAULT <constant>` when the target PostgreSQL is older
than 11 (`--pg-version` or `pg_version` in the configuration).

## Why is this bad?
Before PostgreSQL 11 any default, even a constant, is written into every
existing row: a full table rewrite under ACCESS EXCLUSIVE, blocking all reads
and writes. From 11 on a constant or stable default is catalog-only and this
rule stays silent.

## Example
```sql
-- pg_version = 10
ALTER TABLE users ADD COLUMN active boolean DEFAULT true;
```

## Use instead
```sql
ALTER TABLE users ADD COLUMN active boolean;
ALTER TABLE users ALTER COLUMN active SET DEFAULT true;
-- then backfill existing rows in batches
```

## With Alembic
```python
op.add_column("users", sa.Column("active", sa.Boolean()))
op.alter_column("users", "active", server_default=sa.true())
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.default != "constant" or ctx.pg_version >= 11 or ctx.is_new(op):
        return
    yield Violation(
        f"column {op.column} gets a default ({op.default_sql}): on PostgreSQL "
        f"{ctx.pg_version} this rewrites all of {op.table} under ACCESS EXCLUSIVE",
        f"Add {op.column} without a default, then SET DEFAULT and backfill in batches.",
    )


RULE = Rule(
    code="EC102",
    name="add-column-default-before-pg11",
    severity="error",
    summary="ADD COLUMN with a default rewrites the table before PostgreSQL 11",
    kinds=frozenset({"add_column"}),
    doc=__doc__,
    check=check,
)
