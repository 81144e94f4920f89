"""
## What it does
In a revision on the `contract` branch (and in the `downgrade()` of an
`expand` revision, its mirror), flags additive DDL: new tables, columns,
indexes, constraints or triggers.

## Why is this bad?
Contract only removes what the change made obsolete, once no old version
runs. Something added there is never seen by a rollback window: the new
application version already runs without it, so it belongs to expand.

## Example
```sql
ALTER TABLE users ADD COLUMN nickname text;
```

## Use instead
```sql
ALTER TABLE users DROP COLUMN email;
```
and the new column in an expand revision.

## With Alembic
`op.add_column(...)` belongs on the `expand` branch.
"""

from expandcontract.lint.rule import Rule, Violation

ADDITIVE = {"create_table", "add_column", "create_index", "add_constraint", "create_trigger"}


def check(op, ctx):
    if ctx.effective_phase != "contract" or ctx.phase is None:
        return
    where = (
        "a contract revision" if ctx.direction == "up" else "the downgrade of an expand revision"
    )
    yield Violation(
        f"{where} adds ({op.kind.replace('_', ' ')} on {op.table or op.name}): contract may "
        "only remove",
        "Add it in an expand revision.",
    )


RULE = Rule(
    code="EC604",
    name="contract-phase-violation",
    severity="error",
    summary="Contract revision that adds tables, columns, indexes or constraints",
    kinds=frozenset(ADDITIVE),
    doc=__doc__,
    check=check,
)
