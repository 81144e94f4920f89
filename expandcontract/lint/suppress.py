"""Suppression comments: ``expandcontract: ignore RULE[,RULE] -- reason``.

The same pragma works in SQL (``-- ...``) and Python (``# ...``) comments.
``ignore`` covers the statement the comment ends or precedes; ``ignore-file``
covers the whole file. A suppression that suppresses nothing is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_PRAGMA = re.compile(r"^\s*expandcontract:\s*(ignore-file|ignore)\b(.*)$", re.IGNORECASE)


@dataclass
class Suppression:
    line: int
    column: int
    rules: list[str]
    file_level: bool
    reason: str
    unknown: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    # where to report it when ``line`` was moved onto the statement it covers
    report_at: tuple[int, int] | None = None

    @property
    def position(self) -> tuple[int, int]:
        return self.report_at or (self.line, self.column)


def parse_pragma(text: str, line: int, column: int, known: dict[str, str]) -> Suppression | None:
    """Read one comment's text; ``known`` maps rule codes and names to codes."""
    match = _PRAGMA.match(text)
    if not match:
        return None
    kind, rest = match.groups()
    rules_text, _, reason = rest.partition("--")
    rules, unknown = [], []
    for word in filter(None, re.split(r"[,\s]+", rules_text.strip())):
        code = known.get(word) or known.get(word.upper())
        (rules if code else unknown).append(code or word)
    return Suppression(
        line=line,
        column=column,
        rules=rules,
        file_level=kind.lower() == "ignore-file",
        reason=reason.strip(),
        unknown=unknown,
    )
