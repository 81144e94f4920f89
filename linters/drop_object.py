"""
## What it does
Flags `DROP VIEW`, `DROP SEQUENCE`, `DROP TYPE` and `DROP DOMAIN` of an object
that existed before the migration.

## Why is this bad?
The application version still running reads the view, calls `nextval()` on
the sequence, casts to the type: each of those queries fails as soon as the
drop commits. With `CASCADE` it is worse: PostgreSQL silently drops what
depends on the object too, a column's default (`nextval`), whole columns of
the type or domain, other views, and their data with them.

## Example
```sql
DROP SEQUENCE invoice_no CASCADE;
```

## Use instead
Stop using the object in a released version first, then drop it in the
contract phase, without `CASCADE`, so that PostgreSQL refuses while anything
still depends on it.

## With Alembic
`op.execute("DROP ...")` on the `contract` branch.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or (ctx.removal_expected and not op.has("cascade")):
        return
    if op.value == "sequence" and ctx.sequence_unused(op.name or ""):
        return  # the default that used it was dropped earlier in this migration
    what = op.value or "object"
    message = f"dropping {what} {op.name} breaks the application version still using it"
    if op.has("cascade"):
        message += (
            "; CASCADE also drops, without a word, every column, default and view that "
            "depends on it, with their data"
        )
    yield Violation(message)


RULE = Rule(
    code="EC411",
    name="drop-object",
    severity="error",
    summary="DROP VIEW / SEQUENCE / TYPE / DOMAIN breaks running code (CASCADE drops more)",
    hint="Drop it in the contract phase, without CASCADE, once no running version uses it.",
    kinds=frozenset({"drop_object"}),
    doc=__doc__,
    check=check,
    breaking=True,
)
