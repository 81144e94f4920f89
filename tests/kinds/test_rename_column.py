"""rename-column: what it writes into each phase, against tests/kinds/golden/rename-column/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "public": {"table": "users", "old": "name", "new": "full_name"},
    "schema": {"table": "billing.invoices", "old": "total", "new": "amount"},
    "mixed_case": {"table": "Orders", "old": "Order Notes", "new": "user"},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("rename-column", case, CASES[case])
