"""NOT NULL without a scan under ACCESS EXCLUSIVE: a validated CHECK proves it first."""

from __future__ import annotations

import contextlib

from expandcontract.catalog import probes
from expandcontract.ops import constraint
from expandcontract.ops.registry import online, operation
from expandcontract.schema.names import object_name, quote


def _reverse_set(op):
    return "drop_not_null", {"table_name": op.table_name, "column_name": op.column_name}


@operation(reverse=_reverse_set)
def set_not_null(operations, table_name, column_name) -> None:
    """The NOT NULL recipe: CHECK (c IS NOT NULL) NOT VALID; VALIDATE in its own
    transaction; SET NOT NULL (no scan on PostgreSQL 12+); drop the CHECK."""
    table, column = quote(table_name), quote(column_name)
    check = object_name(table_name, column_name, "not_null")
    if online(operations):
        state = probes.column_state(operations.get_bind(), table_name, column_name)
        if state is not None and state[0]:
            return
    constraint.add(operations, table_name, check, f"CHECK ({column} IS NOT NULL) NOT VALID")
    with operations.get_context().autocommit_block():
        try:
            operations.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote(check)}")
        except Exception:
            # a NULL is still there: the committed NOT VALID CHECK would go on rejecting the
            # old version's NULL writes while nothing is applied; take it away again
            if online(operations):
                with contextlib.suppress(Exception):
                    operations.execute(
                        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {quote(check)}"
                    )
            raise
    operations.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
    operations.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {quote(check)}")


@operation
def drop_not_null(operations, table_name, column_name) -> None:
    """ALTER COLUMN ... DROP NOT NULL (catalog only)."""
    online(operations)
    operations.execute(
        f"ALTER TABLE {quote(table_name)} ALTER COLUMN {quote(column_name)} DROP NOT NULL"
    )


@operation
def copy_not_null(operations, table_name, source, target) -> None:
    """If ``source`` is NOT NULL, make ``target`` NOT NULL too (the lock-safe recipe)."""
    if online(operations):
        state = probes.column_state(operations.get_bind(), table_name, source)
        if state is None or not state[0]:
            return
    set_not_null(operations, table_name, target)
