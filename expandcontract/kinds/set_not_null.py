"""set-not-null TABLE COLUMN [--backfill SQL]

migrate (with --backfill): NULLs filled in batches; switch: NOT NULL by the
lock-safe recipe (CHECK NOT VALID, VALIDATE, SET NOT NULL, drop the CHECK).
The old application version must no longer write NULL by the time switch runs.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, r
from expandcontract.schema.names import quote

NAME = "set-not-null"
HELP = "Make a column NOT NULL without a locked scan."
PARAMS = [
    click.Argument(["table"]),
    click.Argument(["column"]),
    click.Option(["--backfill"], metavar="SQL", help="Expression filling the NULLs first."),
]


def phases(table, column, backfill=None):
    t, c = r(table), r(column)
    result = {}
    if backfill:
        result["migrate"] = Phase(
            [f"op.backfill({t}, {c}, {r(backfill)}, where={r(f'{quote(column)} IS NULL')})"],
            [f"op.forget_backfill({t}, {c})"],
            kept=(f"{table}.{column}",),
        )
    result["switch"] = Phase(
        [LOCK_TIMEOUT, f"op.set_not_null({t}, {c})"],
        [LOCK_TIMEOUT, f"op.drop_not_null({t}, {c})"],
    )
    return result
