"""``expandcontract status``: per phase, the applied and pending revisions (a list of
:class:`~expandcontract.phases.runner.PhaseStatus`)."""

from __future__ import annotations

import json


def render(name: str, statuses) -> str:
    if name == "json":
        return json.dumps([s.__dict__ for s in statuses], indent=2)
    lines = []
    for s in statuses:
        state = f"{len(s.pending)} pending ({', '.join(s.pending)})" if s.pending else "up to date"
        lines.append(f"{s.phase:<9} {len(s.applied)} applied, {state}")
        if s.waiting:
            lines.append(
                f"          {', '.join(s.waiting)} wait for the later phases of the change "
                "they were made after"
            )
        for run in s.interrupted:
            verb = "upgrade" if run["direction"] == "up" else "downgrade"
            lines.append(
                f"          {verb} of {run['revision']} started {run['started_at']} and did "
                f"not finish: rerun `expandcontract {verb} {s.phase}` to finish it"
            )
    return "\n".join(lines)
