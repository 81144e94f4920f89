"""Golden files for the kinds: what each kind writes into its revisions, reviewed as text.

``render(kind, args)`` turns a kind's phases into the text stored under
``tests/kinds/golden/<kind>/<case>.txt``; :func:`check` compares, and with
``EXPANDCONTRACT_UPDATE_GOLDEN=1`` rewrites the file instead (review the diff).
Every line must also parse as Python: it is the body of a revision's function.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from expandcontract.kinds import kinds
from expandcontract.phases import PHASES

GOLDEN = Path(__file__).parent / "golden"


def render(kind_name: str, arguments: dict) -> str:
    phases = kinds()[kind_name].phases(**arguments)
    assert set(phases) <= set(PHASES), phases.keys()
    out = []
    for phase in PHASES:
        if phase not in phases:
            continue
        body = phases[phase]
        out.append(f"# {phase}")
        for direction, lines in (("upgrade", body.upgrade), ("downgrade", body.downgrade)):
            out.append(f"## {direction}")
            source = "\n".join(lines) or "pass"
            ast.parse(source)  # a revision's function body: must be Python
            out.extend(lines)
        if body.irreversible:
            out.append(f"## irreversible: {body.irreversible}")
        if body.kept:
            out.append(f"## kept: {', '.join(body.kept)}")
        if body.changes:
            out.append(f"## changes: {list(body.changes)}")
    return "\n".join(out) + "\n"


def check(kind_name: str, case: str, arguments: dict) -> None:
    path = GOLDEN / kind_name / f"{case}.txt"
    text = render(kind_name, arguments)
    if os.environ.get("EXPANDCONTRACT_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no golden file {path}: run with EXPANDCONTRACT_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{kind_name} {case} writes something else than {path}; if intended, rerun with "
        "EXPANDCONTRACT_UPDATE_GOLDEN=1 and review the diff"
    )
