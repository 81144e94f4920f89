"""What a rule is. Each rule lives in its own module under ``expandcontract.linters``."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expandcontract.lint.context import Context
    from expandcontract.sql.op import Op

SEVERITIES = ("error", "warning")


@dataclass(frozen=True, slots=True)
class Violation:
    """A rule's verdict on one operation: what is wrong (with the lock) and the safe way."""

    message: str
    hint: str | None = None


Check = Callable[["Op", "Context"], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    severity: str
    summary: str
    doc: str
    hint: str = ""
    kinds: frozenset[str] = field(default_factory=frozenset)
    check: Check | None = None
    # breaks the running application version: in an unphased revision, say to split it
    breaking: bool = False

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES, self.severity
        object.__setattr__(self, "doc", inspect.cleandoc(self.doc or ""))
