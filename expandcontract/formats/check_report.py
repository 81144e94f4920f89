"""``expandcontract check PHASE``: whether the phase may run now, and if not, why."""

from __future__ import annotations

import json


def render(name: str, gate) -> str:
    if name == "json":
        return json.dumps(gate.as_dict(), indent=2)
    phase = gate.phase
    if gate.may_run:
        pending = ", ".join(gate.pending)
        return f"{phase}: may run" + (f" ({pending} pending)" if pending else ", nothing pending")
    lines = [
        f"{phase}: not yet: {earlier} has pending revisions ({', '.join(revisions)}); "
        f"run `expandcontract upgrade {earlier}` first"
        for earlier, revisions in gate.blocking.items()
    ]
    if gate.waiting:
        lines.append(f"{phase}: not yet: {gate.waiting}")
    return "\n".join(lines)
