"""
## What it does
Flags `ALTER COLUMN ... SET NOT NULL` (and, on PostgreSQL 18, `ADD CONSTRAINT
... NOT NULL col` without `NOT VALID`, which scans the same way) on an existing
table unless a validated `CHECK (column IS NOT NULL)` constraint (on 18, a
validated NOT NULL constraint) on that column was established earlier in the
migration.

## Why is this bad?
PostgreSQL scans the whole table to prove there is no NULL, holding ACCESS
EXCLUSIVE: no reads or writes for the length of the scan. From PostgreSQL 12
the scan is skipped when a valid `CHECK (c IS NOT NULL)` already exists.

## Example
```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
```

## Use instead
```sql
ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;   -- new transaction
ALTER TABLE users ALTER COLUMN email SET NOT NULL;              -- no scan on PostgreSQL 12+
ALTER TABLE users DROP CONSTRAINT users_email_not_null;
```

## With Alembic
```python
op.create_check_constraint("users_email_not_null", "users", "email IS NOT NULL",
                           postgresql_not_valid=True)
op.execute("ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null")  # next transaction
op.alter_column("users", "email", nullable=False)
op.drop_constraint("users_email_not_null", "users")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    if op.kind == "add_constraint" and (  # PostgreSQL 18's named NOT NULL constraint
        op.constraint != "not_null" or op.not_valid or ctx.pg_version < 18
    ):
        return
    if ctx.pg_version >= 12 and (op.table, op.column) in ctx.valid_not_null:
        return
    yield Violation(
        f"SET NOT NULL on {op.table}.{op.column} scans the whole table under ACCESS "
        "EXCLUSIVE, blocking every read and write",
    )


RULE = Rule(
    code="EC112",
    name="set-not-null",
    severity="error",
    summary="SET NOT NULL scans the table under ACCESS EXCLUSIVE",
    hint="Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in its own transaction, then "
    "SET NOT NULL and drop the check.",
    kinds=frozenset({"set_not_null", "add_constraint"}),
    doc=__doc__,
    check=check,
)
