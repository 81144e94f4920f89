"""drop-column TABLE COLUMN

contract only, once no running version reads the column: it is dropped, its
type, NOT NULL and default recorded first, so the downgrade re-creates it
(empty: its data is what a drop gives up; keep it with rename-column instead).
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, r

NAME = "drop-column"
HELP = "Drop a column in the contract phase, reversibly for its definition."
PARAMS = [click.Argument(["table"]), click.Argument(["column"])]


def phases(table, column):
    t, c = r(table), r(column)
    return {
        "contract": Phase(
            [LOCK_TIMEOUT, f"op.drop_column_recorded({t}, {c})"],
            [LOCK_TIMEOUT, f"op.restore_column({t}, {c})"],
            irreversible=f"the data of {table}.{column} is dropped; the downgrade restores "
            "the column empty",
        )
    }


def precheck(bind, table, column):
    from expandcontract.kinds import missing

    return missing(bind, table, column)
