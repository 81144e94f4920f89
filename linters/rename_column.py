"""
## What it does
Flags `ALTER TABLE ... RENAME [COLUMN] a TO b` on an existing table.

## Why is this bad?
The rename is catalog-only, but every query of the application version still
running names the old column and fails as soon as the migration commits. In a
blue-green or canary deploy the old and new versions run together, so one of
them is always broken.

## Example
```sql
ALTER TABLE users RENAME COLUMN name TO full_name;
```

## Use instead
Expand / contract: add `full_name`, keep both columns equal with a sync
trigger, backfill, switch the application to `full_name`, and drop `name` in
the contract phase.

## With Alembic
`expandcontract new rename-column users name full_name -m "..."` writes the phases.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new_column(op) or ctx.removal_expected:  # contract: no old version runs any more
        return
    yield Violation(
        f"renaming {op.table}.{op.column} to {op.new_name} breaks every query of the "
        "application version still running",
    )


RULE = Rule(
    code="EC109",
    name="rename-column",
    severity="error",
    summary="RENAME COLUMN breaks the running application version",
    hint="Add the new column with a two-way sync trigger, backfill, switch, then drop the old "
    "column in the contract phase.",
    kinds=frozenset({"rename_column"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
