"""drop-table TABLE

contract only, once no running version uses the table: it is renamed to
``expandcontract_dropped_TABLE`` in its schema, with its data, so the downgrade
brings it back whole. The archive stops enforcing its foreign keys (they are
recorded, and come back with it); a table other tables still reference is
refused. `expandcontract purge` drops archives once the rollback window has
passed.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, Kind, Phase, r


def autogenerate(op, gen):
    """A table the model no longer has."""
    return phases(gen.qualified(op.table_name, op.schema))


def phases(table):
    t = r(table)
    return {
        "contract": Phase(
            [LOCK_TIMEOUT, f"op.archive_table({t})"],
            [LOCK_TIMEOUT, f"op.restore_archived_table({t})"],
        )
    }


def precheck(bind, table):
    from expandcontract.kinds import missing
    from expandcontract.ops.tables import referencing

    return missing(bind, table) or referencing(bind, table)


KIND = Kind(
    name="drop-table",
    help="Retire a table in the contract phase, keeping it (and its data) for rollback.",
    params=[click.Argument(["table"], type=IDENTIFIER)],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("DropTableOp",),
)
