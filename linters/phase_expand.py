"""
## What it does
In a revision on the `expand` branch, flags what expand may not do: drop,
rename, change a type, set NOT NULL, validate, truncate, or change data. In
the `downgrade()` of a `contract` revision, its mirror, only drops are out of
place: undoing a contract re-creates, refills and re-validates what it removed.

## Why is this bad?
Expand runs before the new application version is deployed, while only the
old version runs, and must leave the old version working and rollback
instant. Anything destructive, breaking, scanning or data-moving belongs to a
later phase (README, "Phases"): migrate moves data, switch validates and sets
NOT NULL, contract removes.

## Example
```sql
ALTER TABLE users ADD COLUMN email_address text;
ALTER TABLE users DROP COLUMN email;
```

## Use instead
```sql
ALTER TABLE users ADD COLUMN email_address text;  -- expand
```
and drop `email` in a revision on the `contract` branch.

## With Alembic
One revision per phase: `expandcontract new ...` writes them on the four branches.
"""

from expandcontract.lint.rule import Rule, Violation

OUT_OF_PLACE = {
    "drop_column": "drops a column",
    "drop_table": "drops a table",
    "drop_schema": "drops a schema",
    "truncate": "truncates a table",
    "rename_column": "renames a column",
    "rename_table": "renames a table",
    "alter_type": "changes a column type",
    "set_not_null": "sets NOT NULL",
    "validate_constraint": "validates a constraint",
    "update": "changes data",
    "delete": "deletes data",
    "drop_object": "drops a view, sequence, type or domain",
    "rename_object": "renames or moves an object",
    "drop_identity": "drops an identity",
}
DESTRUCTIVE = {"drop_column", "drop_table", "drop_schema", "truncate", "drop_object"}


def check(op, ctx):
    if ctx.phase is None or ctx.is_new(op):
        return
    up = ctx.direction == "up" and ctx.phase == "expand"
    contract_down = ctx.direction == "down" and ctx.phase == "contract"
    if not (up or contract_down):
        return
    if contract_down and op.kind not in DESTRUCTIVE:
        return  # undoing a contract re-creates, refills and re-validates what it dropped
    where = "an expand revision" if up else "the downgrade of a contract revision"
    yield Violation(
        f"{where} {OUT_OF_PLACE[op.kind]} ({op.table or op.name}): expand may only add",
        "Move it to its phase: data to migrate, VALIDATE / SET NOT NULL to switch, "
        "drops to contract.",
    )


RULE = Rule(
    code="EC601",
    name="expand-phase-violation",
    severity="error",
    summary="Expand revision that drops, renames, validates or moves data",
    kinds=frozenset(OUT_OF_PLACE),
    doc=__doc__,
    check=check,
)
