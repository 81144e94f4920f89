"""set-not-null: what it writes into each phase, against tests/kinds/golden/set-not-null/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "plain": {"table": "users", "column": "email"},
    "backfill": {"table": "billing.Accounts", "column": "Region", "backfill": "'eu'"},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("set-not-null", case, CASES[case])
