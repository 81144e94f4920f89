"""Column operations: the new column of a replacement, defaults, and a drop that can be undone."""

from __future__ import annotations

import re

from sqlalchemy import text

from expandcontract.catalog import bookkeeping, probes
from expandcontract.ops.not_null import set_not_null
from expandcontract.ops.registry import needs_database, online, operation
from expandcontract.schema.names import quote

DROPPED_COLUMNS = bookkeeping.DROPPED_COLUMNS

# a default whose value is fixed: a literal, maybe cast (pg_get_expr's spelling)
_CONSTANT = re.compile(
    r"^(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|NULL)(?:::[\w ]+(?:\([\d, ]+\))?)*$"
)


@operation
def copy_column(operations, table_name, source, new, type_=None) -> None:
    """ADD COLUMN new, nullable, of the source column's type (or ``type_``): catalog only.
    No default and no NOT NULL: the sync trigger and the backfill fill it."""
    type_sql = type_
    if online(operations) and type_sql is None:
        type_sql = probes.column_type(operations.get_bind(), table_name, source)
        if type_sql is None:
            raise ValueError(f"copy_column: {table_name}.{source} does not exist")
    elif type_sql is None:
        needs_database(operations, "op.copy_column (the source column's type)")
    operations.execute(
        f"ALTER TABLE {quote(table_name)} ADD COLUMN IF NOT EXISTS {quote(new)} "
        f"{type_sql or 'text'}"
    )


# the sync and fill triggers' marker (ops.sync.marker): a default that is not the user's
_MARKER = re.compile(r'^(?:"?[^".]+"?\.)?"?ec_omit_')


def is_marker(default: str | None) -> bool:
    """Whether ``default`` (as pg_get_expr spells it) is our marker, not a real default."""
    return default is not None and bool(_MARKER.match(default))


def _set_default(operations, table_name, source, target, cast: bool, keep_source: bool) -> None:
    table = quote(table_name)
    if online(operations):
        bind = operations.get_bind()
        state = probes.column_state(bind, table_name, source)
        if state is None or state[1] is None or is_marker(state[1]):
            return  # nothing to move (a rerun finds the marker where the default was)
        default = state[1]
        if cast and not _assignable(bind, table, target, default):
            type_sql = probes.column_type(bind, table_name, target)
            default = f"CAST(({default}) AS {type_sql})"
    else:
        needs_database(operations, "moving a column's default")
        default = "NULL"
    operations.execute(f"ALTER TABLE {table} ALTER COLUMN {quote(target)} SET DEFAULT {default}")
    if not keep_source:
        operations.execute(f"ALTER TABLE {table} ALTER COLUMN {quote(source)} DROP DEFAULT")


@operation
def move_default(operations, table_name, source, target, cast=False) -> None:
    """Give ``target`` the default of ``source`` and drop it from ``source``;
    ``cast=True`` casts it to the target's type (a change of type)."""
    _set_default(operations, table_name, source, target, cast, keep_source=False)


@operation
def copy_default(operations, table_name, source, target, cast=False) -> None:
    """Give ``target`` the default of ``source`` (``cast=True``: cast to the target's
    type), leaving ``source``'s in place: it goes with the column, recorded."""
    _set_default(operations, table_name, source, target, cast, keep_source=True)


def _assignable(bind, table: str, column: str, default: str) -> bool:
    """Whether PostgreSQL takes ``default`` for ``column`` as it is, converting it the
    way it converts an assigned value (``0`` for a bigint stays ``0``, as after a plain
    ALTER COLUMN TYPE); tried in a savepoint, nothing evaluated."""
    from sqlalchemy.exc import DBAPIError

    try:
        with bind.begin_nested() as savepoint:
            bind.exec_driver_sql(
                f"ALTER TABLE {table} ALTER COLUMN {quote(column)} SET DEFAULT {default}"
            )
            savepoint.rollback()
        return True
    except DBAPIError:
        return False


@operation
def drop_default(operations, table_name, column_name) -> None:
    """ALTER COLUMN ... DROP DEFAULT (catalog only). The sync trigger's marker stays: it
    goes with the trigger (revisions written before 0.2 drop the new column's default
    after recreating the trigger)."""
    if online(operations):
        state = probes.column_state(operations.get_bind(), table_name, column_name)
        if state is not None and is_marker(state[1]):
            return
    operations.execute(
        f"ALTER TABLE {quote(table_name)} ALTER COLUMN {quote(column_name)} DROP DEFAULT"
    )


def _record(bind, table_name: str, column_name: str):
    """The recorded type, default and NOT NULL of a dropped column, or None."""
    if not bookkeeping.exists(bind, DROPPED_COLUMNS):
        return None
    return bind.execute(
        text(
            f"SELECT type, default_sql, not_null FROM {DROPPED_COLUMNS} "
            "WHERE table_name = :t AND column_name = :c"
        ),
        {"t": table_name, "c": column_name},
    ).fetchone()


def recorded_type(bind, table_name: str, column_name: str) -> str | None:
    """The type a dropped column had, from its record (None: no record)."""
    row = _record(bind, table_name, column_name)
    return row[0] if row is not None else None


@operation
def drop_column_recorded(operations, table_name, column_name) -> None:
    """DROP COLUMN, first recording its type, NOT NULL and default so that
    ``restore_column`` can bring it back on downgrade."""
    if not online(operations):
        needs_database(operations, "op.drop_column_recorded (its record, for the rollback)")
    else:
        bind = operations.get_bind()
        if not probes.has_column(bind, table_name, column_name):
            # a misspelt column must not make the contract succeed while dropping nothing;
            # an earlier run that dropped it left its record
            if _record(bind, table_name, column_name) is None:
                raise ValueError(f"drop_column_recorded: {table_name}.{column_name} does not exist")
            return
        bookkeeping.ensure(bind, DROPPED_COLUMNS)
        not_null, default = probes.column_state(bind, table_name, column_name)
        bind.execute(
            text(
                f"INSERT INTO {DROPPED_COLUMNS} VALUES (:t, :c, :type, :nn, :d) "
                "ON CONFLICT (table_name, column_name) DO UPDATE SET type = EXCLUDED.type, "
                "not_null = EXCLUDED.not_null, default_sql = EXCLUDED.default_sql"
            ),
            {
                "t": table_name,
                "c": column_name,
                "type": probes.column_type(bind, table_name, column_name),
                "nn": not_null,
                "d": default,
            },
        )
    operations.execute(
        f"ALTER TABLE {quote(table_name)} DROP COLUMN IF EXISTS {quote(column_name)}"
    )


@operation
def restore_column(operations, table_name, column_name, complete=False) -> None:
    """Re-add a column dropped by ``drop_column_recorded``: its type and default,
    nullable (fill it, then ``copy_not_null`` / ``set_not_null``). ``complete=True``
    (nothing will refill it): the default fills the existing rows, and a NOT NULL column
    is NOT NULL again. A default PostgreSQL evaluates once (a constant, ``now()``) is
    added with the column, in the catalog alone; a volatile one (``gen_random_uuid()``)
    fills a NOT NULL column's rows in batches first, as add-column does."""
    table, column = quote(table_name), quote(column_name)
    if not online(operations):
        needs_database(operations, "op.restore_column (the dropped column's record)")
        operations.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} text")
        return
    bind = operations.get_bind()
    row = _record(bind, table_name, column_name)
    if row is None:
        raise ValueError(
            f"restore_column: no record of {table_name}.{column_name}; it was not dropped "
            "by drop_column_recorded"
        )
    type_sql, default, not_null = row
    if (
        complete
        and default is not None
        and (_CONSTANT.match(default) or probes.default_evaluated_once(bind, type_sql, default))
    ):
        # existing rows read the default without a rewrite (PostgreSQL 11+)
        operations.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type_sql} DEFAULT {default}"
        )
        if not_null:
            set_not_null(operations, table_name, column_name)
        return
    operations.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type_sql}")
    if default is not None:
        operations.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default}")
    if complete and not_null and default is not None:
        from expandcontract.ops.backfill import backfill, forget

        # each row its own value; a rerun fills the rows still NULL
        forget(bind, table_name, column_name)
        backfill(operations, table_name, column_name, default, where=f"{column} IS NULL")
        forget(bind, table_name, column_name)
        set_not_null(operations, table_name, column_name)


@operation
def rename_column(operations, table_name, column_name, new_column_name) -> None:
    """RENAME COLUMN, once: a rerun that finds ``new_column_name`` there already (and
    ``column_name`` gone, or another column since) does nothing."""
    if online(operations):
        bind = operations.get_bind()
        if probes.has_column(bind, table_name, new_column_name):
            return
    operations.execute(
        f"ALTER TABLE {quote(table_name)} RENAME COLUMN {quote(column_name)} "
        f"TO {quote(new_column_name)}"
    )
