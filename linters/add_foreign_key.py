"""
## What it does
Flags `ADD CONSTRAINT ... FOREIGN KEY` on an existing table without `NOT VALID`.

## Why is this bad?
Adding a foreign key takes SHARE ROW EXCLUSIVE on *both* tables and scans the
referencing table to validate every row: writes to both tables are blocked for
the whole scan.

## Example
```sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id);
```

## Use instead
```sql
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;  -- its own transaction
```

## With Alembic
```python
op.create_foreign_key("orders_customer_fk", "orders", "customers",
                      ["customer_id"], ["id"], postgresql_not_valid=True)
op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk")  # next transaction
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if op.constraint != "foreign_key" or op.not_valid or ctx.is_new(op):
        return
    yield Violation(
        f"foreign key {op.name or ''} is validated by scanning {op.table} under SHARE ROW "
        f"EXCLUSIVE on {op.table} and {op.ref_table}: writes to both wait".replace("  ", " "),
    )


RULE = Rule(
    code="EC202",
    name="add-foreign-key",
    severity="error",
    summary="FOREIGN KEY without NOT VALID blocks writes to both tables",
    hint="Add it NOT VALID, then VALIDATE CONSTRAINT in its own transaction.",
    kinds=frozenset({"add_constraint"}),
    doc=__doc__,
    check=check,
)
