"""A finding: one rule's verdict at one place in one file."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    line: int
    column: int
    code: str
    rule: str
    severity: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, object]:
        # by hand, not dataclasses.asdict (a deep copy): reports can hold 100,000s of these
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


@dataclass
class Report:
    """Everything one lint run found: the findings and what was read."""

    findings: list[Finding]
    files: int
    statements: int
    paths: list[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")
