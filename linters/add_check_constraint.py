"""
## What it does
Flags a CHECK constraint added to an existing table without `NOT VALID`
(`ADD CONSTRAINT ... CHECK`, or a `CHECK` on an added column).

## Why is this bad?
PostgreSQL checks every existing row before the ALTER commits, scanning the
table while holding ACCESS EXCLUSIVE: no reads or writes for the whole scan.

## Example
```sql
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);
```

## Use instead
```sql
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;  -- its own transaction
```
`NOT VALID` enforces the check on new writes at once; `VALIDATE` scans under
SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.

## With Alembic
```python
op.create_check_constraint("orders_qty_positive", "orders", "qty > 0",
                           postgresql_not_valid=True)
op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive")  # next transaction
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op):
        return
    if op.kind == "add_constraint" and op.constraint == "check" and not op.not_valid:
        yield Violation(
            f"CHECK constraint {op.name or ''} is validated against every row of {op.table} "
            "under ACCESS EXCLUSIVE".replace("  ", " "),
        )
    elif op.kind == "add_column" and op.has("check"):
        yield Violation(
            f"CHECK on new column {op.column} scans {op.table} under ACCESS EXCLUSIVE",
        )


RULE = Rule(
    code="EC201",
    name="add-check-constraint",
    severity="error",
    summary="CHECK constraint without NOT VALID scans under ACCESS EXCLUSIVE",
    hint="Add it NOT VALID, then VALIDATE CONSTRAINT in its own transaction.",
    kinds=frozenset({"add_constraint", "add_column"}),
    doc=__doc__,
    check=check,
)
