"""drop-table: what it writes into each phase, against tests/kinds/golden/drop-table/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "public": {"table": "sessions"},
    "schema": {"table": "billing.Old Invoices"},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("drop-table", case, CASES[case])
