"""
## What it does
Flags `ALTER DOMAIN ... ADD CONSTRAINT` without `NOT VALID`,
`ALTER DOMAIN ... VALIDATE CONSTRAINT` and `ALTER DOMAIN ... SET NOT NULL`.

## Why is this bad?
PostgreSQL checks the constraint against every column of every table that
uses the domain, holding a SHARE lock on each of those tables for the whole
scan: every write to them waits. Which tables that is, the statement does not
say.

## Example
```sql
ALTER DOMAIN positive_amount ADD CONSTRAINT above_zero CHECK (VALUE > 0);
```

## Use instead
Put the check on the columns themselves (`ADD CONSTRAINT ... CHECK (...) NOT
VALID`, then `VALIDATE CONSTRAINT`, which takes only SHARE UPDATE EXCLUSIVE),
or add the domain constraint `NOT VALID` and leave existing rows unchecked.

## With Alembic
The column CHECKs through `expandcontract new` kinds or by hand, validated in
the switch phase.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or op.has("not_valid"):
        return
    verb = (
        "validating a constraint of"
        if op.has("validate")
        else "setting NOT NULL on"
        if op.has("not_null")
        else "adding a constraint to"
    )
    yield Violation(
        f"{verb} domain {op.name} scans every table that uses it under SHARE: every write to "
        "them waits for the scan",
    )


RULE = Rule(
    code="EC206",
    name="domain-constraint",
    severity="error",
    summary="A domain's constraint is checked on every table using it, under SHARE",
    hint="Check the columns instead (NOT VALID, then VALIDATE), or add it NOT VALID.",
    kinds=frozenset({"domain_constraint"}),
    doc=__doc__,
    check=check,
)
