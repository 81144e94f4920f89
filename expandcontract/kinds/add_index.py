"""add-index TABLE COLUMN... [--unique]

expand only: the index built CONCURRENTLY, outside the transaction; an INVALID
leftover of an interrupted build is dropped and rebuilt.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, Kind, Phase, r
from expandcontract.schema.names import in_schema_of, object_name


def autogenerate(op, gen):
    """An index the model adds, under the model's name."""
    table = gen.qualified(op.table_name, op.schema)
    return phases(table, [], unique=bool(op.unique), name=op.index_name, sources=gen.columns(op))


def phases(table, columns, unique=False, name=None, sources=None):
    """``name``: the index's own (autogenerate keeps the model's); ``sources``: each
    column as Python source already (``sa.text(...)`` for an expression)."""
    name = name or object_name(table.rsplit(".", 1)[-1], *columns, prefix="ix")
    cols = "[" + ", ".join(sources or [r(c) for c in columns]) + "]"
    flag = ", unique=True" if unique else ""
    return {
        "expand": Phase(
            [f"op.create_index_concurrently({r(name)}, {r(table)}, {cols}{flag})"],
            [f"op.drop_index_concurrently({r(in_schema_of(table, name))})"],
        )
    }


def precheck(bind, table, columns, unique=False):
    from expandcontract.kinds import missing

    return missing(bind, table, *columns)


KIND = Kind(
    name="add-index",
    help="Create an index concurrently.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["columns"], nargs=-1, required=True, type=IDENTIFIER),
        click.Option(["--unique"], is_flag=True),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("CreateIndexOp",),
)
