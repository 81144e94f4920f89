"""GitLab Code Quality report (a JSON array of issues)."""

import hashlib
import json

from expandcontract.lint.finding import Report

_SEVERITY = {"error": "major", "warning": "minor"}


def render(report: Report) -> str:
    issues = []
    seen: dict[str, int] = {}
    for f in report.findings:
        key = f"{f.path}:{f.code}:{f.message}"
        seen[key] = seen.get(key, 0) + 1
        fingerprint = hashlib.sha256(f"{key}:{seen[key]}".encode()).hexdigest()
        issues.append(
            {
                "type": "issue",
                "check_name": f"{f.code} {f.rule}",
                "description": f"{f.code} {f.message}",
                "categories": ["Bug Risk"],
                "severity": _SEVERITY[f.severity],
                "fingerprint": fingerprint,
                "location": {"path": f.path, "lines": {"begin": f.line}},
            }
        )
    return json.dumps(issues, indent=2)
