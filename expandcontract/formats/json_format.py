"""The stable JSON contract: ``{"findings": [...], "files": N, "statements": N}``."""

import json

from expandcontract.lint.finding import Report


def render(report: Report) -> str:
    return json.dumps(
        {
            "findings": [f.as_dict() for f in report.findings],
            "files": report.files,
            "statements": report.statements,
        },
        indent=2,
    )
