"""JUnit XML: a test case per finding, and a passing one per clean file."""

from xml.etree import ElementTree as ET

from expandcontract.lint.finding import Report


def render(report: Report) -> str:
    suites = ET.Element("testsuites", name="expandcontract")
    failures = [f for f in report.findings if f.severity == "error"]
    clean = [p for p in report.paths if not any(f.path == p for f in report.findings)]
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="expandcontract lint",
        tests=str(len(report.findings) + len(clean)),
        failures=str(len(failures)),
        errors="0",
        skipped="0",
    )
    for f in report.findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f.path,
            name=f"{f.line}:{f.column} {f.code} {f.rule}",
            file=f.path,
            line=str(f.line),
        )
        tag = "failure" if f.severity == "error" else "system-out"
        element = ET.SubElement(case, tag)
        if tag == "failure":
            element.set("message", f.message)
            element.set("type", f.code)
        element.text = f"{f.path}:{f.line}:{f.column}: {f.message}\n{f.hint}"
    for path in clean:
        ET.SubElement(suite, "testcase", classname=path, name="no findings", file=path)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode")
