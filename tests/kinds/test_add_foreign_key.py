"""add-foreign-key: what it writes into each phase, against tests/kinds/golden/add-foreign-key/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "default_column": {"table": "orders", "column": "user_id", "reference": "users"},
    "schema": {"table": "billing.invoices", "column": "Customer", "reference": "crm.Customers.uid"},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("add-foreign-key", case, CASES[case])
