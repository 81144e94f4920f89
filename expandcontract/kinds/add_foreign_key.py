"""add-foreign-key TABLE COLUMN REFTABLE[.REFCOLUMN]

expand: the foreign key NOT VALID (enforced for new writes at once, no scan);
switch: VALIDATE CONSTRAINT in its own transaction (reads and writes go on).
REFTABLE may name its schema (billing.customers.id); REFCOLUMN defaults to id.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, Kind, Phase, native, r
from expandcontract.schema.names import derived_name


def split_reference(reference: str) -> tuple[str, str]:
    """``customers`` -> (customers, id); ``customers.uid``; ``billing.customers.uid``."""
    parts = reference.split(".")
    if len(parts) == 1:
        return reference, "id"
    return ".".join(parts[:-1]), parts[-1]


def phases(table, column, reference, options=()):
    """``options``: keyword arguments of ``op.add_foreign_key_not_valid`` as Python source
    (``ondelete='CASCADE'``), as autogenerate maps a model's."""
    ref_table, ref_column = split_reference(reference)
    name = derived_name(table, column, "fkey")
    return _phases(table, name, [column], ref_table, [ref_column], options)


# what a model's foreign key may say beside its columns, as op.add_foreign_key_not_valid
# takes it (SQLAlchemy's ForeignKeyConstraint arguments)
OPTIONS = ("ondelete", "onupdate", "deferrable", "initially", "match")


def autogenerate(op, gen):
    """A foreign key the model adds to an existing column, with its ON DELETE / ON UPDATE
    actions, deferrability and MATCH."""
    table = gen.qualified(op.source_table, op.kw.get("source_schema"))
    ref_table = gen.qualified(op.referent_table, op.kw.get("referent_schema"))
    name = op.constraint_name or derived_name(table, *op.local_cols, "fkey")
    options = [f"{k}={op.kw[k]!r}" for k in OPTIONS if op.kw.get(k) is not None]
    return _phases(table, name, list(op.local_cols), ref_table, list(op.remote_cols), options)


def _phases(table, name, columns, ref_table, ref_columns, options=()):
    t, n = r(table), r(name)
    tn, schema = native(table)
    local = "[" + ", ".join(r(c) for c in columns) + "]"
    remote = "[" + ", ".join(r(c) for c in ref_columns) + "]"
    rest = "".join(f", {o}" for o in options)
    add = f"op.add_foreign_key_not_valid({n}, {t}, {local}, {r(ref_table)}, {remote}{rest})"
    return {
        "expand": Phase(
            [LOCK_TIMEOUT, add],
            [LOCK_TIMEOUT, f"op.drop_constraint({n}, {tn}{schema}, if_exists=True)"],
        ),
        "switch": Phase(
            [f"op.validate_constraint({t}, {n})"],
            [
                LOCK_TIMEOUT,
                # back to NOT VALID, as expand left it
                f"op.drop_constraint({n}, {tn}{schema}, if_exists=True)",
                add,
            ],
        ),
    }


def precheck(bind, table, column, reference):
    from expandcontract.kinds import missing

    ref_table, ref_column = split_reference(reference)
    return missing(bind, table, column) + missing(bind, ref_table, ref_column)


KIND = Kind(
    name="add-foreign-key",
    help="Add a foreign key without blocking writes to either table.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["column"], type=IDENTIFIER),
        click.Argument(["reference"], metavar="REFTABLE[.REFCOLUMN]", type=IDENTIFIER),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("CreateForeignKeyOp",),
)
