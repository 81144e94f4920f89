"""Change kinds: one module each, each ending in ``KIND = Kind(...)``, as a rule ends in
``RULE = Rule(...)``.

A kind turns its arguments into the phases of one change: ``phases(**args) ->
{phase: Phase}`` (fewer than four where it needs fewer). ``precheck(bind, **args)``
lists what the live database says against the change before ``new`` writes
anything; ``autogenerate(op, gen)`` maps one of Alembic's autogenerate operations
(those named in ``operations``) to its phases (``gen``: see
:class:`~expandcontract.phases.autogenerate.Autogen`). The phases are Python source
for the revisions' ``upgrade()`` and ``downgrade()``: readable, and the developer's
to edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

import click

from expandcontract.phases import PHASES  # noqa: F401  (re-exported for the kinds)

LOCK_TIMEOUT = "op.set_lock_timeout()"
# a backfill's progress is recorded under its revision's id (a name every generated revision
# defines), so another change of a column of the same name never finds it done
RECORD = "record=revision"


@dataclass
class Phase:
    upgrade: list[str] = field(default_factory=list)
    downgrade: list[str] = field(default_factory=list)
    # why the downgrade cannot restore the data exactly (read by `expandcontract verify`)
    irreversible: str | None = None
    # "table.column"s whose values the downgrade keeps or loses: the only data verify excuses
    kept: tuple[str, ...] = ()
    # what the change is, for the two-version contract checker (verify --contract): a dict
    # per change the revision carries part of, e.g. a replaced column and its conversions
    changes: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Kind:
    name: str  # the `expandcontract new NAME` subcommand
    help: str  # one line, for `expandcontract new --help`
    params: list[click.Parameter]  # its arguments and options; identifiers typed IDENTIFIER
    phases: Callable[..., dict[str, Phase]]
    doc: str = ""  # the module's docstring: the subcommand's help page
    precheck: Callable[..., list[str]] | None = None
    # what the live database says that changes what is written (extra ``phases`` arguments)
    inspect: Callable[..., dict] | None = None
    autogenerate: Callable | None = None
    operations: tuple[str, ...] = ()  # Alembic autogenerate operations ``autogenerate`` maps


class Identifier(click.ParamType):
    """A table or column name (``schema.table`` for a table) that PostgreSQL keeps whole:
    refused when a part is over 63 bytes, which PostgreSQL would cut silently."""

    name = "identifier"

    def convert(self, value, param, ctx):
        from expandcontract.errors import InputError
        from expandcontract.schema.names import check_identifier

        what = (param.human_readable_name if param else "name").lower().replace("_", "-")
        try:
            check_identifier(value, what)
        except InputError as err:
            self.fail(str(err), param, ctx)
        return value


IDENTIFIER = Identifier()

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


def kinds() -> dict[str, Kind]:
    return {k.name: k for k in (import_module(f"{__name__}.{m}").KIND for m in _MODULES)}


def by_operation() -> dict[str, list[Kind]]:
    """The kinds that map each of Alembic's autogenerate operations (by class name), in
    the order they apply."""
    found: dict[str, list[Kind]] = {}
    for kind in kinds().values():
        for operation in kind.operations:
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


def missing(bind, table: str, *columns: str) -> list[str]:
    """Sentences for a table or columns that are not there."""
    from expandcontract.catalog import probes

    if not probes.relation_exists(bind, table):
        return [f"table {table} does not exist"]
    return [
        f"column {table}.{column} does not exist"
        for column in columns
        if not probes.has_column(bind, table, column)
    ]


def carry_problems(bind, table: str, column: str, target: str) -> list[str]:
    """What keeps ``column`` from being replaced by ``target`` while both versions run."""
    from expandcontract.catalog import probes
    from expandcontract.catalog.inventory import column_inventory

    problems = missing(bind, table, column)
    if problems:
        return problems
    if probes.has_column(bind, table, target):
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
