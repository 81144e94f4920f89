"""add-index TABLE COLUMN... [--unique]

expand only: the index built CONCURRENTLY, outside the transaction; an INVALID
leftover of an interrupted build is dropped and rebuilt.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, Kind, Phase, r
from expandcontract.schema.names import in_schema_of, object_name


def autogenerate(op, gen):
    """An index the model adds, under the model's name, with its PostgreSQL options
    (predicate, method, INCLUDE, opclasses, storage parameters, NULLS NOT DISTINCT)."""
    options, unknown = gen.index_options(op.kw)
    if unknown:
        return gen.unsafe(op, f"expandcontract does not build an index with {', '.join(unknown)}")
    table = gen.qualified(op.table_name, op.schema)
    return phases(
        table,
        [],
        unique=bool(op.unique),
        name=op.index_name,
        sources=gen.columns(op),
        options=options,
    )


def phases(table, columns, unique=False, name=None, sources=None, options=()):
    """``name``: the index's own (autogenerate keeps the model's); ``sources``: each
    column as Python source already (``sa.text(...)`` for an expression); ``options``:
    keyword arguments of ``op.create_index_concurrently`` as Python source
    (``postgresql_where=sa.text('price > 0')``)."""
    name = name or object_name(table.rsplit(".", 1)[-1], *columns, prefix="ix")
    cols = "[" + ", ".join(sources or [r(c) for c in columns]) + "]"
    rest = "".join(f", {o}" for o in (["unique=True"] if unique else []) + list(options))
    return {
        "expand": Phase(
            [f"op.create_index_concurrently({r(name)}, {r(table)}, {cols}{rest})"],
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
