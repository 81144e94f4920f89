"""add-unique TABLE COLUMN...

expand: a unique index built CONCURRENTLY (writes go on); switch: the UNIQUE
constraint attached to it (catalog only). Undoing switch detaches it and
rebuilds the index concurrently, so expand's state is exactly restored.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r

NAME = "add-unique"
HELP = "Add a UNIQUE constraint from an index built concurrently."
PARAMS = [click.Argument(["table"]), click.Argument(["columns"], nargs=-1, required=True)]


def phases(table, columns):
    name = f"{table}_{'_'.join(columns)}_key"
    t, n, cols = r(table), r(name), "[" + ", ".join(r(c) for c in columns) + "]"
    tn, schema = native(table)
    return {
        "expand": Phase(
            [f"op.create_index_concurrently({n}, {t}, {cols}, unique=True)"],
            [f"op.drop_index_concurrently({n})"],
        ),
        "switch": Phase(
            [LOCK_TIMEOUT, f"op.add_unique_using_index({t}, {n}, {n})"],
            [
                LOCK_TIMEOUT,
                f"op.drop_constraint({n}, {tn}{schema})  # drops its index too",
                f"op.create_index_concurrently({n}, {t}, {cols}, unique=True)",
            ],
        ),
    }
