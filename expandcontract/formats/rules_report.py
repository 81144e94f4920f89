"""``expandcontract rules``: every rule's code, name, default severity and summary."""

from __future__ import annotations

import json


def render(name: str, rules) -> str:
    if name == "json":
        return json.dumps(
            [
                {"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary}
                for r in rules
            ],
            indent=2,
        )
    width = max(len(r.name) for r in rules)
    return "\n".join(f"{r.code}  {r.name:<{width}}  {r.severity:<7}  {r.summary}" for r in rules)
