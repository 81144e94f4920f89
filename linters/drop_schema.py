"""
## What it does
Flags `DROP SCHEMA`.

## Why is this bad?
It drops every table, view and function in the schema (with `CASCADE`, also
everything that depends on them elsewhere), each under ACCESS EXCLUSIVE:
running code breaks and the data is gone.

## Example
```sql
DROP SCHEMA reporting CASCADE;
```

## Use instead
Drop the schema's objects one by one in the contract phase, once no running
version uses them.

## With Alembic
`op.execute("DROP SCHEMA ...")` only on the `contract` branch, with a reason.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    yield Violation(
        f"DROP SCHEMA {op.name} drops everything in it under ACCESS EXCLUSIVE: running code "
        "breaks and its data is gone",
    )


RULE = Rule(
    code="EC404",
    name="drop-schema",
    severity="error",
    summary="DROP SCHEMA breaks running code and destroys data",
    hint="Drop the objects one by one in the contract phase.",
    kinds=frozenset({"drop_schema"}),
    doc=__doc__,
    check=check,
)
