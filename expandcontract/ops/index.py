"""Index operations: built and dropped CONCURRENTLY, outside the revision's transaction."""

from __future__ import annotations

import contextlib

from expandcontract.catalog import probes
from expandcontract.ops.registry import online, operation
from expandcontract.schema.names import quote


def column_list(columns) -> str:
    """Column names, each quoted; an expression only as ``sa.text("lower(email)")``: a
    name is never read as SQL, whatever it contains."""
    from sqlalchemy.sql.elements import TextClause

    return ", ".join(c.text if isinstance(c, TextClause) else quote(c) for c in columns)


def schema_prefix(table: str) -> str:
    """``"billing".`` for ``billing.orders``: an index lives in its table's schema, and its
    name in CREATE INDEX cannot say so."""
    return f"{quote(table.rsplit('.', 1)[0])}." if "." in table else ""


def build(operations, table: str, name: str, sql: str) -> None:
    """Run ``sql`` (a CREATE INDEX CONCURRENTLY making index ``name`` on ``table``) in
    autocommit: nothing when the index is there and valid; an INVALID leftover of an
    earlier failure is dropped and built again; a build that fails now is dropped at once
    (an INVALID index slows every write and blocks the rerun's name)."""
    qualified = schema_prefix(table) + quote(name)
    with operations.get_context().autocommit_block():
        is_online = online(operations)
        if is_online:
            valid = probes.index_valid(operations.get_bind(), table, name)
            if valid:
                return
            if valid is False:
                operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}")
        try:
            operations.execute(sql)
        except Exception:
            if is_online:
                with contextlib.suppress(Exception):
                    operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}")
            raise


def _reverse_create(op):
    return "drop_index_concurrently", {"index_name": op.index_name}


@operation(reverse=_reverse_create)
def create_index_concurrently(
    operations, index_name, table_name, columns, unique=False, where=None
) -> None:
    """CREATE INDEX CONCURRENTLY outside the transaction; an INVALID leftover is rebuilt."""
    sql = (
        f"CREATE {'UNIQUE ' if unique else ''}INDEX CONCURRENTLY IF NOT EXISTS "
        f"{quote(index_name)} ON {quote(table_name)} ({column_list(columns)})"
        f"{f' WHERE {where}' if where else ''}"
    )
    build(operations, table_name, index_name, sql)


@operation
def drop_index_concurrently(operations, index_name) -> None:
    """DROP INDEX CONCURRENTLY IF EXISTS, outside the transaction."""
    with operations.get_context().autocommit_block():
        operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(index_name)}")


def rename(operations, table: str, old: str, new: str) -> None:
    """ALTER INDEX ... RENAME, when ``old`` is there and ``new`` is not: a rerun finds it
    renamed already (and ``old`` may then be another index, rebuilt since under that name)."""
    bind = operations.get_bind()
    if (
        probes.index_valid(bind, table, old) is not None
        and probes.index_valid(bind, table, new) is None
    ):
        operations.execute(f"ALTER INDEX {schema_prefix(table)}{quote(old)} RENAME TO {quote(new)}")
