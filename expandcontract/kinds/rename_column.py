"""rename-column TABLE OLD NEW

expand: NEW, of OLD's type, kept equal to OLD by a two-way sync trigger, with
OLD's indexes, UNIQUE and CHECK constraints, foreign keys, comment, grants and
statistics target carried over (constraints NOT VALID, indexes CONCURRENTLY);
migrate: existing rows copied in batches; switch: the carried constraints are
validated and NEW becomes NOT NULL if OLD is (the new version reads and writes
NEW, the old one OLD); contract: OLD's default and sequence move to NEW, the
trigger and OLD go, and the carried objects take the original names. Undoing
the contract brings OLD back, refilled from NEW, with all of it. What cannot be
carried (a primary key, a view reading OLD, ...) is refused before anything runs.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r
from expandcontract.schema.names import quote

NAME = "rename-column"
HELP = "Rename a column while the old and the new application version both run."
PARAMS = [click.Argument(["table"]), click.Argument(["old"]), click.Argument(["new"])]


def phases(table, old, new):
    t, o, n = r(table), r(old), r(new)
    tn, schema = native(table)
    return {
        "expand": Phase(
            [
                LOCK_TIMEOUT,
                f"op.carry_over({t}, {o}, {n}, 'check')",
                f"op.copy_column({t}, {o}, {n})",
                f"op.create_sync_trigger({t}, {o}, {n})",
                f"op.carry_over({t}, {o}, {n}, 'expand')",
            ],
            [
                LOCK_TIMEOUT,
                f"op.drop_sync_trigger({t}, {o}, {n})",
                f"op.drop_column({tn}, {n}{schema})",
                f"op.carry_over({t}, {o}, {n}, 'forget')",
            ],
        ),
        "migrate": Phase(
            [f"op.backfill({t}, {n}, {r(quote(old))})"],
            [f"op.forget_backfill({t}, {n})"],
            kept=(f"{table}.{new}",),
        ),
        "switch": Phase(
            [
                LOCK_TIMEOUT,
                f"op.carry_over({t}, {o}, {n}, 'switch')",
                f"op.copy_not_null({t}, {o}, {n})",
            ],
            [
                LOCK_TIMEOUT,
                f"op.drop_not_null({t}, {n})",
                f"op.carry_over({t}, {o}, {n}, 'unswitch')",
            ],
        ),
        "contract": Phase(
            [
                LOCK_TIMEOUT,
                f"op.move_default({t}, {o}, {n})",
                f"op.carry_over({t}, {o}, {n}, 'hand_over')",
                f"op.drop_sync_trigger({t}, {o}, {n})",
                f"op.drop_column({tn}, {o}{schema})",
                f"op.carry_over({t}, {o}, {n}, 'rename')",
            ],
            [
                LOCK_TIMEOUT,
                f"op.copy_column({t}, {n}, {o})",
                f"op.create_sync_trigger({t}, {o}, {n})",
                f"op.forget_backfill({t}, {o})",
                f"op.backfill({t}, {o}, {r(quote(new))})",
                f"op.forget_backfill({t}, {o})",
                f"op.copy_not_null({t}, {n}, {o})",
                f"op.move_default({t}, {n}, {o})",
                f"op.carry_over({t}, {o}, {n}, 'restore')",
            ],
        ),
    }


def precheck(bind, table, old, new):
    from expandcontract.kinds import carry_problems

    return carry_problems(bind, table, old, new)
