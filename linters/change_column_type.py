"""
## What it does
Flags `ALTER COLUMN ... TYPE` to a type that is not binary-coercible from any
other: `integer` to `bigint`, `text` to `jsonb`, a `USING` conversion, and so on.

## Why is this bad?
PostgreSQL rewrites the whole table and rebuilds every index on it while
holding ACCESS EXCLUSIVE: no reads or writes until it is done, minutes to
hours on a large table. The running application version may also break on the
new type.

## Example
```sql
ALTER TABLE orders ALTER COLUMN id TYPE bigint;
```

## Use instead
A new column kept in sync with the old one by a two-way trigger, backfilled in
batches; switch readers to it; drop the old column in the contract phase.

## With Alembic
`expandcontract new change-type orders id bigint -m "..."` writes the phases.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    known = ctx.type_change(op)
    if known == "free" or (known is None and op.has("maybe_coercible") and not op.has("using")):
        return
    yield Violation(
        f"changing {op.table}.{op.column} to {op.type_sql} rewrites the table and every index "
        "under ACCESS EXCLUSIVE, blocking all reads and writes",
    )


RULE = Rule(
    code="EC110",
    name="change-column-type",
    severity="error",
    summary="ALTER COLUMN TYPE rewrites the table",
    hint="Add a column of the new type with a two-way sync trigger, backfill in batches, "
    "switch, then drop the old column.",
    kinds=frozenset({"alter_type"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
