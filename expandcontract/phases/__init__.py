"""The four phases of a change, in order, and which application versions run in each.

Every command reads phases from here: the writer, the runner, the linter, verify
and rehearse.
"""

from __future__ import annotations

PHASES = ("expand", "migrate", "switch", "contract")

# which application versions may be running while each phase's revisions are applied
VERSIONS_RUNNING = {
    "expand": ("old",),
    "migrate": ("old",),
    "switch": ("old", "new"),
    "contract": ("new",),
}


def mirror(phase: str | None, direction: str) -> str | None:
    """The phase whose rules a migration step follows: a downgrade undoes its phase's work,
    so undoing an expand is a removal (contract-like) and undoing a contract is additive."""
    if direction == "up" or phase is None:
        return phase
    return {"expand": "contract", "contract": "expand"}.get(phase, phase)
