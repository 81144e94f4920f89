"""The verify report as text, JSON (the stable contract) or JUnit XML."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:  # the verifier renders through this module: no import back at run time
    from expandcontract.verify.verifier import VerifyReport


def render(name: str, report: VerifyReport) -> str:
    if name == "json":
        return json.dumps(report.as_dict(), indent=2)
    if name == "junit":
        return _junit(report)
    if name == "github":
        return _github(report)
    return _text(report)


def _github(report: VerifyReport) -> str:
    """GitHub Actions annotations: an error on each failed revision's file, a warning on
    each statement that took a blocking lock or rewrote a table."""
    from expandcontract.formats.github_format import _data, _property

    lines = []
    for rev in report.revisions:
        where = f"file={_property(rev.path)},line=1" if rev.path else ""
        title = _property(f"expandcontract verify {rev.revision}")
        if rev.status == "failed":
            text = _data("\n".join(p.message for p in rev.problems) or "failed")
            lines.append(f"::error {where},title={title}::{text}")
        for statement in rev.statements:
            if statement.flags:
                sql = " ".join(statement.sql.split())[:120]
                text = _data(f"{statement.direction}: {', '.join(statement.flags)}: {sql}")
                lines.append(f"::warning {where},title={title}::{text}")
    if report.unverified:
        lines.append(
            "::error title=expandcontract verify::"
            + _data(f"not reached: {', '.join(report.unverified)}")
        )
    # the log keeps the whole report, fenced: a line of it (a message quoting a name, a
    # docstring) that starts with "::" must not run as a workflow command
    import secrets

    token = secrets.token_hex(16)
    lines += [f"::stop-commands::{token}", _text(report), f"::{token}::"]
    return "\n".join(lines)


def _text(report: VerifyReport) -> str:
    lines = [f"database: {report.database}"]
    if report.base:
        lines.append(f"base: {len(report.base)} earlier revision(s) upgraded without checks")
    for rev in report.revisions:
        phase = f" [{rev.phase}]" if rev.phase else ""
        lines.append(f"{rev.status.upper():<12} {rev.revision}{phase} {rev.doc}".rstrip())
        if rev.reason:
            lines.append(f"    irreversible by declaration: {rev.reason}")
        for problem in rev.problems:
            lines.append(f"    {problem.severity}: {problem.message}")
        for statement in rev.statements:
            if statement.flags:
                sql = " ".join(statement.sql.split())[:90]
                lines.append(f"    {statement.direction:>4} {statement.ms:8.1f} ms  {sql}")
                lines.append(f"                       ! {', '.join(statement.flags)}")
    if report.unverified:
        lines.append(
            f"stopped: {len(report.unverified)} revision(s) not verified "
            f"({', '.join(report.unverified)})"
        )
    if report.tables:
        empty = sorted(report.tables - report.tables_with_rows)
        share = len(report.tables_with_rows) / len(report.tables) * 100
        lines.append(
            f"data: rows in {len(report.tables_with_rows)} of {len(report.tables)} table(s) "
            f"({share:.0f} %)" + (f"; never filled: {', '.join(empty)}" if empty else "")
        )
    for result in report.contract:
        verdict = "SKIPPED" if result.skipped else "OK" if result.ok else "VIOLATED"
        lines.append(f"{verdict:<12} contract of {result.change}")
        if result.skipped:
            lines.append(f"    {result.skipped}")
        elif result.ok:
            lines.append(f"    {result.examples} randomized runs of both versions, zero violations")
        else:
            lines.extend("    " + line for line in result.message.splitlines())
    failed = sum(1 for r in report.revisions if r.status == "failed")
    declared = sum(1 for r in report.revisions if r.status == "irreversible")
    notes = sum(1 for r in report.revisions for p in r.problems if p.severity == "note")
    if report.ok:
        lines.append(
            f"All {len(report.revisions)} revision(s) verified"
            + (
                f"; {declared} irreversible by declaration ({notes} note(s) on the data "
                "they do not restore)"
                if declared
                else ""
            )
            + "."
        )
    else:
        lines.append(
            f"{len(report.revisions)} revision(s) checked, {failed} failed"
            + (f", {len(report.unverified)} not reached" if report.unverified else "")
            + "."
        )
    return "\n".join(lines)


def _junit(report: VerifyReport) -> str:
    suites = ET.Element("testsuites", name="expandcontract verify")
    failures = sum(1 for r in report.revisions if r.status == "failed")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="expandcontract verify",
        tests=str(len(report.revisions) + len(report.unverified)),
        failures=str(failures),
        errors="0",
        skipped=str(len(report.unverified)),
    )
    for rev in report.revisions:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=rev.phase or "revisions",
            name=f"{rev.revision} {rev.doc}".strip(),
        )
        if rev.status == "failed":
            failure = ET.SubElement(
                case,
                "failure",
                message=rev.problems[0].message if rev.problems else "failed",
                type="verify",
            )
            failure.text = "\n".join(p.message for p in rev.problems)
        elif rev.problems or rev.reason:
            out = ET.SubElement(case, "system-out")
            out.text = "\n".join(
                ([f"irreversible: {rev.reason}"] if rev.reason else [])
                + [p.message for p in rev.problems]
            )
    for revision in report.unverified:
        case = ET.SubElement(suite, "testcase", classname="revisions", name=revision)
        ET.SubElement(case, "skipped", message="not reached: an earlier revision failed")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
