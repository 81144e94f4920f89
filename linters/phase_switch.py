"""
## What it does
In a revision on the `switch` branch, flags dropping a column, a table or a
schema, and truncating.

## Why is this bad?
Switch runs while the old and the new application version both still run:
the new structure becomes authoritative, but the old one must keep working
and a rollback must stay possible. Removal waits for contract.

## Example
```sql
ALTER TABLE users DROP COLUMN email;
```

## Use instead
```sql
ALTER TABLE users VALIDATE CONSTRAINT users_email_address_not_null;
```
in switch, and the drop in the `contract` revision.

## With Alembic
`op.drop_column(...)` belongs on the `contract` branch.
"""

from expandcontract.lint.rule import Rule, Violation

OUT_OF_PLACE = {"drop_column", "drop_table", "drop_schema", "truncate", "drop_object"}


def check(op, ctx):
    if ctx.phase != "switch" or ctx.direction != "up" or ctx.is_new(op):
        return
    yield Violation(
        f"a switch revision removes {op.table or op.name}{'.' + op.column if op.column else ''}: "
        "the old "
        "application version still runs during switch",
        "Move the removal to the contract revision.",
    )


RULE = Rule(
    code="EC603",
    name="switch-phase-violation",
    severity="error",
    summary="Switch revision that removes a column or table",
    kinds=frozenset(OUT_OF_PLACE),
    doc=__doc__,
    check=check,
)
