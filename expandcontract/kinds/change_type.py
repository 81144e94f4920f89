"""change-type TABLE COLUMN NEWTYPE [--using SQL] [--reverse SQL] [--new-name NAME]

expand: NAME (default COLUMN_new) of the new type, kept equal to COLUMN by a
two-way sync trigger converting with --using (old to new) and --reverse (new to
old), with COLUMN's indexes, constraints, comment, grants and statistics target
carried over as rename-column does; migrate: existing rows converted in
batches; switch: the carried constraints are validated, NAME becomes NOT NULL
if COLUMN is; contract: COLUMN's default (cast to the new type) and sequence
move over, the trigger and COLUMN go, the carried objects take the original
names.
The new application version reads and writes NAME (rename it back to COLUMN
later with rename-column, if wanted).
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, Kind, carry_problems, valid_type
from expandcontract.kinds.replace_column import Replacement
from expandcontract.kinds.replace_column import phases as replaced
from expandcontract.schema.names import check_identifier, quote


def phases(table, column, new_type, using=None, reverse=None, new_name=None, swap=False):
    """``swap``: the contract gives the new column the old one's name (autogenerate, where
    the model keeps the name); the new version then reads COLUMN from the contract on."""
    from expandcontract.kinds import check_sql_expression, check_sql_type

    check_sql_type(new_type, "NEWTYPE")
    for option, sql in (("--using", using), ("--reverse", reverse)):
        if sql:
            check_sql_expression(sql, option)
    new = new_name or f"{column}_new"
    if not new_name:
        check_identifier(new, "the new column --new-name defaults to")
    using = using or f"{quote(column)}::{new_type}"
    return replaced(Replacement(table, column, new, new_type, using, reverse, swap))


def autogenerate(op, gen):
    """A column whose model type changed: a synced new column swapped in under the old
    name; the downgrade casts back to the type the model had."""
    if op.modify_type is None:
        return None
    column = op.column_name
    old_type = gen.type_sql(op.existing_type) if op.existing_type is not None else None
    reverse = f"{column}_new::{old_type}" if old_type else None
    table = gen.qualified(op.table_name, op.schema)
    return phases(table, column, gen.type_sql(op.modify_type), reverse=reverse, swap=True)


def precheck(bind, table, column, new_type, using=None, reverse=None, new_name=None):
    return carry_problems(bind, table, column, new_name or f"{column}_new") + valid_type(
        bind, new_type
    )


KIND = Kind(
    name="change-type",
    help="Change a column's type with no table rewrite: a synced new column.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["column"], type=IDENTIFIER),
        click.Argument(["new_type"], metavar="NEWTYPE"),
        click.Option(
            ["--using"], metavar="SQL", help="Old to new, naming COLUMN (default: a cast)."
        ),
        click.Option(["--reverse"], metavar="SQL", help="New to old, naming the new column."),
        click.Option(
            ["--new-name"],
            metavar="NAME",
            type=IDENTIFIER,
            help="The new column's name (COLUMN_new).",
        ),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    autogenerate=autogenerate,
    operations=("AlterColumnOp",),
)
