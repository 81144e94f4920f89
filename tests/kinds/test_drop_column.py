"""drop-column: what it writes into each phase, against tests/kinds/golden/drop-column/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "public": {"table": "users", "column": "legacy"},
    "mixed_case": {"table": "billing.Invoices", "column": "Old Total"},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("drop-column", case, CASES[case])
