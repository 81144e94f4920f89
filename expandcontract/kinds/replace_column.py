"""The recipe rename-column and change-type share: a column replaced by a synced new one.

expand: the conversion proven on real rows (a change of type), the new column
(nullable), a two-way sync trigger, and what hangs on the old column carried over
(constraints NOT VALID, indexes CONCURRENTLY); migrate: the rows nobody has written
since expand filled in batches; switch: the carried constraints validated, NOT NULL
copied; contract: default and sequence handed over, the trigger and the old column
go, the carried objects take the original names (and, with ``swap``, the new column
the old one's). Every step has its reversal: undoing the contract first checks that
every value converts back, then brings the old column back refilled from the new,
without ever failing a write of the version still running.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from expandcontract.kinds import LOCK_TIMEOUT, RECORD, Phase, native, r
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
    lossy: bool = False  # values that do not survive the way back are declared


def phases(change: Replacement) -> dict[str, Phase]:
    """The four phases, each declaring the change for the contract checker."""
    found = _phases(change)
    declared = ({"kind": "replace-column", **asdict(change)},)
    for phase in found.values():
        phase.changes = declared
    return found


def _phases(change: Replacement) -> dict[str, Phase]:
    table, old, new = change.table, change.old, change.new
    t, o, n = r(table), r(old), r(new)
    tn, schema = native(table)
    forward = change.forward or quote(old)
    expand = [LOCK_TIMEOUT]
    if change.new_type is not None:
        expand.append(_check(change, o))
    expand.append(_locks(change, "SHARE ROW EXCLUSIVE", None))
    expand += [
        f"op.carry_over({t}, {o}, {n}, 'check')",
        _copy(change),
        _sync(change),
        f"op.carry_over({t}, {o}, {n}, 'expand')",
    ]
    unfilled = r(f"{quote(new)} IS NULL")
    return {
        "expand": Phase(
            expand,
            [
                LOCK_TIMEOUT,
                _locks(change, "ACCESS EXCLUSIVE", None),
                f"op.drop_sync_trigger({t}, {o}, {n})",
                f"op.drop_column({tn}, {n}{schema})",
                f"op.carry_over({t}, {o}, {n}, 'forget')",
            ],
        ),
        "migrate": Phase(
            [f"op.backfill({t}, {n}, {r(forward)}, where={unfilled}, {RECORD})"],
            [f"op.forget_backfill({t}, {n}, {RECORD})"],
            kept=(f"{table}.{new}",),
        ),
        "switch": Phase(
            [
                LOCK_TIMEOUT,
                _locks(change, None, "SHARE ROW EXCLUSIVE"),
                f"op.carry_over({t}, {o}, {n}, 'switch')",
                f"op.copy_not_null({t}, {o}, {n})",
            ],
            [
                LOCK_TIMEOUT,
                _locks(change, None, "ACCESS EXCLUSIVE"),
                f"op.drop_not_null({t}, {n})",
                f"op.carry_over({t}, {o}, {n}, 'unswitch')",
            ],
        ),
        "contract": _contract(change),
    }


def _locks(change: Replacement, parents: str | None, children: str | None) -> str:
    """The tables this revision touches, locked first in one order (ops.locks)."""
    t, o, n = r(change.table), r(change.old), r(change.new)
    modes = "".join(
        f", {name}={r(mode)}"
        for name, mode in (("parents", parents), ("children", children))
        if mode
    )
    return f"op.lock_related({t}, [{o}, {n}]{modes})"


def _check(change: Replacement, source: str) -> str:
    """The conversion proven on the live table before expand changes anything."""
    t = r(change.table)
    back = f", back={r(change.backward)}, target={r(change.new)}" if change.backward else ""
    lossy = ", lossy=True" if change.lossy else ""
    expression = f", expression={r(change.forward)}" if change.forward else ""
    return f"op.check_conversion({t}, {source}, {r(change.new_type)}{expression}{back}{lossy})"


def _copy(change: Replacement) -> str:
    t, o, n = r(change.table), r(change.old), r(change.new)
    if change.new_type is None:
        return f"op.copy_column({t}, {o}, {n})"
    return f"op.copy_column({t}, {o}, {n}, type_={r(change.new_type)})"


def _sync(change: Replacement, lenient: bool = False) -> str:
    t, o, n = r(change.table), r(change.old), r(change.new)
    if change.new_type is None:
        return f"op.create_sync_trigger({t}, {o}, {n}{', lenient=True' if lenient else ''})"
    forward = r(change.forward or quote(change.old))
    backward = r(change.backward) if change.backward else "None"
    return (
        f"op.create_sync_trigger({t}, {o}, {n}, forward={forward}, backward={backward}"
        f"{', lenient=True' if lenient else ''})"
    )


def _contract(change: Replacement) -> Phase:
    table, old, new = change.table, change.old, change.new
    t, o, n = r(table), r(old), r(new)
    tn, schema = native(table)
    unfilled = r(f"{quote(old)} IS NULL")
    if change.new_type is None:  # a rename: the same type both ways, nothing to check
        return Phase(
            [
                LOCK_TIMEOUT,
                _locks(change, "ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE"),
                f"op.move_default({t}, {o}, {n})",
                f"op.carry_over({t}, {o}, {n}, 'hand_over')",
                f"op.drop_sync_trigger({t}, {o}, {n})",
                f"op.drop_column({tn}, {o}{schema})",
                f"op.carry_over({t}, {o}, {n}, 'rename')",
            ],
            [
                LOCK_TIMEOUT,
                _locks(change, "ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE"),
                f"op.copy_column({t}, {n}, {o})",
                # the default back on the old column, the marker on the new, as before
                f"op.move_default({t}, {n}, {o})",
                _sync(change),
                f"op.forget_backfill({t}, {o}, {RECORD})",
                f"op.backfill({t}, {o}, {r(quote(new))}, where={unfilled}, {RECORD})",
                f"op.forget_backfill({t}, {o}, {RECORD})",
                f"op.copy_not_null({t}, {n}, {o})",
                f"op.carry_over({t}, {o}, {n}, 'restore')",
                # again, once an identity is back on the old column: the marker default
                _sync(change),
            ],
        )
    # the way back, naming the new column: the given --reverse, else a cast
    refill = (
        f"op.backfill({t}, {o}, {r(change.backward)}, where={unfilled}, {RECORD})"
        if change.backward
        else f"op.backfill({t}, {o}, cast_from={n}, where={unfilled}, {RECORD})"
    )
    # where the new column is now (the old name after a swap), checked before anything
    current = o if change.swap else n
    back = f", expression={r(change.backward)}, alias={n}" if change.backward else ""
    every_row = f"op.check_conversion({t}, {current}, None{back}, restoring={o}, every_row=True)"
    upgrade = [
        LOCK_TIMEOUT,
        _locks(change, "ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE"),
        f"op.copy_default({t}, {o}, {n}, cast=True)",
        f"op.carry_over({t}, {o}, {n}, 'hand_over')",
        f"op.drop_sync_trigger({t}, {o}, {n})",
        f"op.drop_column_recorded({t}, {o})",
        f"op.carry_over({t}, {o}, {n}, 'rename')",
    ]
    downgrade = [
        every_row,
        LOCK_TIMEOUT,
        _locks(change, "ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE"),
        f"op.restore_column({t}, {o})",
        # lenient while only the new version runs: a value that cannot go back never
        # fails its write; the refill is then checked, and the trigger made strict
        _sync(change, lenient=True),
        f"op.forget_backfill({t}, {o}, {RECORD})",
        refill,
        f"op.forget_backfill({t}, {o}, {RECORD})",
        f"op.check_refilled({t}, {o}, {n})",
        f"op.copy_not_null({t}, {n}, {o})",
        f"op.carry_over({t}, {o}, {n}, 'restore')",
        _sync(change),  # strict again (and the marker back, once an identity moved back)
    ]
    if change.swap:
        upgrade.append(f"op.rename_column({t}, {n}, {o})")
        downgrade.insert(3, f"op.rename_column({t}, {o}, {n})")
    return Phase(
        upgrade,
        downgrade,
        irreversible=f"undoing the contract converts {new} back to {old}'s type: a "
        "value that does not survive the round trip (JSON spacing and key order, "
        "precision, time zone) comes back converted",
        kept=(f"{table}.{old}",),
    )
