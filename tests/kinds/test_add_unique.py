"""add-unique: what it writes into each phase, against tests/kinds/golden/add-unique/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "one": {"table": "users", "columns": ("email",)},
    "several": {"table": "billing.Invoices", "columns": ("Number", "year")},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("add-unique", case, CASES[case])
