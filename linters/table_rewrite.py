"""
## What it does
Flags `ALTER TABLE ... SET LOGGED`, `SET UNLOGGED` and `SET TABLESPACE`.

## Why is this bad?
Each rewrites the whole table (and, for a tablespace move, copies its files)
under ACCESS EXCLUSIVE: no reads or writes until it is done.

## Example
```sql
ALTER TABLE events SET LOGGED;
```

## Use instead
There is no online form. Create a new table with the wanted property, copy in
batches while a trigger mirrors writes, and switch; or run it in a
maintenance window.

## With Alembic
`op.execute("ALTER TABLE ... SET LOGGED")` only in a maintenance window, with a reason.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    yield Violation(
        f"{op.value} rewrites all of {op.table} under ACCESS EXCLUSIVE, blocking every read "
        "and write",
    )


RULE = Rule(
    code="EC405",
    name="table-rewrite",
    severity="error",
    summary="SET LOGGED / UNLOGGED / TABLESPACE rewrites the table",
    hint="No online form: copy to a new table with a trigger, or use a maintenance window.",
    kinds=frozenset({"rewrite_table"}),
    doc=__doc__,
    check=check,
)
