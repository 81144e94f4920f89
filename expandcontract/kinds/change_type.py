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

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r
from expandcontract.schema.names import check_identifier, quote

NAME = "change-type"
HELP = "Change a column's type with no table rewrite: a synced new column."
PARAMS = [
    click.Argument(["table"]),
    click.Argument(["column"]),
    click.Argument(["new_type"], metavar="NEWTYPE"),
    click.Option(["--using"], metavar="SQL", help="Old to new, naming COLUMN (default: a cast)."),
    click.Option(["--reverse"], metavar="SQL", help="New to old, naming the new column."),
    click.Option(["--new-name"], metavar="NAME", help="The new column's name (COLUMN_new)."),
]


AUTOGENERATE = ("AlterColumnOp",)


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
    t, c, n = r(table), r(column), r(new)
    tn, schema = native(table)
    backward = r(reverse) if reverse else "None"
    sync = f"op.create_sync_trigger({t}, {c}, {n}, forward={r(using)}, backward={backward})"
    result = {
        "expand": Phase(
            [
                LOCK_TIMEOUT,
                f"op.carry_over({t}, {c}, {n}, 'check')",
                f"op.copy_column({t}, {c}, {n}, type_={r(new_type)})",
                sync,
                f"op.carry_over({t}, {c}, {n}, 'expand')",
            ],
            [
                LOCK_TIMEOUT,
                f"op.drop_sync_trigger({t}, {c}, {n})",
                f"op.drop_column({tn}, {n}{schema})",
                f"op.carry_over({t}, {c}, {n}, 'forget')",
            ],
        ),
        "migrate": Phase(
            [f"op.backfill({t}, {n}, {r(using)})"],
            [f"op.forget_backfill({t}, {n})"],
            kept=(f"{table}.{new}",),
        ),
        "switch": Phase(
            [
                LOCK_TIMEOUT,
                f"op.carry_over({t}, {c}, {n}, 'switch')",
                f"op.copy_not_null({t}, {c}, {n})",
            ],
            [
                LOCK_TIMEOUT,
                f"op.drop_not_null({t}, {n})",
                f"op.carry_over({t}, {c}, {n}, 'unswitch')",
            ],
        ),
        "contract": Phase(
            [
                LOCK_TIMEOUT,
                f"op.copy_default({t}, {c}, {n}, cast=True)",
                f"op.carry_over({t}, {c}, {n}, 'hand_over')",
                f"op.drop_sync_trigger({t}, {c}, {n})",
                f"op.drop_column_recorded({t}, {c})",
                f"op.carry_over({t}, {c}, {n}, 'rename')",
            ],
            [
                LOCK_TIMEOUT,
                f"op.restore_column({t}, {c})",
                sync,
                f"op.forget_backfill({t}, {c})",
                f"op.backfill({t}, {c}, {r(reverse)})"
                if reverse
                else f"op.backfill({t}, {c}, cast_from={n})",
                f"op.forget_backfill({t}, {c})",
                f"op.copy_not_null({t}, {n}, {c})",
                f"op.drop_default({t}, {n})",
                f"op.carry_over({t}, {c}, {n}, 'restore')",
            ],
            irreversible=f"undoing the contract converts {new} back to {column}'s type: a "
            "value that does not survive the round trip (JSON spacing and key order, "
            "precision, time zone) comes back converted",
            kept=(f"{table}.{column}",),
        ),
    }
    if swap:
        contract = result["contract"]
        contract.upgrade.append(f"op.alter_column({tn}, {n}, new_column_name={c}{schema})")
        contract.downgrade.insert(1, f"op.alter_column({tn}, {c}, new_column_name={n}{schema})")
    return result


def precheck(bind, table, column, new_type, using=None, reverse=None, new_name=None):
    from expandcontract.kinds import carry_problems, valid_type

    return carry_problems(bind, table, column, new_name or f"{column}_new") + valid_type(
        bind, new_type
    )
