"""drop-column TABLE COLUMN

contract only, once no running version reads the column: it is dropped, its
type, NOT NULL, default, indexes, constraints, comment, grants and statistics
target recorded first, so the downgrade re-creates all of them. Its data is
what a drop gives up: the column comes back holding its default (evaluated once,
in the catalog, where PostgreSQL can: a constant, now(); filled in batches for a
NOT NULL column with a volatile one) and NOT NULL again if it was; with no
default, empty. Keep the data with rename-column instead.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, Kind, Phase, r


def autogenerate(op, gen):
    """A column the model no longer has (unless a rename carries it)."""
    return phases(gen.qualified(op.table_name, op.schema), op.column_name)


def phases(table, column):
    t, c = r(table), r(column)
    return {
        "contract": Phase(
            [
                LOCK_TIMEOUT,
                f"op.carry_over({t}, {c}, '', 'record')",
                f"op.drop_column_recorded({t}, {c})",
            ],
            [
                LOCK_TIMEOUT,
                f"op.restore_column({t}, {c}, complete=True)",
                f"op.carry_over({t}, {c}, '', 'recreate')",
                f"op.carry_over({t}, {c}, '', 'forget')",
            ],
            irreversible=f"the data of {table}.{column} is dropped; the downgrade restores "
            "the column holding its default, or NULL where it has none",
            kept=(f"{table}.{column}",),
        )
    }


def precheck(bind, table, column):
    from expandcontract.catalog.inventory import drop_problems
    from expandcontract.kinds import missing

    return missing(bind, table, column) or drop_problems(bind, table, column)


KIND = Kind(
    name="drop-column",
    help="Drop a column in the contract phase, reversibly for its definition.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["column"], type=IDENTIFIER),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("DropColumnOp",),
)
