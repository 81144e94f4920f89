"""change-type: what it writes into each phase, against tests/kinds/golden/change-type/."""

import pytest

from tests.kinds.golden import check

CASES = {
    "cast": {"table": "items", "column": "qty", "new_type": "bigint"},
    "using_reverse": {
        "table": "billing.items",
        "column": "Payload",
        "new_type": "jsonb",
        "using": '"Payload"::jsonb',
        "reverse": '"Payload_new"::text',
    },
    "new_name": {
        "table": "items",
        "column": "price",
        "new_type": "numeric(12,4)",
        "new_name": "price_exact",
    },
}


@pytest.mark.parametrize("case", CASES)
def test_writes(case: str) -> None:
    check("change-type", case, CASES[case])


def test_a_statement_is_not_a_type() -> None:
    from expandcontract.errors import InputError

    with pytest.raises(InputError, match="is not a PostgreSQL type"):
        check(
            "change-type", "unused", {"table": "t", "column": "c", "new_type": "text; DROP TABLE t"}
        )
