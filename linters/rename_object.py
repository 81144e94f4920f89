"""
## What it does
Flags renaming a view, sequence, type, enum value, schema or domain, and moving
a table or any of these to another schema (`SET SCHEMA`).

## Why is this bad?
It is catalog-only and instant, but the application version still running
names the object by its old name (or the enum value by its old label) in its
queries and casts: they fail as soon as the rename commits.

## Example
```sql
ALTER TYPE order_state RENAME VALUE 'shipped' TO 'sent';
ALTER TABLE invoices SET SCHEMA billing;
```

## Use instead
Add the new name beside the old one and switch the application over first: a
new enum value (`ALTER TYPE ... ADD VALUE`) written by both versions, a view
or a synonym under the new schema. Remove the old name in the contract phase.

## With Alembic
`expandcontract new rename-table` for tables; other objects by hand, the
removal on the `contract` branch.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or ctx.removal_expected:
        return
    what = op.value or "object"
    if op.has("schema"):
        change = f"moving {what} {op.name} to another schema"
    elif op.has("value"):
        change = f"renaming a value of type {op.name}"
    elif op.has("column"):
        change = f"renaming a column of {what} {op.name}"
    else:
        change = f"renaming {what} {op.name}"
    yield Violation(f"{change} breaks every query of the application version still using it")


RULE = Rule(
    code="EC412",
    name="rename-object",
    severity="error",
    summary="Renaming or moving a view, sequence, type, enum value, schema or domain",
    hint="Add the new name beside the old one; remove the old one in the contract phase.",
    kinds=frozenset({"rename_object"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
