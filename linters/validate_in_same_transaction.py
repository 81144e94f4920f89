"""
## What it does
Flags `VALIDATE CONSTRAINT` of a constraint added `NOT VALID` earlier in the
same transaction (an explicit `BEGIN ... COMMIT`, or the same statement).

## Why is this bad?
`NOT VALID` only helps if the validation runs in a later transaction: the
ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE) lock taken to add the constraint is
held until commit, so the validating scan runs with every read and write
still blocked, exactly as if `NOT VALID` had not been written.

## Example
```sql
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;
COMMIT;
```

## Use instead
```sql
BEGIN;
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
COMMIT;
ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;
```

## With Alembic
Validate in the next revision (the switch phase), or inside
`with op.get_context().autocommit_block():`.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if (op.table, op.name) not in ctx.not_valid_pending or ctx.is_new(op):
        return
    yield Violation(
        f"constraint {op.name} was added NOT VALID in this same transaction: its lock on "
        f"{op.table} is still held, so the validating scan blocks reads and writes",
    )


RULE = Rule(
    code="EC205",
    name="validate-in-same-transaction",
    severity="error",
    summary="VALIDATE CONSTRAINT in the transaction that added it NOT VALID",
    hint="COMMIT after adding the constraint NOT VALID and validate in a new transaction.",
    kinds=frozenset({"validate_constraint"}),
    doc=__doc__,
    check=check,
)
