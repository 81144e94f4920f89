"""
## What it does
Flags `ALTER TABLE ... RENAME TO` of an existing table.

## Why is this bad?
The rename is catalog-only, but every query of the application version still
running names the old table and fails from the moment the migration commits.

## Example
```sql
ALTER TABLE customers RENAME TO clients;
```

## Use instead
Expand / contract: create the new name as an updatable view (or the reverse),
switch the application, and remove the old name in the contract phase.
```sql
ALTER TABLE customers RENAME TO clients;
CREATE VIEW customers AS SELECT * FROM clients;  -- same transaction: old code keeps working
```

## With Alembic
`expandcontract new rename-table customers clients -m "..."` writes the phases.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    yield Violation(
        f"renaming table {op.table} to {op.new_name} breaks every query of the application "
        "version still running",
    )


RULE = Rule(
    code="EC401",
    name="rename-table",
    severity="error",
    summary="RENAME TO breaks the running application version",
    hint="Keep the old name working (a view) until the contract phase.",
    kinds=frozenset({"rename_table"}),
    doc=__doc__,
    check=check,
)
