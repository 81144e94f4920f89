"""GitHub Actions workflow commands: an annotation on the file and line of each finding."""

from expandcontract.lint.finding import Report


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(report: Report) -> str:
    lines = []
    for f in report.findings:
        title = _property(f"{f.code} {f.rule}")
        text = _data(f.message + (f"\n{f.hint}" if f.hint else ""))
        lines.append(
            f"::{f.severity} file={_property(f.path)},line={f.line},col={f.column},"
            f"title={title}::{text}"
        )
    return "\n".join(lines)
