"""The stable JSON contract: ``{"findings": [...], "files": N, "statements": N}``."""

import json

from expandcontract.lint.finding import Report


def render(report: Report) -> str:
    """Exactly ``json.dumps(contract, indent=2)``, built a finding at a time so that a report
    of 100,000s of findings never exists twice in memory as dicts."""
    if not report.findings:
        findings = "[]"
    else:
        items = ",\n".join(
            "    " + json.dumps(f.as_dict(), indent=2).replace("\n", "\n    ")
            for f in report.findings
        )
        findings = f"[\n{items}\n  ]"
    return (
        f'{{\n  "findings": {findings},\n  "files": {report.files},\n'
        f'  "statements": {report.statements}\n}}'
    )
