"""
## What it does
Flags `ADD COLUMN ... UNIQUE` or `ADD COLUMN ... PRIMARY KEY` on an existing
table.

## Why is this bad?
The constraint needs an index, built (a full scan and sort) while the ACCESS
EXCLUSIVE lock of the ALTER is held: no reads or writes of the table for the
whole build.

## Example
```sql
ALTER TABLE users ADD COLUMN handle text UNIQUE;
```

## Use instead
```sql
ALTER TABLE users ADD COLUMN handle text;
CREATE UNIQUE INDEX CONCURRENTLY users_handle_key ON users (handle);  -- outside a transaction
ALTER TABLE users ADD CONSTRAINT users_handle_key UNIQUE USING INDEX users_handle_key;
```

## With Alembic
```python
op.add_column("users", sa.Column("handle", sa.Text()))
with op.get_context().autocommit_block():
    op.create_index("users_handle_key", "users", ["handle"], unique=True,
                    postgresql_concurrently=True)
op.execute("ALTER TABLE users ADD CONSTRAINT users_handle_key UNIQUE USING INDEX users_handle_key")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    for flag, what in (("primary_key", "PRIMARY KEY"), ("unique", "UNIQUE")):
        if op.has(flag):
            yield Violation(
                f"{what} on new column {op.column} builds an index while ACCESS EXCLUSIVE "
                f"is held on {op.table}: every read and write waits for the build",
            )


RULE = Rule(
    code="EC106",
    name="add-column-unique",
    severity="error",
    summary="ADD COLUMN ... UNIQUE / PRIMARY KEY builds an index under ACCESS EXCLUSIVE",
    hint="Add the column plain, CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... "
    "USING INDEX.",
    kinds=frozenset({"add_column"}),
    doc=__doc__,
    check=check,
)
