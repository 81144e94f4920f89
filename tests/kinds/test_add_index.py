"""add-index: what it writes into each phase, against tests/kinds/golden/add-index/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "plain": {"table": "users", "columns": ("created_at",)},
    "unique_schema": {"table": "billing.Invoices", "columns": ("Number",), "unique": True},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("add-index", case, CASES[case])
