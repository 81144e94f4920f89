"""add-unique TABLE COLUMN...

expand: a unique index built CONCURRENTLY (writes go on); switch: the UNIQUE
constraint attached to it (catalog only). Undoing switch detaches it and
rebuilds the index concurrently, so expand's state is exactly restored.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r
from expandcontract.schema.names import derived_name, in_schema_of

NAME = "add-unique"
HELP = "Add a UNIQUE constraint from an index built concurrently."
PARAMS = [click.Argument(["table"]), click.Argument(["columns"], nargs=-1, required=True)]


AUTOGENERATE = ("CreateUniqueConstraintOp",)


def autogenerate(op, gen):
    """A UNIQUE constraint the model adds."""
    table = gen.qualified(op.table_name, op.schema)
    return phases(table, list(op.columns), name=op.constraint_name)


def phases(table, columns, name=None):
    """``name``: the constraint's own (autogenerate keeps the model's)."""
    name = name or derived_name(table, *columns, "key")
    t, n, cols = r(table), r(name), "[" + ", ".join(r(c) for c in columns) + "]"
    qualified = r(in_schema_of(table, name))
    tn, schema = native(table)
    return {
        "expand": Phase(
            [f"op.create_index_concurrently({n}, {t}, {cols}, unique=True)"],
            [f"op.drop_index_concurrently({qualified})"],
        ),
        "switch": Phase(
            [LOCK_TIMEOUT, f"op.add_unique_using_index({t}, {n}, {n})"],
            [
                LOCK_TIMEOUT,
                f"op.drop_constraint({n}, {tn}{schema}, if_exists=True)  # drops its index too",
                f"op.create_index_concurrently({n}, {t}, {cols}, unique=True)",
            ],
        ),
    }


def precheck(bind, table, columns):
    from expandcontract.kinds import missing

    return missing(bind, table, *columns)
