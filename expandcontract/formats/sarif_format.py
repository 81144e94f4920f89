"""SARIF 2.1.0, as GitHub code scanning and other CI dashboards read it."""

import json

from expandcontract import __version__
from expandcontract.lint.finding import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(report: Report) -> str:
    from expandcontract.linters import RULES

    index = {rule.code: i for i, rule in enumerate(RULES)}
    driver = {
        "name": "expandcontract",
        "version": __version__,
        "informationUri": "https://pypi.org/project/expandcontract/",
        "rules": [
            {
                "id": rule.code,
                "name": rule.name,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.summary},
                "help": {"text": rule.doc, "markdown": rule.doc},
                "defaultConfiguration": {"level": rule.severity},
            }
            for rule in RULES
        ],
    }
    results = [
        {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": f.severity,
            "message": {"text": f.message + (f" Hint: {f.hint}" if f.hint else "")},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.path.replace("\\", "/")},
                        "region": {"startLine": f.line, "startColumn": f.column},
                    }
                }
            ],
        }
        for f in report.findings
    ]
    return json.dumps(
        {
            "version": "2.1.0",
            "$schema": SCHEMA,
            "runs": [{"tool": {"driver": driver}, "results": results}],
        },
        indent=2,
    )
