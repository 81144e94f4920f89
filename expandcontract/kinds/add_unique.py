"""add-unique TABLE COLUMN...

expand: a unique index built CONCURRENTLY (writes go on); switch: the UNIQUE
constraint attached to it (catalog only). Undoing switch detaches it and
rebuilds the index concurrently, so expand's state is exactly restored.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, Kind, Phase, native, r
from expandcontract.schema.names import derived_name, in_schema_of


def autogenerate(op, gen):
    """A UNIQUE constraint the model adds, with its PostgreSQL options (INCLUDE,
    NULLS NOT DISTINCT) on the index it is built from."""
    options, unknown = gen.index_options(op.kw)
    if unknown:
        return gen.unsafe(op, f"expandcontract does not build a UNIQUE with {', '.join(unknown)}")
    table = gen.qualified(op.table_name, op.schema)
    return phases(table, list(op.columns), name=op.constraint_name, options=options)


def phases(table, columns, name=None, options=()):
    """``name``: the constraint's own (autogenerate keeps the model's); ``options``:
    keyword arguments of ``op.create_index_concurrently`` as Python source."""
    name = name or derived_name(table, *columns, "key")
    t, n, cols = r(table), r(name), "[" + ", ".join(r(c) for c in columns) + "]"
    qualified = r(in_schema_of(table, name))
    tn, schema = native(table)
    rest = "".join(f", {o}" for o in ["unique=True", *options])
    build = f"op.create_index_concurrently({n}, {t}, {cols}{rest})"
    return {
        "expand": Phase([build], [f"op.drop_index_concurrently({qualified})"]),
        "switch": Phase(
            [LOCK_TIMEOUT, f"op.add_unique_using_index({t}, {n}, {n})"],
            [
                LOCK_TIMEOUT,
                f"op.drop_constraint({n}, {tn}{schema}, if_exists=True)  # drops its index too",
                build,
            ],
        ),
    }


def precheck(bind, table, columns):
    from expandcontract.kinds import missing

    return missing(bind, table, *columns)


KIND = Kind(
    name="add-unique",
    help="Add a UNIQUE constraint from an index built concurrently.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["columns"], nargs=-1, required=True, type=IDENTIFIER),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("CreateUniqueConstraintOp",),
)
