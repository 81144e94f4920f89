"""
## What it does
In a revision on the `migrate` branch, flags any schema change (DDL). Data
changes there must be batched (`update-without-where` judges that).

## Why is this bad?
Migrate is the long-running, resumable data phase: backfills in committed
key-range batches while both the schema and the application stay as expand
left them. DDL in it holds locks across the backfill, and cannot be resumed.

## Example
```sql
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
```

## Use instead
```sql
UPDATE users SET email_address = email
WHERE id > 0 AND id <= 1000 AND email_address IS NULL;
```
and the NOT NULL in the `switch` revision.

## With Alembic
`op.backfill(...)` in the migrate revision; DDL in expand or switch.
"""

from expandcontract.lint.rule import Rule, Violation

DATA_OR_CONTROL = {
    "update",
    "delete",
    "begin",
    "commit",
    "rollback",
    "set_lock_timeout",
    "set_statement_timeout",
    "lock_table",
    # what the statement table says of a statement (judged by its own rules)
    "statement",
    "unknown_statement",
    # what DO blocks and calls run, around what they run
    "block_begin",
    "block_end",
    "call",
    "dynamic_sql",
    "commit_in_block",
    "copy_rows",
}


def check(op, ctx):
    if ctx.phase != "migrate" or op.kind in DATA_OR_CONTROL or ctx.is_new(op):
        return
    yield Violation(
        f"a migrate revision changes the schema ({op.kind.replace('_', ' ')} on "
        f"{op.table or op.name}): migrate may only move data",
        "Put schema changes in the expand or switch revision.",
    )


RULE = Rule(
    code="EC602",
    name="migrate-phase-violation",
    severity="error",
    summary="Migrate revision that changes the schema",
    doc=__doc__,
    check=check,
)
