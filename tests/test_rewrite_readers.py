"""Pointing a view's query and a policy's expression at another column, text kept."""

from __future__ import annotations

import pytest

from expandcontract.schema.rewrite import Unrewritable, expression, view_query


@pytest.mark.parametrize(
    ("query", "table", "expected"),
    [
        (  # PostgreSQL 15's spelling: every reference qualified
            " SELECT orders.id,\n    orders.code\n   FROM orders\n  WHERE (orders.code <> 'x'::text);",
            "orders",
            "SELECT orders.id,\n    orders.ref AS code\n   FROM orders\n  WHERE (orders.ref <> 'x'::text)",
        ),
        (  # 16+: one relation, unqualified
            " SELECT id, code, upper(code) AS u FROM orders GROUP BY code, id;",
            "orders",
            "SELECT id, ref AS code, upper(ref) AS u FROM orders GROUP BY ref, id",
        ),
        (  # an alias, another table's column of the same name, a correlated subquery
            "SELECT o.id FROM orders o JOIN lines l ON l.code = o.code "
            "WHERE EXISTS (SELECT 1 FROM lines z WHERE z.code = o.code)",
            "orders",
            "SELECT o.id FROM orders o JOIN lines l ON l.code = o.ref "
            "WHERE EXISTS (SELECT 1 FROM lines z WHERE z.code = o.ref)",
        ),
        (  # a derived table keeps its column's name for the outer query
            "SELECT s.code FROM (SELECT orders.code FROM orders) s",
            "orders",
            "SELECT s.code FROM (SELECT orders.ref AS code FROM orders) s",
        ),
        (  # quoted names, in a schema
            'SELECT "O"."code" FROM billing."Orders" "O"',
            "billing.Orders",
            'SELECT "O".ref AS code FROM billing."Orders" "O"',
        ),
        (  # the same name in another schema is another table
            "SELECT o.code FROM other.orders o",
            "orders",
            "SELECT o.code FROM other.orders o",
        ),
    ],
)
def test_view_query(query: str, table: str, expected: str) -> None:
    assert view_query(query, table, "code", "ref") == expected


def test_view_query_keeps_the_type_with_a_cast() -> None:
    got = view_query("SELECT t.code FROM t WHERE t.code > 'a'", "t", "code", "code_new", "text")
    assert (
        got == "SELECT CAST(t.code_new AS text) AS code FROM t WHERE CAST(t.code_new AS text) > 'a'"
    )


def test_an_unqualified_column_beside_other_relations_is_refused() -> None:
    with pytest.raises(Unrewritable, match="without saying of which relation"):
        view_query("SELECT code FROM orders, lines", "orders", "code", "ref")


def test_policy_expression() -> None:
    got = expression("((tenant = 1) AND (code <> 'code'::text))", "code", "ref")
    assert got == "((tenant = 1) AND (ref <> 'code'::text))"
    with pytest.raises(Unrewritable, match="subquery"):
        expression("(code IN ( SELECT a.code FROM allowed a))", "code", "ref")
