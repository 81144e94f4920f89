"""
## What it does
Flags `UPDATE` or `DELETE` of every row of an existing table: no `WHERE`, a
`WHERE` that bounds nothing (`WHERE true`, `WHERE 1 = 1`), or `WHERE c IS NULL`
on a column added earlier in the migration with no default (NULL in every row),
in any spelling (`UPDATE ... FROM`, `DELETE ... USING`, a `WITH` query, a `DO`
block); and the "batches" of a loop in a `DO` block or routine that never
commits, which are one transaction over every row they reach.

## Why is this bad?
One statement touching every row is one long transaction that holds a row
lock on every row it has changed until it commits: concurrent writers of
those rows wait, the table bloats, and replicas fall behind. A key-range batch
(`WHERE id > ... LIMIT ...`) committed on its own does not.

## Example
```sql
UPDATE users SET email_normalized = lower(email);
```

## Use instead
```sql
UPDATE users SET email_normalized = lower(email)
WHERE id IN (SELECT id FROM users WHERE id > 0 AND email_normalized IS NULL
             ORDER BY id LIMIT 1000);
-- repeat with the last id, each batch in its own transaction
```

## With Alembic
`op.backfill("users", "email_normalized", "lower(email)")` (expandcontract's
batched, resumable backfill), in the migrate phase.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    verb = op.kind.upper()
    if op.has("null_filter") and (op.table, op.column) in ctx.null_columns:
        yield Violation(
            f"{verb} ... WHERE {op.column} IS NULL changes every row of {op.table} in one "
            f"transaction: {op.column} was added in this migration with no default, so it is "
            "NULL in every row",
        )
        return
    if op.has("in_loop"):
        yield Violation(
            f"{verb} of {op.table} in a loop with no COMMIT: the batches of a DO block or "
            "routine run in one transaction, which keeps every row it changed locked until "
            "the end",
            "COMMIT after each batch (a procedure or a DO block run outside a transaction "
            "block may), or run the batches from the deploy tool.",
        )
        return
    if op.has("where"):
        return
    yield Violation(
        f"{verb} without a WHERE that bounds it changes every row of {op.table} in one "
        "transaction, locking every row until it commits",
    )


RULE = Rule(
    code="EC501",
    name="update-without-where",
    severity="error",
    summary="Full-table UPDATE / DELETE in one transaction",
    hint="Change rows in key-range batches, each committed on its own.",
    kinds=frozenset({"update", "delete"}),
    doc=__doc__,
    check=check,
)
