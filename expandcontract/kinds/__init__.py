"""Change kinds: one module each. A kind turns its arguments into the phases of one change.

Every module defines ``NAME``, ``PARAMS`` (its click arguments and options) and
``phases(**args) -> dict[phase, Phase]``; a kind that needs fewer than four
phases returns fewer. The code is Python source for the revision's
``upgrade()`` and ``downgrade()``: readable, and the developer's to edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module

from expandcontract.phases import PHASES  # noqa: F401  (re-exported for the kinds)

LOCK_TIMEOUT = "op.set_lock_timeout()"


@dataclass
class Phase:
    upgrade: list[str] = field(default_factory=list)
    downgrade: list[str] = field(default_factory=list)
    # why the downgrade cannot restore the data exactly (read by `expandcontract verify`)
    irreversible: str | None = None
    # "table.column"s whose values the downgrade keeps: the only data verify may excuse
    kept: tuple[str, ...] = ()


_MODULES = (
    "add_column",
    "rename_column",
    "change_type",
    "set_not_null",
    "add_foreign_key",
    "add_unique",
    "add_index",
    "drop_column",
    "rename_table",
    "drop_table",
)


def kinds():
    return {m.NAME: m for m in (import_module(f"{__name__}.{name}") for name in _MODULES)}


def r(value: str) -> str:
    """A Python literal for generated code."""
    return repr(value)


def native(table: str) -> tuple[str, str]:
    """For Alembic's own ops (``op.drop_column`` and the like), which quote their table
    name as one identifier: the table's name literal and a ``, schema=...`` argument."""
    if "." in table:
        schema, name = table.rsplit(".", 1)
        return r(name), f", schema={r(schema)}"
    return r(table), ""
