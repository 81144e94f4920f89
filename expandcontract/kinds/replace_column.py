"""The recipe rename-column and change-type share: a column replaced by a synced new one.

expand: the new column (nullable), a two-way sync trigger, and what hangs on the
old column carried over (constraints NOT VALID, indexes CONCURRENTLY); migrate:
existing rows filled in batches; switch: the carried constraints validated, NOT
NULL copied; contract: default and sequence handed over, the trigger and the old
column go, the carried objects take the original names. Every step has its
reversal: undoing the contract brings the old column back, refilled from the new.
"""

from __future__ import annotations

from dataclasses import dataclass

from expandcontract.kinds import LOCK_TIMEOUT, Phase, native, r
from expandcontract.schema.names import quote


@dataclass(frozen=True)
class Replacement:
    table: str
    old: str
    new: str
    new_type: str | None = None  # None: the old column's type (a rename)
    forward: str | None = None  # old to new, as SQL naming the old column; None: as is
    backward: str | None = None  # new to old, naming the new column; None: as is, or a cast
    swap: bool = False  # the contract gives the new column the old one's name


def phases(change: Replacement) -> dict[str, Phase]:
    table, old, new = change.table, change.old, change.new
    t, o, n = r(table), r(old), r(new)
    tn, schema = native(table)
    retyped = change.new_type is not None
    forward = change.forward or quote(old)
    if retyped:
        copy = f"op.copy_column({t}, {o}, {n}, type_={r(change.new_type)})"
        backward = r(change.backward) if change.backward else "None"
        sync = f"op.create_sync_trigger({t}, {o}, {n}, forward={r(forward)}, backward={backward})"
    else:
        copy = f"op.copy_column({t}, {o}, {n})"
        sync = f"op.create_sync_trigger({t}, {o}, {n})"
    return {
        "expand": Phase(
            [
                LOCK_TIMEOUT,
                f"op.carry_over({t}, {o}, {n}, 'check')",
                copy,
                sync,
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
            [f"op.backfill({t}, {n}, {r(forward)})"],
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
        "contract": _contract(change),
    }


def _contract(change: Replacement) -> Phase:
    table, old, new = change.table, change.old, change.new
    t, o, n = r(table), r(old), r(new)
    tn, schema = native(table)
    if change.new_type is None:  # a rename: the same type both ways
        contract = Phase(
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
        )
    else:
        forward = change.forward or quote(old)
        backward = r(change.backward) if change.backward else "None"
        sync = f"op.create_sync_trigger({t}, {o}, {n}, forward={r(forward)}, backward={backward})"
        refill = (
            f"op.backfill({t}, {o}, {r(change.backward)})"
            if change.backward
            else f"op.backfill({t}, {o}, cast_from={n})"
        )
        contract = Phase(
            [
                LOCK_TIMEOUT,
                f"op.copy_default({t}, {o}, {n}, cast=True)",
                f"op.carry_over({t}, {o}, {n}, 'hand_over')",
                f"op.drop_sync_trigger({t}, {o}, {n})",
                f"op.drop_column_recorded({t}, {o})",
                f"op.carry_over({t}, {o}, {n}, 'rename')",
            ],
            [
                LOCK_TIMEOUT,
                f"op.restore_column({t}, {o})",
                sync,
                f"op.forget_backfill({t}, {o})",
                refill,
                f"op.forget_backfill({t}, {o})",
                f"op.copy_not_null({t}, {n}, {o})",
                f"op.drop_default({t}, {n})",
                f"op.carry_over({t}, {o}, {n}, 'restore')",
            ],
            irreversible=f"undoing the contract converts {new} back to {old}'s type: a "
            "value that does not survive the round trip (JSON spacing and key order, "
            "precision, time zone) comes back converted",
            kept=(f"{table}.{old}",),
        )
    if change.swap:
        contract.upgrade.append(f"op.alter_column({tn}, {n}, new_column_name={o}{schema})")
        contract.downgrade.insert(1, f"op.alter_column({tn}, {o}, new_column_name={n}{schema})")
    return contract
