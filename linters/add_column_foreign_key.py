"""
## What it does
Flags `ADD COLUMN ... REFERENCES other` on an existing table.

## Why is this bad?
The foreign key is validated when it is created: the table is scanned under
the ALTER's ACCESS EXCLUSIVE lock, and the referenced table is locked SHARE
ROW EXCLUSIVE for as long, blocking writes to it too.

## Example
```sql
ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);
```

## Use instead
```sql
ALTER TABLE orders ADD COLUMN customer_id bigint;
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey
    FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey;  -- its own transaction
```

## With Alembic
```python
op.add_column("orders", sa.Column("customer_id", sa.BigInteger()))
op.create_foreign_key("orders_customer_id_fkey", "orders", "customers",
                      ["customer_id"], ["id"], postgresql_not_valid=True)
# next transaction / the switch phase:
op.execute("ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_id_fkey")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if not op.has("references") or ctx.is_new(op):
        return
    yield Violation(
        f"REFERENCES {op.ref_table} on new column {op.column} validates under ACCESS "
        f"EXCLUSIVE on {op.table} and SHARE ROW EXCLUSIVE on {op.ref_table}",
    )


RULE = Rule(
    code="EC107",
    name="add-column-foreign-key",
    severity="error",
    summary="ADD COLUMN ... REFERENCES validates under exclusive locks",
    hint="Add the column plain, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID and "
    "VALIDATE CONSTRAINT in a later transaction.",
    kinds=frozenset({"add_column"}),
    doc=__doc__,
    check=check,
)
