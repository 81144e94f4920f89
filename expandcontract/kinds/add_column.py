"""add-column TABLE COLUMN TYPE [--not-null] [--default SQL] [--backfill SQL]

expand: the column, nullable, and its default for new rows (or, with only
--backfill, a trigger computing it for rows the old version writes); migrate:
existing rows filled in batches (from --backfill, else the default); switch:
NOT NULL by the lock-safe recipe; contract (with only --backfill): the trigger
goes, as no old version writes any more.
"""

from __future__ import annotations

import click

from expandcontract.errors import InputError
from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, RECORD, Kind, Phase, native, r


def autogenerate(op, gen):
    """A column the model adds: as Alembic writes it when it is nullable with nothing to
    fill; refused when NOT NULL with nothing to fill the existing rows with; else the
    phases (a default or ``info={"expandcontract": {"backfill": SQL}}`` fills them)."""
    column = op.column
    default = gen.default_sql(column)
    backfill = column.info.get("expandcontract", {}).get("backfill")
    plain = not (column.foreign_keys or column.unique or column.primary_key)
    if column.nullable and default is None and not backfill and plain:
        return gen.plain(op)
    if not column.nullable and default is None and not backfill:
        return gen.unsafe(
            op,
            "a NOT NULL column with neither a server_default nor "
            "info={'expandcontract': {'backfill': SQL}} cannot be filled for existing rows",
        )
    return phases(
        gen.qualified(op.table_name, op.schema),
        column.name,
        gen.type_sql(column.type),
        not_null=not column.nullable,
        default=default,
        backfill=backfill,
    )


def phases(table, column, type_, not_null=False, default=None, backfill=None):
    from expandcontract.kinds import check_sql_expression, check_sql_type

    check_sql_type(type_)
    for option, sql in (("--default", default), ("--backfill", backfill)):
        if sql is not None:
            check_sql_expression(sql, option)
    fill = backfill or default
    if not_null and fill is None:
        raise InputError(
            "add-column --not-null needs --default or --backfill to fill existing rows"
        )
    from expandcontract.schema.names import quote

    # IF [NOT] EXISTS: in a revision with a CONCURRENTLY step (autogenerate's), what ran
    # before a failed step has committed, and the rerun finds it done
    add = f"ALTER TABLE {quote(table)} ADD COLUMN IF NOT EXISTS {quote(column)} {type_}"
    tn, schema = native(table)
    expand = Phase(
        [LOCK_TIMEOUT, f"op.execute({r(add)})"],
        [LOCK_TIMEOUT, f"op.drop_column({tn}, {r(column)}{schema}, if_exists=True)"],
    )
    if default is not None:
        expand.upgrade.append(
            "op.execute("
            + r(f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET DEFAULT {default}")
            + ")"
        )
    result = {"expand": expand}
    if backfill is not None and default is None:
        # rows the old version writes until contract get the value computed too
        fill_trigger = (
            f"op.create_fill_trigger({r(table)}, {r(column)}, {r(backfill)}, when='omitted')"
        )
        expand.upgrade.append(fill_trigger)
        expand.downgrade.insert(1, f"op.drop_fill_trigger({r(table)}, {r(column)})")
        result["contract"] = Phase(
            [LOCK_TIMEOUT, f"op.drop_fill_trigger({r(table)}, {r(column)})"],
            [LOCK_TIMEOUT, fill_trigger],
        )
    if fill is not None:
        unfilled = r(f"{quote(column)} IS NULL")
        result["migrate"] = Phase(
            [f"op.backfill({r(table)}, {r(column)}, {r(fill)}, where={unfilled}, {RECORD})"],
            [f"op.forget_backfill({r(table)}, {r(column)}, {RECORD})"],
            kept=(f"{table}.{column}",),
        )
    if not_null:
        result["switch"] = Phase(
            [LOCK_TIMEOUT, f"op.set_not_null({r(table)}, {r(column)})"],
            [LOCK_TIMEOUT, f"op.drop_not_null({r(table)}, {r(column)})"],
        )
    return result


def precheck(bind, table, column, type_, not_null=False, default=None, backfill=None):
    from expandcontract.catalog.probes import has_column
    from expandcontract.kinds import missing, valid_type

    problems = missing(bind, table)
    if not problems and has_column(bind, table, column):
        problems.append(f"column {table}.{column} already exists")
    return problems + valid_type(bind, type_)


KIND = Kind(
    name="add-column",
    help="Add a column; NOT NULL and a computed fill without locking the table.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["column"], type=IDENTIFIER),
        click.Argument(["type_"], metavar="TYPE"),
        click.Option(["--not-null"], is_flag=True, help="Make it NOT NULL in the switch phase."),
        click.Option(["--default"], metavar="SQL", help="Default for new rows (and the fill)."),
        click.Option(["--backfill"], metavar="SQL", help="Expression filling existing rows."),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("AddColumnOp",),
)
