"""The stable JSON contract: ``{"findings": [...], "files": N, "statements": N}``."""

from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as _string

from expandcontract.lint.finding import Report


def render(report: Report) -> str:
    """Exactly ``json.dumps(contract, indent=2)``."""
    return "".join(chunks(report))


def chunks(report: Report) -> Iterator[str]:
    """The same text, a finding at a time, so that a report of 100,000s of findings is never
    built twice in memory."""
    if not report.findings:
        yield '{\n  "findings": []'
    else:
        yield '{\n  "findings": [\n'
        for index, finding in enumerate(report.findings):
            item = _item(finding)
            yield item if index == 0 else ",\n" + item
        yield "\n  ]"
    yield f',\n  "files": {report.files},\n  "statements": {report.statements}\n}}'


def _item(finding) -> str:
    """``json.dumps(finding.as_dict(), indent=2)`` indented by four, written field by field
    (the indenting encoder is pure Python: this is the C string encoder and no more)."""
    return (
        f'    {{\n      "path": {_string(finding.path)},\n      "line": {finding.line:d},\n'
        f'      "column": {finding.column:d},\n      "code": {_string(finding.code)},\n'
        f'      "rule": {_string(finding.rule)},\n      "severity": {_string(finding.severity)},\n'
        f'      "message": {_string(finding.message)},\n      "hint": {_string(finding.hint)}\n'
        "    }"
    )
