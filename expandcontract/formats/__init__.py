"""Every report's output formats, in one registry.

Each report has a module here, ``<report>_report.py``, with ``render(name, report) ->
str`` (and ``chunks(name, report)`` where a format can be written a piece at a time);
:data:`REPORTS` lists the formats each is written in, which is what the commands offer.
Lint's formats are a module each (``text_format.py``, ``sarif_format.py``, ...), loaded
only when asked for.
"""

from __future__ import annotations

from importlib import import_module

REPORTS: dict[str, tuple[str, ...]] = {
    "lint": ("text", "json", "github", "sarif", "junit", "gitlab"),
    "verify": ("text", "json", "junit", "github"),
    "rehearse": ("text", "json", "markdown"),
    "status": ("text", "json"),
    "check": ("text", "json"),
    "rules": ("text", "json"),
}


def _module(report: str):
    if report not in REPORTS:
        raise ValueError(f"no such report: {report!r}")
    return import_module(f"{__name__}.{report}_report")


def render(report: str, name: str, value) -> str:
    """``value``, a ``report`` (lint, verify, ...), in the format ``name``."""
    if name not in REPORTS[report]:
        raise ValueError(f"the {report} report has no {name!r} format")
    return _module(report).render(name, value)


def write(report: str, name: str, value, stream) -> None:
    """Write ``value`` to ``stream``, a piece at a time where the format can (a report of
    100,000s of findings is then never one string in memory), with a final newline."""
    module = _module(report)
    chunks = getattr(module, "chunks", None)
    pieces = chunks(name, value) if chunks is not None else [render(report, name, value)]
    wrote = False
    for piece in pieces:
        if piece:
            stream.write(piece)
            wrote = True
    if wrote:
        stream.write("\n")
