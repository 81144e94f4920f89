"""
## What it does
Flags `ADD COLUMN` with a volatile default: `random()`, `gen_random_uuid()`,
`clock_timestamp()`, `uuid_generate_v4()`, `nextval()`, and so `serial` /
`bigserial`, or any function PostgreSQL cannot know to be stable.

## Why is this bad?
A volatile default gives every existing row its own value, so PostgreSQL
rewrites the whole table (and rebuilds every index) under an ACCESS EXCLUSIVE
lock: no read or write of the table until it finishes, on every version.
Constant and stable defaults (`0`, `'x'`, `now()`) are stored once in the
catalog instead (PostgreSQL 11 and later).

## Example
```sql
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN seq bigserial;
```

## Use instead
```sql
ALTER TABLE orders ADD COLUMN token uuid;                               -- catalog only
ALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();    -- new rows only
-- backfill existing rows in committed key-range batches
UPDATE orders SET token = gen_random_uuid()
WHERE id IN (SELECT id FROM orders WHERE id > 0 AND token IS NULL ORDER BY id LIMIT 1000);
```

## With Alembic
```python
op.add_column("orders", sa.Column("token", postgresql.UUID()))
op.alter_column("orders", "token", server_default=sa.text("gen_random_uuid()"))
op.backfill("orders", "token", "gen_random_uuid()")  # expandcontract's batched backfill
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.default != "volatile" or ctx.is_new(op):
        return
    if op.calls and all(ctx.functions.get(f) in ("immutable", "stable") for f in op.calls):
        return  # functions this migration created IMMUTABLE or STABLE: evaluated once
    yield Violation(
        f"column {op.column} gets a volatile default ({op.default_sql}): PostgreSQL rewrites "
        f"all of {op.table} under ACCESS EXCLUSIVE, blocking every read and write",
        f"Add {op.column} without a default, then SET DEFAULT for new rows and backfill "
        "existing rows in batches.",
    )


RULE = Rule(
    code="EC101",
    name="add-column-volatile-default",
    severity="error",
    summary="ADD COLUMN with a volatile default rewrites the table",
    kinds=frozenset({"add_column"}),
    doc=__doc__,
    check=check,
)
