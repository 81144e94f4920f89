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
Expand / contract. In the expand phase, give the table its new name as a
view over the old one; simple views are updatable, so the new application
version reads and writes through it while the old one keeps the table:
```sql
CREATE VIEW clients AS SELECT * FROM customers;
```
In the contract phase, once no old version runs, swap them in one transaction
(`DROP VIEW clients; ALTER TABLE customers RENAME TO clients;`).

## With Alembic
`expandcontract new rename-table customers clients -m "..."` writes the phases.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or ctx.removal_expected:  # contract: no old version runs any more
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
    breaking=True,
)
