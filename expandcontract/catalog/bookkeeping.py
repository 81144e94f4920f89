"""The tables expandcontract keeps in the user's database: their shapes, made and grown here.

Every record a phase leaves for a later phase (or for its own rollback) lives in
one of these tables, in the connection's default schema:

``expandcontract_backfill``         a backfill's progress: last key done, per range
``expandcontract_carried``          what a replaced column carried (indexes, keys, ...)
``expandcontract_dropped_columns``  type, default and NOT NULL of a column a contract dropped
``expandcontract_archived``         the tables drop-table's contracts archived
``expandcontract_phase_log``        when each revision started and finished, each way
``expandcontract_runner``           the one runner at work on the database, kept alive

A table is created when first needed, and a table made by an older release gets
the columns it lacks (:func:`ensure`). Anything named ``expandcontract_...`` is
ours, never the application's: autogenerate, verify's snapshots and the lock
tracer leave such tables out (:func:`is_ours`).
"""

from __future__ import annotations

from sqlalchemy import text

PREFIX = "expandcontract_"

BACKFILL = "expandcontract_backfill"
CARRIED = "expandcontract_carried"
DROPPED_COLUMNS = "expandcontract_dropped_columns"
ARCHIVES = "expandcontract_archived"
PHASE_LOG = "expandcontract_phase_log"
RUNNER = "expandcontract_runner"

# each table: its columns in order (name, SQL type and constraints), then its primary key
_SHAPES: dict[str, tuple[list[tuple[str, str]], str | None]] = {
    BACKFILL: (
        [
            ("name", "text NOT NULL"),
            ("last_key", "jsonb"),
            ("rows", "bigint NOT NULL DEFAULT 0"),
            ("done", "boolean NOT NULL DEFAULT false"),
            ("updated_at", "timestamptz NOT NULL DEFAULT now()"),
            # a range of a parallel backfill ends here (inclusive); NULL: the table's end
            ("upper_key", "jsonb"),
        ],
        "name",
    ),
    CARRIED: (
        [
            ("table_name", "text NOT NULL"),
            ("source", "text NOT NULL"),
            ("target", "text NOT NULL"),
            ("position", "int NOT NULL"),
            ("kind", "text NOT NULL"),
            ("name", "text NOT NULL"),
            ("carried", "text NOT NULL"),
            ("definition", "text NOT NULL"),
            ("extra", "jsonb NOT NULL"),
        ],
        "table_name, source, target, position",
    ),
    DROPPED_COLUMNS: (
        [
            ("table_name", "text NOT NULL"),
            ("column_name", "text NOT NULL"),
            ("type", "text NOT NULL"),
            ("not_null", "boolean NOT NULL"),
            ("default_sql", "text"),
        ],
        "table_name, column_name",
    ),
    ARCHIVES: (
        [
            ("archive", "text NOT NULL"),
            ("original", "text NOT NULL"),
            ("foreign_keys", "jsonb NOT NULL"),
            ("archived_at", "timestamptz NOT NULL DEFAULT now()"),
            ("purged_at", "timestamptz"),
        ],
        "archive",
    ),
    PHASE_LOG: (
        [
            ("revision", "text NOT NULL"),
            ("phase", "text NOT NULL"),
            ("direction", "text NOT NULL"),
            ("at", "timestamptz NOT NULL DEFAULT now()"),
        ],
        None,
    ),
    RUNNER: (
        [
            ("one", "boolean NOT NULL DEFAULT true CHECK (one)"),
            ("owner", "text NOT NULL"),  # a token of the run holding it
            ("who", "text NOT NULL"),  # host, pid and command, for the message of the next
            ("started", "timestamptz NOT NULL DEFAULT now()"),
            ("heartbeat", "timestamptz NOT NULL DEFAULT now()"),
        ],
        "one",
    ),
}

TABLES = tuple(_SHAPES)


def is_ours(name: str) -> bool:
    """A relation of expandcontract's (bookkeeping or archive), by its unqualified name."""
    return name.rsplit(".", 1)[-1].startswith(PREFIX)


def exists(bind, table: str) -> bool:
    return bind.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar()


def create_sql(table: str) -> str:
    columns, key = _SHAPES[table]
    body = ", ".join(f"{name} {type_}" for name, type_ in columns)
    if key:
        body += f", PRIMARY KEY ({key})"
    return f"CREATE TABLE IF NOT EXISTS {table} ({body})"


def ensure(bind, table: str) -> None:
    """Create ``table`` if it is not there; add the columns an older release's lacks.

    What is there is looked up first: ``ALTER TABLE`` needs the owner even when the
    column exists, and the role running now may not be the one that made the table."""
    columns, _ = _SHAPES[table]
    present = {
        name
        for (name,) in bind.execute(
            text(
                "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) "
                "AND attnum > 0 AND NOT attisdropped"
            ),
            {"t": table},
        )
    }
    if not present:
        bind.execute(text(create_sql(table)))
        return
    for name, type_ in columns:
        if name not in present:
            nullable = type_.replace(" NOT NULL", "") if "DEFAULT" not in type_ else type_
            bind.execute(text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {nullable}"))
