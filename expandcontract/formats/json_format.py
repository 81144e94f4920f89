"""The stable JSON contract: ``{"findings": [...], "files": N, "statements": N}``."""

import json
from collections.abc import Iterator

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
            item = "    " + json.dumps(finding.as_dict(), indent=2).replace("\n", "\n    ")
            yield item if index == 0 else ",\n" + item
        yield "\n  ]"
    yield f',\n  "files": {report.files},\n  "statements": {report.statements}\n}}'
