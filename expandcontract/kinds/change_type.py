"""change-type TABLE COLUMN NEWTYPE [--using SQL] [--reverse SQL] [--new-name NAME] [--lossy]

A change PostgreSQL makes in the catalog alone (varchar(50) to varchar(255) or
text, and its other binary-coercible casts) is one expand step, under
lock_timeout. Any other:

expand: the conversion proven on a sample of real rows (a cast exists, it gives
the same result in every session, values survive --reverse unless --lossy);
NAME (COLUMN_new unless --new-name) of the new type, kept equal to COLUMN by a
two-way sync trigger converting with --using (old to new) and --reverse (new to
old), with COLUMN's indexes, constraints, comment, grants and statistics target
carried over as rename-column does; migrate: the rows nobody wrote since expand
converted in batches; switch: the carried constraints are validated, NAME
becomes NOT NULL if COLUMN is; contract: COLUMN's default (cast to the new type)
and sequence move over, the trigger and COLUMN go, the carried objects take the
original names, and NAME takes COLUMN's (unless --new-name was given).

Without --new-name, both versions read and write COLUMN: the old type until
contract, the new type after it. With --new-name, the new version reads and
writes NAME from switch on, and NAME stays. The README's "two-version contract"
says what each version reads back in every phase.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, Kind, Phase, carry_problems, r
from expandcontract.kinds.replace_column import Replacement
from expandcontract.kinds.replace_column import phases as replaced
from expandcontract.schema.names import check_identifier, quote


def phases(
    table,
    column,
    new_type,
    using=None,
    reverse=None,
    new_name=None,
    lossy=False,
    old_type=None,
):
    """``old_type`` (from the database, or the model): a change PostgreSQL makes in the
    catalog alone is written as one expand step."""
    from expandcontract.kinds import check_sql_expression, check_sql_type

    check_sql_type(new_type, "NEWTYPE")
    for option, sql in (("--using", using), ("--reverse", reverse)):
        if sql:
            check_sql_expression(sql, option)
    if old_type and not (using or new_name) and _catalog_only(old_type, new_type):
        return _in_place(table, column, old_type, new_type)
    new = new_name or f"{column}_new"
    if not new_name:
        check_identifier(new, "the new column --new-name defaults to")
    if reverse and not _names(reverse, new):
        from expandcontract.errors import InputError

        raise InputError(
            f"--reverse converts the new column back into {column}'s type, so it must name "
            f'the new column {new} (for example: --reverse "{quote(new)}::OLDTYPE"); '
            f"{reverse!r} does not"
        )
    return replaced(
        Replacement(
            table,
            column,
            new,
            new_type,
            using or f"{quote(column)}::{new_type}",
            reverse,
            swap=not new_name,
            lossy=lossy,
        )
    )


def _names(sql: str, column: str) -> bool:
    """Whether ``sql`` refers to ``column``: as an identifier, quoted or not (string
    literals left out)."""
    import re

    code = re.sub(r"'(?:[^']|'')*'", "''", sql)
    quoted = {m.replace('""', '"') for m in re.findall(r'"((?:[^"]|"")+)"', code)}
    plain = {
        w.lower()
        for w in re.findall(r'(?<!["\w$])[A-Za-z_][\w$]*', re.sub(r'"(?:[^"]|"")+"', " ", code))
    }
    return column in quoted or column.lower() in plain


def _catalog_only(old_type: str, new_type: str) -> bool:
    from expandcontract.sql.postgres.facts import type_change

    return type_change(old_type, new_type) == "free"


def _in_place(table, column, old_type, new_type) -> dict[str, Phase]:
    """The type changed where it is: both versions see the new type at once. Undoing it
    narrows the type back, which PostgreSQL does by rewriting the table: every row is
    checked first, and a value that no longer fits is named."""
    t, c = r(table), r(column)
    alter = f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} TYPE "
    return {
        "expand": Phase(
            [LOCK_TIMEOUT, f"op.execute({r(alter + new_type)})"],
            [
                f"op.check_conversion({t}, {c}, {r(old_type)}, every_row=True)",
                LOCK_TIMEOUT,
                f"op.execute({r(alter + old_type)})",
            ],
        )
    }


def autogenerate(op, gen):
    """A column whose model type changed: a synced new column swapped in under the old
    name (in place when PostgreSQL can change it in the catalog); the downgrade casts
    back to the type the model had."""
    if op.modify_type is None:
        return None
    column = op.column_name
    old_type = gen.type_sql(op.existing_type) if op.existing_type is not None else None
    reverse = f"{quote(column + '_new')}::{old_type}" if old_type else None
    table = gen.qualified(op.table_name, op.schema)
    return phases(table, column, gen.type_sql(op.modify_type), reverse=reverse, old_type=old_type)


def inspect(bind, table, column, new_type, **_) -> dict:
    """What the live table says that changes what is written: the column's type now."""
    from expandcontract.catalog.probes import column_type

    found = column_type(bind, table, column)
    return {"old_type": found} if found else {}


def precheck(
    bind, table, column, new_type, using=None, reverse=None, new_name=None, lossy=False, **_
):
    from expandcontract.catalog.probes import column_type
    from expandcontract.ops.conversion import Conversion, problems

    found = carry_problems(bind, table, column, new_name or f"{column}_new")
    old_type = column_type(bind, table, column)
    if found or old_type is None:
        return found
    if not (using or new_name) and _catalog_only(old_type, new_type):
        return []
    new = new_name or f"{column}_new"
    # as expand will check it: the default conversion is the cast the phases write
    conversion = Conversion(
        table, column, new_type, using or f"{quote(column)}::{new_type}", reverse, new
    )
    return problems(bind, conversion, lossy)


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
            help="The new version's column, kept after contract (default: COLUMN, swapped in).",
        ),
        click.Option(
            ["--lossy"],
            is_flag=True,
            help="Declare that values may not survive the way back (checked on real rows).",
        ),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
    inspect=inspect,
    autogenerate=autogenerate,
    operations=("AlterColumnOp",),
)
