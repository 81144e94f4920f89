"""add-foreign-key TABLE COLUMN REFTABLE[.REFCOLUMN]

expand: the foreign key NOT VALID (enforced for new writes at once, no scan);
switch: VALIDATE CONSTRAINT in its own transaction (reads and writes go on).
REFTABLE may name its schema (billing.customers.id); REFCOLUMN defaults to id.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r
from expandcontract.schema.names import derived_name

NAME = "add-foreign-key"
HELP = "Add a foreign key without blocking writes to either table."
PARAMS = [
    click.Argument(["table"]),
    click.Argument(["column"]),
    click.Argument(["reference"], metavar="REFTABLE[.REFCOLUMN]"),
]


def split_reference(reference: str) -> tuple[str, str]:
    """``customers`` -> (customers, id); ``customers.uid``; ``billing.customers.uid``."""
    parts = reference.split(".")
    if len(parts) == 1:
        return reference, "id"
    return ".".join(parts[:-1]), parts[-1]


def phases(table, column, reference):
    ref_table, ref_column = split_reference(reference)
    name = derived_name(table, column, "fkey")
    t, n = r(table), r(name)
    tn, schema = native(table)
    add = (
        f"op.add_foreign_key_not_valid({n}, {t}, [{r(column)}], {r(ref_table)}, [{r(ref_column)}])"
    )
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
