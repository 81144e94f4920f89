"""
## What it does
Flags `ADD CONSTRAINT ... UNIQUE` or `PRIMARY KEY` on an existing table that
does not reuse a prebuilt index (`USING INDEX`).

## Why is this bad?
The constraint's index is built (a full scan and sort) under ACCESS EXCLUSIVE:
no reads or writes of the table for the whole build.

## Example
```sql
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
```

## Use instead
```sql
CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);  -- outside a transaction
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
```

## With Alembic
```python
with op.get_context().autocommit_block():
    op.create_index("users_email_key", "users", ["email"], unique=True,
                    postgresql_concurrently=True)
op.execute("ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.constraint not in ("unique", "primary_key") or op.has("using_index"):
        return
    if ctx.is_new(op):
        return
    what = "PRIMARY KEY" if op.constraint == "primary_key" else "UNIQUE"
    yield Violation(
        f"{what} constraint {op.name or ''} builds its index under ACCESS EXCLUSIVE on "
        f"{op.table}: every read and write waits for the build".replace("  ", " "),
    )


RULE = Rule(
    code="EC203",
    name="add-unique-constraint",
    severity="error",
    summary="UNIQUE / PRIMARY KEY constraint builds its index under ACCESS EXCLUSIVE",
    hint="CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... USING INDEX.",
    kinds=frozenset({"add_constraint"}),
    doc=__doc__,
    check=check,
)
