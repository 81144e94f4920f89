"""The database a revision sees while it is linted: SQLAlchemy itself, on a DBAPI that
records every statement and returns no rows.

``op.get_bind()`` is a real :class:`sqlalchemy.engine.Connection` of a real
:class:`~sqlalchemy.engine.Engine`, with a PostgreSQL dialect, so whatever a revision
does with it works as it does against a server: ``connect()``, ``engine``,
``dialect``, ``url``, ``begin()``, ``sa.Enum(...).create(bind)`` and
``metadata.create_all(bind)`` (DDL visitors), ``Session(bind=...)`` and ORM queries,
results with ``keys()`` / ``mappings()`` / ``scalars()``. Only the DBAPI underneath is
ours: every statement it is given is handed to the recorder (and so linted, at the
revision's line that ran it), and every read comes back empty, as from tables with no
rows (an aggregate, ``SELECT count(*) ...``, answers its one row: 0), and what the
server says of itself (``SHOW server_version``, ``current_setting(...)``,
``version()``) is that of the PostgreSQL version being linted for.

``sa.inspect(bind)``, ``Table(..., autoload_with=bind)`` and the dialect's
``has_table`` / ``has_type`` / ``has_index`` answer from the schema the revisions
before this one built (:class:`~expandcontract.lint.schema.Schema`), not from an
empty database, so ``if not inspector.has_table(...)`` takes the branch it would
take on a database migrated up to here.

A few SQLAlchemy 1.x habits that real revisions still have are accepted as 1.x
accepted them: ``bind.execute("raw SQL")``, ``bind.connect()`` on a connection,
``bind.begin()`` inside the migration's transaction.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc, types
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.default import DefaultDialect

from expandcontract.lint.schema import Schema
from expandcontract.sql.target import DEFAULT_VERSION

DRIVER = "expandcontract_offline"
_READS = ("SELECT", "WITH", "VALUES", "SHOW", "TABLE", "FETCH", "EXPLAIN")
# an aggregate over no rows still answers one row: count() 0, exists() false, others NULL
_AGGREGATE = re.compile(
    r"^\s*SELECT\s+(?:(count)|(exists)|max|min|sum|avg|bool_or|bool_and|every|"
    r"array_agg|string_agg|json_agg|jsonb_agg)\s*\(",
    re.IGNORECASE,
)


class _Error(Exception):
    pass


class _DBAPI:
    """The DBAPI module: PEP 249 names, one ``connect``."""

    paramstyle = "named"
    apilevel = "2.0"
    threadsafety = 1
    Error = _Error
    Warning = type("Warning", (Exception,), {})
    InterfaceError = type("InterfaceError", (_Error,), {})
    DatabaseError = type("DatabaseError", (_Error,), {})
    DataError = type("DataError", (DatabaseError,), {})
    OperationalError = type("OperationalError", (DatabaseError,), {})
    IntegrityError = type("IntegrityError", (DatabaseError,), {})
    InternalError = type("InternalError", (DatabaseError,), {})
    ProgrammingError = type("ProgrammingError", (DatabaseError,), {})
    NotSupportedError = type("NotSupportedError", (DatabaseError,), {})

    @staticmethod
    def connect(
        record: Callable[[str], None] | None = None, pg_version: int = DEFAULT_VERSION, **_kwargs
    ) -> _DBConnection:
        return _DBConnection(record or (lambda sql: None), pg_version)


# what the server would say of itself: SHOW x, current_setting('x'), version()
_SETTING = re.compile(
    r"^\s*(?:SHOW\s+(\w+)|SELECT\s+(?:pg_catalog\.)?current_setting\s*\(\s*'(\w+)'"
    r"(?:\s*,\s*\w+)?\s*\)|SELECT\s+(?:pg_catalog\.)?(version|current_schema|current_database)"
    r"\s*\(\s*\))[^;]*;?\s*$",
    re.IGNORECASE,
)


def _settings(pg_version: int) -> dict[str, str]:
    return {
        "server_version": f"{pg_version}.0",
        "server_version_num": f"{pg_version}0000",
        "version": f"PostgreSQL {pg_version}.0 (expandcontract lint, offline)",
        "standard_conforming_strings": "on",
        "search_path": '"$user", public',
        "current_schema": "public",
        "current_database": "lint",
        "timezone": "UTC",
        "server_encoding": "UTF8",
        "lock_timeout": "0",
        "statement_timeout": "0",
    }


class _DBConnection:
    autocommit = False

    def __init__(self, record: Callable[[str], None], pg_version: int = DEFAULT_VERSION) -> None:
        self.record = record
        self.settings = _settings(pg_version)

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def commit(self) -> None:
        pass

    rollback = close = commit


class _Cursor:
    """Records what it is given; every result is empty. ``columns``: the names a read
    returns (from the compiled statement, when SQLAlchemy compiled it)."""

    arraysize = 1
    lastrowid = None

    def __init__(self, connection: _DBConnection) -> None:
        self.connection = connection
        self.description = None
        self.rowcount = 0
        self.columns: list[str] | None = None
        self.rows: list[tuple] = []

    def execute(self, statement: str, parameters=None) -> None:
        self.connection.record(statement)
        columns = self.columns
        if columns is None:
            head = statement.lstrip("( \n\t").split(None, 1)
            reads = bool(head) and head[0].upper() in _READS
            columns = ["?column?"] if reads or " RETURNING " in statement.upper() else []
        self.description = [(c, None, None, None, None, None, None) for c in columns] or None
        self.columns = None
        self.rows = []
        aggregate = _AGGREGATE.match(statement)
        setting = _SETTING.match(statement)
        if columns and aggregate and not re.search(r"\bGROUP\s+BY\b", statement, re.I):
            value = 0 if aggregate.group(1) else False if aggregate.group(2) else None
            self.rows = [tuple(value for _ in columns)]
        elif columns and setting:
            name = next(g for g in setting.groups() if g).lower()
            value = self.connection.settings.get(name)
            self.rows = [(value,)] if value is not None else []

    def executemany(self, statement: str, parameters=()) -> None:
        self.execute(statement)

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self) -> list:
        rows, self.rows = self.rows, []
        return rows

    def fetchmany(self, size=None) -> list:
        return self.fetchall()

    def close(self) -> None:
        pass

    def setinputsizes(self, *args) -> None:
        pass

    setoutputsize = setinputsizes


class OfflineDialect(PGDialect):
    """PostgreSQL as SQLAlchemy renders it, on the recording DBAPI; catalog reads answered
    from ``known`` (the schema the history has built so far)."""

    driver = DRIVER
    supports_statement_cache = True
    default_paramstyle = "named"
    known: Schema = Schema()
    pg_version = DEFAULT_VERSION

    @classmethod
    def import_dbapi(cls):
        return _DBAPI

    def initialize(self, connection) -> None:  # what a server would say, without asking one
        self.server_version_info = (self.pg_version, 0)
        self.default_schema_name = "public"
        self.default_isolation_level = "READ COMMITTED"
        self.supports_smallserial = True
        self._backslash_escapes = False
        self._supports_drop_index_concurrently = True
        self.supports_identity_columns = True
        self._supports_jsonb_subscripting = self.pg_version >= 14
        self.supports_virtual_generated_columns = self.pg_version >= 18

    def get_isolation_level(self, dbapi_connection) -> str:
        return "READ COMMITTED"

    def set_isolation_level(self, dbapi_connection, level) -> None:
        pass

    def do_ping(self, dbapi_connection) -> bool:
        return True

    def _cursor_columns(self, cursor, context) -> None:
        compiled = getattr(context, "compiled", None)
        result_columns = getattr(compiled, "_result_columns", None)
        if result_columns:
            cursor.columns = [c[0] for c in result_columns]

    def do_execute(self, cursor, statement, parameters, context=None) -> None:
        self._cursor_columns(cursor, context)
        cursor.execute(statement, parameters)

    def do_execute_no_params(self, cursor, statement, context=None) -> None:
        self._cursor_columns(cursor, context)
        cursor.execute(statement)

    def do_executemany(self, cursor, statement, parameters, context=None) -> None:
        cursor.executemany(statement, parameters)

    # --- the catalog, from the schema the history has built --------------------------

    @staticmethod
    def _key(table: str, schema: str | None) -> str:
        return f"{schema}.{table}" if schema and schema != "public" else table

    def _tables(self, schema: str | None) -> dict[str, dict[str, str]]:
        prefix = f"{schema}." if schema and schema != "public" else ""
        found = {}
        for key, columns in self.known.tables().items():
            if prefix and key.startswith(prefix):
                found[key[len(prefix) :]] = columns
            elif not prefix and "." not in key:
                found[key] = columns
        return found

    def has_table(self, connection, table_name, schema=None, **kw) -> bool:
        return table_name in self._tables(schema)

    def get_table_names(self, connection, schema=None, **kw) -> list[str]:
        return sorted(self._tables(schema))

    def get_schema_names(self, connection, **kw) -> list[str]:
        return sorted({"public"} | {t.split(".")[0] for t in self.known.tables() if "." in t})

    def _nothing(self, connection, *args, **kw) -> list:
        return []

    get_view_names = get_materialized_view_names = get_sequence_names = _nothing
    get_temp_table_names = get_temp_view_names = get_foreign_keys = _nothing
    get_unique_constraints = get_check_constraints = get_domains = _nothing

    def get_columns(self, connection, table_name, schema=None, **kw) -> list[dict]:
        columns = self._tables(schema).get(table_name)
        if columns is None:
            raise exc.NoSuchTableError(self._key(table_name, schema))
        return [
            {
                "name": name,
                "type": self._type(type_sql),
                "nullable": True,
                "default": None,
                "autoincrement": False,
                "comment": None,
            }
            for name, type_sql in columns.items()
        ]

    def _type(self, type_sql: str):
        base = type_sql.split("(")[0].split("[")[0].strip().lower()
        found = self.ischema_names.get(base)
        if found is None:
            return types.NullType()
        try:
            return found()
        except TypeError:
            return types.NullType()

    def get_pk_constraint(self, connection, table_name, schema=None, **kw) -> dict:
        return {"constrained_columns": [], "name": None}

    def get_indexes(self, connection, table_name, schema=None, **kw) -> list[dict]:
        key = self._key(table_name, schema)
        return [
            {"name": name, "column_names": list(columns), "unique": False, "dialect_options": {}}
            for name, (table, columns) in sorted(self.known.indexes.items())
            if table == key
        ]

    def has_index(self, connection, table_name, index_name, schema=None, **kw) -> bool:
        known = self.known.indexes.get(index_name)
        return known is not None and known[0] == self._key(table_name, schema)

    def has_type(self, connection, type_name, schema=None, **kw) -> bool:
        return self._key(type_name, schema) in self.known.types

    def has_sequence(self, connection, sequence_name, schema=None, **kw) -> bool:
        return False

    def _load_enums(self, connection, schema=None, **kw) -> list[dict]:
        return [
            {"name": name.split(".")[-1], "schema": schema, "visible": True, "labels": []}
            for name in sorted(self.known.types)
        ]

    get_enums = _load_enums

    def _load_domains(self, connection, schema=None, **kw) -> list[dict]:
        return []

    def get_table_comment(self, connection, table_name, schema=None, **kw) -> dict:
        return {"text": None}

    def get_table_options(self, connection, table_name, schema=None, **kw) -> dict:
        return {}

    # the multi-table reads, through the single-table ones above
    has_multi_table = DefaultDialect.has_multi_table
    get_multi_columns = DefaultDialect.get_multi_columns
    get_multi_pk_constraint = DefaultDialect.get_multi_pk_constraint
    get_multi_foreign_keys = DefaultDialect.get_multi_foreign_keys
    get_multi_indexes = DefaultDialect.get_multi_indexes
    get_multi_unique_constraints = DefaultDialect.get_multi_unique_constraints
    get_multi_check_constraints = DefaultDialect.get_multi_check_constraints
    get_multi_table_comment = DefaultDialect.get_multi_table_comment
    get_multi_table_options = DefaultDialect.get_multi_table_options


registry.register(f"postgresql.{DRIVER}", __name__, "OfflineDialect")


class _Marker:
    """``begin()`` inside a transaction (SQLAlchemy 1.x gave a marker): commits nothing."""

    def __enter__(self) -> _Marker:
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def commit(self) -> None:
        pass

    rollback = close = commit
    is_active = True


class _Branch:
    """``connection.connect()`` (SQLAlchemy 1.x): the same connection, which closing leaves
    open."""

    def __init__(self, connection: OfflineConnection) -> None:
        self._connection = connection

    def __enter__(self) -> OfflineConnection:
        return self._connection

    def __exit__(self, *exc_info) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


class OfflineConnection(Connection):
    """The migration's connection: already in a transaction, as Alembic's is."""

    def connect(self) -> _Branch:  # type: ignore[override]
        return _Branch(self)

    def execute(self, statement, parameters=None, *args, **kwargs):  # type: ignore[override]
        if isinstance(statement, str):  # SQLAlchemy 1.x: a string ran as it was written
            return self.exec_driver_sql(statement, parameters or {})
        return super().execute(statement, parameters, *args, **kwargs)

    def begin(self):  # type: ignore[override]
        if self.in_transaction():
            return _Marker()
        return super().begin()

    def begin_nested(self):  # type: ignore[override]
        return _Marker()

    def close(self) -> None:  # the revision's ``conn.close()`` leaves the migration's open
        pass


class OfflineEngine(Engine):
    _connection_cls = OfflineConnection

    def execute(self, statement, *args, **kwargs):  # SQLAlchemy 1.x: engine.execute()
        with self.connect() as connection:
            return connection.execute(statement, *args, **kwargs)


@contextlib.contextmanager
def offline_connection(record: Callable[[str], None], known: Schema, pg_version: int):
    """A connection of an offline engine whose statements go to ``record``; reads of the
    catalog answer from ``known``."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import StaticPool

    engine = create_engine(
        f"postgresql+{DRIVER}://offline/lint",
        poolclass=StaticPool,
        connect_args={"record": record, "pg_version": pg_version},
    )
    engine.__class__ = OfflineEngine
    engine.dialect.known = known
    engine.dialect.pg_version = pg_version
    connection = engine.connect()
    connection.begin()
    try:
        yield connection
    finally:
        with contextlib.suppress(Exception):
            Connection.close(connection)
        engine.dispose()
