"""Write the phase revisions of one change into an Alembic project."""

from __future__ import annotations

import datetime
import re
import uuid
from importlib.resources import files
from pathlib import Path
from string import Template

from expandcontract.errors import InputError
from expandcontract.phases import PHASES
from expandcontract.project import Project

# read by `expandcontract verify`: a backfill's downgrade keeps the values it wrote (clearing
# them would run through the sync trigger); the expand downgrade removes the column anyway
MIGRATE_REASON = "the backfilled values stay after the downgrade; undoing expand removes them"


def _declarations(phase: str, body) -> str:
    """What verify may excuse in this revision (a reason, and, where the phase knows it,
    exactly which columns' data, never the others), and what the change is, for the
    contract checker."""
    return _irreversible(phase, body) + _changes(body)


def _changes(body) -> str:
    if not body.changes:
        return ""
    import pprint

    return "expandcontract_changes = " + pprint.pformat(list(body.changes), width=88) + "\n"


def _irreversible(phase: str, body) -> str:
    reasons = [body.irreversible] if body.irreversible else []
    if phase == "migrate" and body.kept:
        reasons.append(MIGRATE_REASON)
    if not reasons:
        return ""
    why = "; ".join(reasons)
    if not body.kept:
        return f"expandcontract_irreversible = (\n{_wrapped(why, 4)}\n)\n"
    data = "".join(f"        {name!r},\n" for name in body.kept)
    return (
        f'expandcontract_irreversible = {{\n    "why": (\n{_wrapped(why, 8)}\n    ),\n'
        f'    "data": [\n{data}    ],\n}}\n'
    )


def _wrapped(text: str, indent: int, width: int = 88) -> str:
    """``text`` as adjacent string literals, each line within ``width``."""
    import textwrap

    pieces = textwrap.wrap(text, width - indent - 4, drop_whitespace=False) or [""]
    return "\n".join(" " * indent + repr(piece) for piece in pieces)


def _docstring_text(message: str) -> str:
    """``message`` as it may stand inside the revision's triple-quoted docstring."""
    return message.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _slug(message: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40] or "change"


def heads(project: Project) -> tuple[dict[str, str], list[str]]:
    """The head of each phase branch, and the heads of the unphased trunk."""
    history = project.history
    parents = {p for meta in history.revisions.values() for p in meta.down_revisions}
    phase_heads: dict[str, str] = {}
    trunk: list[str] = []
    for rev, meta in history.revisions.items():
        if rev in parents:
            continue
        phase = history.phase_of(meta)
        if phase is None:
            trunk.append(rev)
        elif phase in phase_heads:
            raise InputError(f"the {phase} branch has several heads; merge them first")
        else:
            phase_heads[phase] = rev
    return phase_heads, trunk


def write_change(
    project: Project, kind: str, message: str, phases: dict, after: tuple[str, ...] = ()
) -> list[Path]:
    """Write one revision per phase of the change; returns the files written. ``after``:
    revisions of later phases the change was made against (autogenerate compared the
    model with a database that had them applied): its first revision depends on them."""
    if project.engines:
        raise InputError(
            f"{project.source}: a multi-database project (databases = "
            f"{', '.join(project.engines)}); phase revisions are written for one database, "
            "so write them in a single-database project"
        )
    phase_heads, trunk = heads(project)
    missing = [p for p in PHASES if p not in phase_heads]
    if missing and len(trunk) > 1:
        raise InputError(
            f"the project has several heads ({', '.join(sorted(trunk))}); merge them "
            "(alembic merge heads) before the phase branches start from it"
        )
    template = Template(
        files("expandcontract.templates")
        .joinpath("phase_revision.py.tmpl")
        .read_text(encoding="utf-8")
    )
    written: list[Path] = []
    # a change that starts at a later phase depends on all the earlier phases' work
    first = next(p for p in PHASES if p in phases)
    earlier = tuple(phase_heads[p] for p in PHASES[: PHASES.index(first)] if p in phase_heads)
    earlier += tuple(r for r in after if r not in earlier)
    previous: str | tuple[str, ...] | None = earlier[0] if len(earlier) == 1 else earlier or None
    created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S")
    for phase in PHASES:
        if phase not in phases:
            continue
        revision = uuid.uuid4().hex[:12]
        head = phase_heads.get(phase)
        # a new branch starts from the unphased trunk's head, or as a base of its own when
        # the whole history is phased (a branch label is inherited by descendants, so it
        # must not start from another phase's revision); depends_on keeps the order
        down = head or (trunk[0] if trunk else None)
        body = phases[phase]
        text = template.substitute(
            message=_docstring_text(message),
            phase=phase,
            kind=kind,
            revision=revision,
            down_revision=down,
            depends_on=previous,
            created=created,
            revision_literal=repr(revision),
            down_revision_literal=repr(down),
            branch_labels=repr((phase,)) if head is None else "None",
            depends_on_literal=repr(previous),
            declarations=_declarations(phase, body),
            upgrade=_indent(body.upgrade),
            downgrade=_indent(body.downgrade),
        )
        path = project.versions_for(down) / f"{revision}_{phase}_{_slug(message)}.py"
        path.write_text(text, encoding="utf-8")
        written.append(path)
        previous = revision
    return written


def _indent(lines: list[str]) -> str:
    return "\n".join("    " + line for line in lines) if lines else "    pass"
