"""Index operations: built and dropped CONCURRENTLY, outside the revision's transaction."""

from __future__ import annotations

from expandcontract.catalog import probes
from expandcontract.ops.registry import online, operation
from expandcontract.ops.waits import WaitTimeout, watched
from expandcontract.schema.names import quote


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
            with watched(operations, sql, f"building index {name}"):
                operations.execute(sql)
        except Exception as err:
            if is_online:
                dropped = _drop_leftover(operations, qualified, name)
                if isinstance(err, WaitTimeout):
                    err.cleanup = (
                        f"the INVALID index {name} it left was dropped"
                        if dropped
                        else f"the INVALID index {name} it left could not be dropped yet (its "
                        "drop waits on the same sessions): `expandcontract status` lists it "
                        "and the next run drops it"
                    )
            raise


def _drop_leftover(operations, qualified: str, name: str) -> bool:
    """Drop what a failed build left (its drop waits on the same old transactions as the
    build, so it is bounded the same way); whether it is gone."""
    drop = f"DROP INDEX CONCURRENTLY IF EXISTS {qualified}"
    try:
        with watched(operations, drop, f"dropping the unfinished index {name}"):
            operations.execute(drop)
    except Exception:
        return False
    return True


def _reverse_create(op):
    return "drop_index_concurrently", {"index_name": op.index_name}


# the PostgreSQL options of an index a model may give, as SQLAlchemy's ``Index`` takes them
# (``postgresql_concurrently`` is ours: every build here is concurrent)
OPTIONS = (
    "postgresql_where",
    "postgresql_using",
    "postgresql_include",
    "postgresql_ops",
    "postgresql_with",
    "postgresql_nulls_not_distinct",
)


def create_index_sql(
    index_name: str, table_name: str, columns, unique: bool = False, **options
) -> str:
    """CREATE [UNIQUE] INDEX CONCURRENTLY IF NOT EXISTS, rendered by SQLAlchemy's PostgreSQL
    dialect from an ``Index`` with ``options`` (see :data:`OPTIONS`; a string
    ``postgresql_where`` is SQL). Each column is a name, or an expression as
    ``sa.text(...)``; the names only ``postgresql_include`` and ``postgresql_ops`` mention
    join the stand-in table, as Alembic's own ``create_index`` does."""
    from sqlalchemy import Column, Index, MetaData, Table, text
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex
    from sqlalchemy.sql.elements import TextClause
    from sqlalchemy.types import NULLTYPE

    schema, _, name = table_name.rpartition(".")
    table = Table(name, MetaData(), schema=schema or None)

    def column(name: str) -> Column:
        if name not in table.c:
            table.append_column(Column(name, NULLTYPE))
        return table.c[name]

    elements = [c if isinstance(c, TextClause) else column(c) for c in columns]
    mentioned = [*(options.get("postgresql_include") or ()), *(options.get("postgresql_ops") or {})]
    for name in mentioned:
        column(name)
    if isinstance(options.get("postgresql_where"), str):
        options["postgresql_where"] = text(options["postgresql_where"])
    index = Index(
        index_name,
        *elements,
        unique=unique,
        _table=table,
        postgresql_concurrently=True,
        **{k: v for k, v in options.items() if v is not None},
    )
    return str(CreateIndex(index, if_not_exists=True).compile(dialect=postgresql.dialect()))


@operation(reverse=_reverse_create)
def create_index_concurrently(
    operations,
    index_name,
    table_name,
    columns,
    unique=False,
    where=None,
    postgresql_where=None,
    postgresql_using=None,
    postgresql_include=None,
    postgresql_ops=None,
    postgresql_with=None,
    postgresql_nulls_not_distinct=None,
) -> None:
    """CREATE INDEX CONCURRENTLY outside the transaction; an INVALID leftover is rebuilt.

    Takes the PostgreSQL options SQLAlchemy's ``Index`` takes: ``postgresql_where`` (or
    ``where``, SQL), ``_using``, ``_include``, ``_ops``, ``_with``, ``_nulls_not_distinct``."""
    sql = create_index_sql(
        index_name,
        table_name,
        columns,
        unique,
        postgresql_where=postgresql_where if postgresql_where is not None else where,
        postgresql_using=postgresql_using,
        postgresql_include=postgresql_include,
        postgresql_ops=postgresql_ops,
        postgresql_with=postgresql_with,
        postgresql_nulls_not_distinct=postgresql_nulls_not_distinct,
    )
    build(operations, table_name, index_name, sql)


class ReplicaIdentityIndex(Exception):
    """The index to drop is its table's replica identity."""


@operation
def drop_index_concurrently(operations, index_name) -> None:
    """DROP INDEX CONCURRENTLY IF EXISTS, outside the transaction. Refused for the index
    a table's ``REPLICA IDENTITY USING INDEX`` names: without it, a published table
    refuses every UPDATE and DELETE."""
    if online(operations):
        table = probes.replica_identity_of(operations.get_bind(), index_name)
        if table is not None:
            raise ReplicaIdentityIndex(
                f"index {index_name} is the replica identity of {table}: dropping it would "
                "make a published table refuse every UPDATE and DELETE. Give the table "
                f"another one first (ALTER TABLE {table} REPLICA IDENTITY USING INDEX "
                "<another unique index>, or DEFAULT), then run the same command again"
            )
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
