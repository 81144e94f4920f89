"""Each rule's docstring is its documentation page: it has the sections, its Example is
flagged by the rule, and its "Use instead" passes the rule (the linter takes its own advice)."""

from __future__ import annotations

import re

import pytest

from expandcontract.linters import RULES
from tests.helpers import codes

SECTIONS = [
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## With Alembic",
]
# phase rules need a revision on a phase branch: tested in test_alembic_lint
CHECKED = [r for r in RULES if r.check is not None and not r.code.startswith("EC6")]


def _sql_block(doc: str, section: str) -> str | None:
    part = doc.split(section, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sql\n(.*?)```", part, re.DOTALL)
    return match.group(1) if match else None


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_docstring_has_every_section(rule) -> None:
    positions = [rule.doc.find(s) for s in SECTIONS]
    assert all(p >= 0 for p in positions), f"{rule.name} lacks {SECTIONS[positions.index(-1)]}"
    assert positions == sorted(positions)
    assert re.fullmatch(r"EC\d{3}", rule.code) and re.fullmatch(
        r"[a-z0-9]+(-[a-z0-9]+)*", rule.name
    )


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.name)
def test_example_is_flagged_and_use_instead_is_not(rule) -> None:
    version = 10 if rule.name == "add-column-default-before-pg11" else 14
    example = _sql_block(rule.doc, "## Example")
    assert example, f"{rule.name}: no SQL example"
    assert rule.code in codes(example, rule.name, pg_version=version)
    instead = _sql_block(rule.doc, "## Use instead")
    if instead:
        assert rule.code not in codes(instead, rule.name, pg_version=version), instead


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in RULES}) == len({r.name for r in RULES}) == len(RULES)


def test_readme_rule_table_lists_every_rule() -> None:
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for rule in RULES:
        assert f"| {rule.code} | `{rule.name}` | {rule.severity} |" in readme, rule.code
