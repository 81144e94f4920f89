"""Change kinds: one module each. A kind turns its arguments into the phases of one change.

Every module defines ``NAME``, ``PARAMS`` (its click arguments and options) and
``phases(**args) -> dict[phase, Phase]``; a kind that needs fewer than four
phases returns fewer. ``precheck(bind, **args)`` lists what the live database says
against the change; ``AUTOGENERATE`` names the Alembic operations the kind maps,
and ``autogenerate(op, gen)`` turns one into its phases (``alembic revision
--autogenerate`` calls it; ``gen`` renders and names, see
:class:`~expandcontract.phases.autogenerate.Autogen`). The code is
Python source for the revision's ``upgrade()`` and ``downgrade()``: readable, and
the developer's to edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

from expandcontract.phases import PHASES  # noqa: F401  (re-exported for the kinds)

LOCK_TIMEOUT = "op.set_lock_timeout()"


@dataclass
class Phase:
    upgrade: list[str] = field(default_factory=list)
    downgrade: list[str] = field(default_factory=list)
    # why the downgrade cannot restore the data exactly (read by `expandcontract verify`)
    irreversible: str | None = None
    # "table.column"s whose values the downgrade keeps or loses: the only data verify excuses
    kept: tuple[str, ...] = ()


_MODULES = (
    "add_column",
    "rename_column",
    "change_type",
    "set_not_null",
    "add_foreign_key",
    "add_unique",
    "add_index",
    "drop_column",
    "rename_table",
    "drop_table",
)


def kinds():
    return {m.NAME: m for m in (import_module(f"{__name__}.{name}") for name in _MODULES)}


def by_operation() -> dict[str, list]:
    """The kinds that map each of Alembic's autogenerate operations (by class name), in
    the order they apply: a kind's ``AUTOGENERATE`` names the operations its
    ``autogenerate(op, gen)`` reads, which returns its phases or None."""
    found: dict[str, list] = {}
    for kind in kinds().values():
        for operation in getattr(kind, "AUTOGENERATE", ()):
            found.setdefault(operation, []).append(kind)
    return found


def r(value: str) -> str:
    """A Python literal for generated code."""
    return repr(value)


def native(table: str) -> tuple[str, str]:
    """For Alembic's own ops (``op.drop_column`` and the like), which quote their table
    name as one identifier: the table's name literal and a ``, schema=...`` argument."""
    if "." in table:
        schema, name = table.rsplit(".", 1)
        return r(name), f", schema={r(schema)}"
    return r(table), ""


# --- what a kind checks against the live database before `new` writes anything ------------


def _exists(bind, sql: str, **params) -> bool:
    from sqlalchemy import text

    return bool(bind.execute(text(sql), params).scalar())


def missing(bind, table: str, *columns: str) -> list[str]:
    """Sentences for a table or columns that are not there."""
    from expandcontract.schema.names import quote

    if not _exists(bind, "SELECT to_regclass(:t) IS NOT NULL", t=quote(table)):
        return [f"table {table} does not exist"]
    return [
        f"column {table}.{column} does not exist"
        for column in columns
        if not has_column(bind, table, column)
    ]


def has_column(bind, table: str, column: str) -> bool:
    from expandcontract.schema.names import quote

    return _exists(
        bind,
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = :c "
        "AND attnum > 0 AND NOT attisdropped",
        t=quote(table),
        c=column,
    )


def carry_problems(bind, table: str, column: str, target: str) -> list[str]:
    """What keeps ``column`` from being replaced by ``target`` while both versions run."""
    from expandcontract.catalog.inventory import column_inventory

    problems = missing(bind, table, column)
    if problems:
        return problems
    if has_column(bind, table, target):
        problems.append(f"column {table}.{target} already exists")
    return problems + column_inventory(bind, table, column).refusals


def check_sql_type(type_sql: str, what: str = "TYPE") -> None:
    """Refuse a type that is not one type (``text; DROP TABLE x`` would run as SQL)."""
    import sqlglot
    from sqlglot import exp

    from expandcontract.errors import InputError

    try:
        exp.DataType.build(type_sql, dialect="postgres", udt=True)
    except (sqlglot.errors.SqlglotError, ValueError, TypeError):
        raise InputError(f"{what} {type_sql!r} is not a PostgreSQL type") from None


def check_sql_expression(sql: str, what: str) -> None:
    """Refuse an expression that is more than one (``0; DROP TABLE x``)."""
    import sqlglot

    from expandcontract.errors import InputError

    try:
        statements = [s for s in sqlglot.parse(f"SELECT {sql}", read="postgres") if s]
    except sqlglot.errors.SqlglotError:
        raise InputError(f"{what} {sql!r} is not an SQL expression") from None
    if len(statements) != 1:
        raise InputError(f"{what} {sql!r} is more than one SQL expression")


def valid_type(bind, type_sql: str) -> list[str]:
    """A sentence if the database does not know ``type_sql`` (a bound parameter keeps it
    to one statement); the probe is rolled back."""
    from sqlalchemy import text

    try:
        bind.execute(text(f"SELECT CAST(:probe AS {type_sql})"), {"probe": None})
    except Exception as err:
        message = str(getattr(err, "orig", err)).strip().splitlines()[0]
        return [f"type {type_sql} is not usable here: {message}"]
    finally:
        bind.rollback()
    return []
