"""rename-table: what it writes into each phase, against tests/kinds/golden/rename-table/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "public": {"old": "users", "new": "accounts"},
    "schema": {"old": "billing.Invoices", "new": "bills"},
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("rename-table", case, CASES[case])


def test_the_new_name_stays_in_the_schema() -> None:
    from expandcontract.errors import InputError

    with pytest.raises(InputError, match="stays in"):
        check("rename-table", "unused", {"old": "a.t", "new": "b.t"})
