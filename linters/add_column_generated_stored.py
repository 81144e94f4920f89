"""
## What it does
Flags `ADD COLUMN ... GENERATED ALWAYS AS (...) STORED` on an existing table.

## Why is this bad?
A stored generated column is computed for every existing row when it is
added: a full table rewrite under ACCESS EXCLUSIVE, blocking every read and
write for its whole duration.

## Example
```sql
ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (qty * price) STORED;
```

## Use instead
A plain column kept up to date by a trigger, backfilled in batches:
```sql
ALTER TABLE orders ADD COLUMN total numeric;
CREATE TRIGGER orders_total BEFORE INSERT OR UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION orders_set_total();
-- backfill existing rows in committed key-range batches
```

## With Alembic
```python
op.add_column("orders", sa.Column("total", sa.Numeric()))
op.execute("CREATE TRIGGER orders_total ...")
op.backfill("orders", "total", "qty * price")
```
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if not op.has("generated_stored") or ctx.is_new(op):
        return
    yield Violation(
        f"stored generated column {op.column} is computed for every row: PostgreSQL "
        f"rewrites all of {op.table} under ACCESS EXCLUSIVE",
    )


RULE = Rule(
    code="EC103",
    name="add-column-generated-stored",
    severity="error",
    summary="ADD COLUMN ... GENERATED ... STORED rewrites the table",
    hint="Add a plain column, keep it current with a trigger, and backfill in batches.",
    kinds=frozenset({"add_column"}),
    doc=__doc__,
    check=check,
)
