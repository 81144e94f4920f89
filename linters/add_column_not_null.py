"""
## What it does
Flags `ADD COLUMN ... NOT NULL` without a default on an existing table.

## Why is this bad?
Existing rows would get NULL in a NOT NULL column, so the statement fails on
any table that has rows, after waiting for its ACCESS EXCLUSIVE lock. It also
breaks the application version still running: its INSERTs do not name the new
column.

## Example
```sql
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
```

## Use instead
Either a constant default (catalog only on PostgreSQL 11+):
```sql
ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL DEFAULT 0;
```
or the phased recipe: add it nullable, backfill in batches, then
```sql
ALTER TABLE users ADD CONSTRAINT users_tenant_id_not_null CHECK (tenant_id IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_tenant_id_not_null;
ALTER TABLE users ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_tenant_id_not_null;
```

## With Alembic
`expandcontract new add-column users tenant_id bigint --not-null --backfill "..."`
writes the phases; by hand, `op.add_column(..., nullable=True)` then the recipe.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if not op.has("not_null") or op.default is not None or ctx.is_new(op):
        return
    if op.has("serial") or op.has("identity") or op.has("primary_key"):
        return  # those fill the column themselves; other rules judge them
    if op.has("generated_stored"):
        return
    yield Violation(
        f"NOT NULL column {op.column} has no default: it fails on a non-empty {op.table} "
        "and breaks INSERTs of the application version still running",
    )


RULE = Rule(
    code="EC105",
    name="add-column-not-null-without-default",
    severity="error",
    summary="ADD COLUMN ... NOT NULL without a default",
    hint="Give it a constant DEFAULT, or add it nullable, backfill, then use the NOT NULL "
    "recipe (CHECK ... NOT VALID, VALIDATE, SET NOT NULL).",
    kinds=frozenset({"add_column"}),
    doc=__doc__,
    check=check,
)
