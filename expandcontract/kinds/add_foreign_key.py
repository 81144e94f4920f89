"""add-foreign-key TABLE COLUMN REFTABLE[.REFCOLUMN]

expand: the foreign key NOT VALID (enforced for new writes at once, no scan);
switch: VALIDATE CONSTRAINT in its own transaction (reads and writes go on).
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r

NAME = "add-foreign-key"
HELP = "Add a foreign key without blocking writes to either table."
PARAMS = [
    click.Argument(["table"]),
    click.Argument(["column"]),
    click.Argument(["reference"], metavar="REFTABLE[.REFCOLUMN]"),
]


def phases(table, column, reference):
    ref_table, _, ref_column = reference.partition(".")
    name = f"{table}_{column}_fkey"
    t, n = r(table), r(name)
    tn, schema = native(table)
    return {
        "expand": Phase(
            [
                LOCK_TIMEOUT,
                f"op.add_foreign_key_not_valid({n}, {t}, [{r(column)}], {r(ref_table)}, "
                f"[{r(ref_column or 'id')}])",
            ],
            [LOCK_TIMEOUT, f"op.drop_constraint({n}, {tn}{schema})"],
        ),
        "switch": Phase(
            [f"op.validate_constraint({t}, {n})"],
            [
                LOCK_TIMEOUT,
                f"op.drop_constraint({n}, {tn}{schema})  # back to NOT VALID, as expand left it",
                f"op.add_foreign_key_not_valid({n}, {t}, [{r(column)}], {r(ref_table)}, "
                f"[{r(ref_column or 'id')}])",
            ],
        ),
    }
