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
Validate in a later revision (the switch phase) run by its own `alembic
upgrade`, or inside `with op.get_context().autocommit_block():`. Alembic runs
all the revisions of one `alembic upgrade` in a single transaction unless
`env.py` passes `transaction_per_migration=True`; expandcontract reads that
setting (without running `env.py`) and flags a validation in a later revision
that would share the adding revision's transaction.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    key = (op.table, op.name)
    if key not in ctx.not_valid_pending or ctx.is_new(op):
        return
    origin = ctx.not_valid_origin.get(key)
    if origin:
        yield Violation(
            f"constraint {op.name} was added NOT VALID by revision {origin}, which runs in the "
            "same transaction as this one (env.py does not set transaction_per_migration=True): "
            f"its lock on {op.table} is still held during the validating scan",
            "Set transaction_per_migration=True in env.py, or validate inside "
            "op.get_context().autocommit_block().",
        )
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
