"""add-column: what it writes into each phase, against tests/kinds/golden/add-column/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "nullable": {"table": "users", "column": "nickname", "type_": "text"},
    "not_null_default": {
        "table": "billing.Invoices",
        "column": "Status",
        "type_": "text",
        "not_null": True,
        "default": "'open'",
    },
    "computed_fill": {
        "table": "users",
        "column": "email_lower",
        "type_": "text",
        "backfill": "lower(email)",
    },
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("add-column", case, CASES[case])


def test_not_null_needs_something_to_fill_with() -> None:
    from expandcontract.errors import InputError

    with pytest.raises(InputError, match="--default or --backfill"):
        check(
            "add-column", "unused", {"table": "t", "column": "c", "type_": "int", "not_null": True}
        )
