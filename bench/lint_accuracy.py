"""Lint accuracy, side by side with squawk, on the truth set of tests/test_truth_families.py
(each case's label is checked on a real PostgreSQL by that test).

    python bench/lint_accuracy.py

For each case the judged statement is the file's last; a linter "flags" it when it
reports an error there (ours) or any violation there (squawk, with its style and
timeout rules off: squawk has no severities that separate blocking from advice).
Prints caught unsafe cases and false alarms on safe ones, for both, and the cases
where each one is wrong. squawk: `pip install squawk-cli`.

Beside it: the same for the examples of issue 30 (tests/test_issue30_examples.py, each
linted after its schema's history, labels as observed on PostgreSQL 15), and the
coverage of the statement table: the command tags of PostgreSQL 18 (every statement
type of its grammar) that a row of the table answers with, and how many rows the
oracle (tests/test_statement_table.py) runs on a server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))

from tests.helpers import lint
from tests.test_truth_families import CASES, VERSIONED

SQUAWK_OFF = [
    "prefer-robust-stmts",
    "require-lock-timeout",
    "require-statement-timeout",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-text-field",
    "prefer-timestamptz",
    "ban-char-field",
]


def ours(sql: str, last: int, in_transaction: bool) -> bool:
    return any(
        f.severity == "error" and f.line == last and not f.code.startswith("EC6")
        for f in lint(sql, pg_version=15, assume_in_transaction=in_transaction)
    )


def squawk(binary: str, sql: str, last: int, in_transaction: bool) -> bool:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as out:
        out.write(sql)
    try:
        result = subprocess.run(
            [
                binary,
                "--reporter",
                "json",
                "--pg-version",
                "15",
                "--exclude",
                ",".join(SQUAWK_OFF),
                out.name,
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode == 2:
            sys.exit(f"squawk failed: {result.stderr.strip()}")
        found = json.loads(result.stdout or "[]")
    finally:
        Path(out.name).unlink()
    return any(v.get("line", -1) + 1 >= last for v in found)  # squawk counts lines from 0


def main() -> None:
    # the version-dependent cases, as on PostgreSQL 15 (what the rest run against)
    cases = CASES + [(file, labels[15], oracle) for file, labels, oracle in VERSIONED]
    binary = shutil.which("squawk") or str(Path(sys.executable).with_name("squawk"))
    have_squawk = Path(binary).exists()
    tally = {"ours": [0, 0, []], "squawk": [0, 0, []]}
    unsafe_total = sum(1 for _, unsafe, _ in cases if unsafe)
    for file, unsafe, oracle in cases:
        sql = file + ";\n"
        last = sql.rstrip().count("\n") + 1
        in_transaction = oracle[0] == "fails"  # run as a revision runs, in one transaction
        verdicts = {"ours": ours(sql, last, in_transaction)}
        if have_squawk:
            verdicts["squawk"] = squawk(binary, sql, last, in_transaction)
        for tool, flagged in verdicts.items():
            if flagged and unsafe:
                tally[tool][0] += 1
            elif flagged:
                tally[tool][1] += 1
            if flagged != unsafe:
                tally[tool][2].append(("missed" if unsafe else "false alarm", file))
    safe_total = len(cases) - unsafe_total
    print(
        f"{len(cases)} cases: {unsafe_total} unsafe, {safe_total} safe (labels checked on PostgreSQL)\n"
    )
    for tool in ("ours", "squawk") if have_squawk else ("ours",):
        caught, alarms, wrong = tally[tool]
        print(
            f"{tool:<7} caught {caught}/{unsafe_total} unsafe, false alarms on {alarms}/{safe_total} safe"
        )
        for what, file in wrong:
            print(f"    {what}: {' '.join(file.split())[:100]}")
    if not have_squawk:
        print("\nsquawk not found: `pip install squawk-cli` to compare side by side")
    issue_examples()
    table_coverage()


def issue_examples() -> None:
    from tests.test_issue30_examples import CASES as EXAMPLES
    from tests.test_issue30_examples import lint_after_history

    unsafe = [c for c in EXAMPLES if c[2][15]]
    caught = alarms = 0
    wrong = []
    for name, file, labels, _, in_transaction in EXAMPLES:
        findings = lint_after_history(file.replace("{role}", "app"), 15, in_transaction)
        errors = [f for f in findings if f.severity == "error"]
        last = file.count("\n") + 1
        if labels[15]:
            flagged = any(f.line == last for f in errors)
            caught += flagged
        else:
            flagged = bool(errors)
            alarms += flagged
        if flagged != labels[15]:
            wrong.append(("missed" if labels[15] else "false alarm", name))
    safe = len(EXAMPLES) - len(unsafe)
    print(
        f"\nissue 30 examples ({len(EXAMPLES)}): caught {caught}/{len(unsafe)} unsafe, "
        f"false alarms on {alarms}/{safe} safe"
    )
    for what, name in wrong:
        print(f"    {what}: {name}")


def table_coverage() -> None:
    from expandcontract.sql.postgres.statement_table import ACTIONS, ENTRIES, STATEMENTS, coverage

    known, total = coverage()
    observed = sum(1 for e in ENTRIES if e.example and e.since < 90)
    syntax_only = sum(1 for e in ENTRIES if e.example and (e.refused or e.block == "outside"))
    print(
        f"\nstatement table: {known}/{total} statement types of PostgreSQL 18 known "
        f"(command tags); {len(STATEMENTS)} statement rows, {len(ACTIONS)} ALTER subcommand "
        f"rows; {observed} rows run by the oracle on 15 and 18 ({syntax_only} of them for "
        "acceptance and transaction-block refusal only)"
    )


if __name__ == "__main__":
    main()
