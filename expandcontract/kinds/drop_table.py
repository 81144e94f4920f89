"""drop-table TABLE

contract only, once no running version uses the table: it is renamed to
``expandcontract_dropped_TABLE``, with its data, so the downgrade brings it back
whole. Drop the archive once the rollback window has passed.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, r

NAME = "drop-table"
HELP = "Retire a table in the contract phase, keeping it (and its data) for rollback."
PARAMS = [click.Argument(["table"])]


def phases(table):
    archive = f"expandcontract_dropped_{table}"
    return {
        "contract": Phase(
            [LOCK_TIMEOUT, f"op.rename_table({r(table)}, {r(archive)})"],
            [LOCK_TIMEOUT, f"op.rename_table({r(archive)}, {r(table)})"],
        )
    }
