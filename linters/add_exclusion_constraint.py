"""
## What it does
Flags `ADD CONSTRAINT ... EXCLUDE` on an existing table.

## Why is this bad?
The exclusion constraint's index is built under ACCESS EXCLUSIVE, blocking
every read and write, and PostgreSQL has no online path: an exclusion
constraint cannot be added `NOT VALID` nor attached `USING INDEX`.

## Example
```sql
ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
```

## Use instead
Add it in a maintenance window, on a small table, or when the table is created.
Suppress with the reason when that is the plan:
```sql
-- expandcontract: ignore add-exclusion-constraint -- maintenance window, 2k rows
```

## With Alembic
`op.create_exclude_constraint(...)` in a revision run during the window.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.constraint != "exclude" or ctx.is_new(op):
        return
    yield Violation(
        f"exclusion constraint {op.name or ''} builds its index under ACCESS EXCLUSIVE on "
        f"{op.table}, and has no online alternative".replace("  ", " "),
    )


RULE = Rule(
    code="EC204",
    name="add-exclusion-constraint",
    severity="error",
    summary="EXCLUDE constraint builds its index under ACCESS EXCLUSIVE",
    hint="Create it with the table, or run it in a maintenance window.",
    kinds=frozenset({"add_constraint"}),
    doc=__doc__,
    check=check,
)
