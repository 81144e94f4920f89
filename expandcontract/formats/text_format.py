"""``path:line:col: CODE rule-name message``, the hint beneath, a summary line."""

from collections.abc import Iterator

from expandcontract.errors import printable
from expandcontract.lint.finding import Report


def render(report: Report) -> str:
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    for f in report.findings:
        where = f"{printable(f.path)}:{f.line}:{f.column}"
        yield f"{where}: {f.code} {f.rule} [{f.severity}] {_lines(f.message)}\n"
        if f.hint:
            yield f"    hint: {_lines(f.hint)}\n"
    yield summary(report)


def _lines(text: str) -> str:
    """A message or hint: every line after the first indented (none can start with ``::``,
    which a CI log runs as a command), control characters escaped."""
    return "\n      ".join(printable(line) for line in text.split("\n"))


def summary(report: Report) -> str:
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    read = f"{files}, {report.statements} statement{'s' if report.statements != 1 else ''}"
    if not report.findings:
        return f"All clear: {read} checked."
    errors, warnings = report.errors, report.warnings
    counts = ", ".join(
        f"{n} {word}{'s' if n != 1 else ''}"
        for n, word in ((errors, "error"), (warnings, "warning"))
        if n
    )
    return f"Found {counts} in {read}."
