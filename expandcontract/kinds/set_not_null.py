"""set-not-null TABLE COLUMN [--backfill SQL]

expand (with --backfill): a trigger filling the NULLs the old application
version still writes; migrate (with --backfill): existing NULLs filled in
batches; switch: NOT NULL by the lock-safe recipe (CHECK NOT VALID, VALIDATE,
SET NOT NULL, drop the CHECK); contract (with --backfill): the trigger goes.
Without --backfill the old version must no longer write NULL by the time switch
runs; if a NULL is still there, switch fails and leaves nothing behind.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, RECORD, Kind, Phase, r
from expandcontract.schema.names import quote


def autogenerate(op, gen):
    """A column the model makes NOT NULL."""
    if op.modify_nullable is not False:
        return None
    return phases(gen.qualified(op.table_name, op.schema), op.column_name)


def phases(table, column, backfill=None):
    if backfill:
        from expandcontract.kinds import check_sql_expression

        check_sql_expression(backfill, "--backfill")
    t, c = r(table), r(column)
    result = {}
    if backfill:
        fill = f"op.create_fill_trigger({t}, {c}, {r(backfill)})"
        drop = f"op.drop_fill_trigger({t}, {c})"
        result["expand"] = Phase([LOCK_TIMEOUT, fill], [LOCK_TIMEOUT, drop])
        unfilled = r(f"{quote(column)} IS NULL")
        result["migrate"] = Phase(
            [f"op.backfill({t}, {c}, {r(backfill)}, where={unfilled}, {RECORD})"],
            [f"op.forget_backfill({t}, {c}, {RECORD})"],
            kept=(f"{table}.{column}",),
        )
    result["switch"] = Phase(
        [LOCK_TIMEOUT, f"op.set_not_null({t}, {c})"],
        [LOCK_TIMEOUT, f"op.drop_not_null({t}, {c})"],
    )
    if backfill:
        result["contract"] = Phase([LOCK_TIMEOUT, drop], [LOCK_TIMEOUT, fill])
    return result


def precheck(bind, table, column, backfill=None):
    from expandcontract.kinds import missing

    return missing(bind, table, column)


KIND = Kind(
    name="set-not-null",
    help="Make a column NOT NULL without a locked scan.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["column"], type=IDENTIFIER),
        click.Option(["--backfill"], metavar="SQL", help="Expression filling the NULLs first."),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("AlterColumnOp",),
)
