"""The two-version contract (README), checked by randomized interleavings on real PostgreSQL.

Each scenario is a change written by the kind as ``expandcontract new`` writes it, on
a table in one of three places (public, another schema, mixed-case names); the
checker (expandcontract.checker) drives both application versions' writes and the
phases up and down, with the backfill running concurrently and runs killed and
rerun, and compares every row each version reads with the contract. CI runs a small
fixed budget; ``pytest -m slow`` a larger random one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from hypothesis import strategies as st

from expandcontract.checker.machine import Scenario, check
from expandcontract.checker.model import DEFAULT, NULL, OMIT
from expandcontract.checker.replace import ReplaceColumn
from expandcontract.checker.scenarios import build, drop
from tests.conftest import ADMIN_URL

SLOW = os.environ.get("EXPANDCONTRACT_CONTRACT_SLOW")
TARGETS = {
    "public": ("items", "note"),
    "schema": ("shop.items", "note"),
    "mixed": ("Shop.Items", "note"),
}


def _values(*samples: str):
    """A version's values: samples (boundaries, values the other type cannot hold), and
    the column left out, set NULL or DEFAULT."""
    return st.one_of(st.sampled_from(list(samples)), st.sampled_from([OMIT, NULL, DEFAULT]))


@dataclass(frozen=True)
class Conversion:
    old_type: str
    new_type: str
    old_values: tuple[str, ...]
    new_values: tuple[str, ...]
    using: str | None = None
    reverse: str | None = None
    new_name: bool = True  # --new-name: the new version writes its own column
    default: str | None = None
    lossy: bool = False


# at least eight conversions: lossless, lossy each way, session-pinned, custom, enum, array,
# jsonb; values each version writes include ones the other type cannot hold
CONVERSIONS = {
    "int-bigint": Conversion(
        "integer",
        "bigint",
        ("0", "-1", "2147483647", "-2147483648", "42"),
        ("7", "3000000000", "-5"),
        default="0",
    ),
    "int-bigint-in-place": Conversion(
        "integer", "bigint", ("1", "2147483647", "-9"), ("3", "-2147483648"), new_name=False
    ),
    "numeric-scale": Conversion(
        "numeric(10,2)",
        "numeric(12,4)",
        ("69.12", "0.5", "-12345678.99"),
        ("69.1234", "1.0001", "99999999.9999"),
        reverse="c_new::numeric(10,2)",
        lossy=True,
    ),
    "varchar-narrow-back": Conversion(
        "varchar(50)",
        "varchar(255)",
        ("short", "x" * 50),
        ("y" * 120, "fits"),
        reverse="left(c_new, 50)",
        lossy=True,
    ),
    "timestamp-pinned": Conversion(
        "timestamp",
        "timestamptz",
        ("2026-03-29 01:30:00", "2026-10-25 02:30:00", "1999-12-31 23:59:59"),
        ("2026-03-29 01:30:00+00", "2026-06-01 12:00:00+02"),
        using="c AT TIME ZONE 'UTC'",
        reverse="c_new AT TIME ZONE 'UTC'",
    ),
    "text-jsonb": Conversion(
        "text",
        "jsonb",
        ('{"a": 1}', "[1, 2]", '"s"', "not json"),
        ('{"b": [true, null]}', "3"),
        using="c::jsonb",
        reverse="c_new::text",
        lossy=True,  # jsonb normalizes spacing
    ),
    "cents-dollars": Conversion(
        "text",
        "numeric(12,2)",
        ("100", "12345", "7"),
        ("1.00", "123.45", "0.07"),
        using="(c::numeric / 100)",
        reverse="(c_new * 100)::integer::text",
    ),
    "enum-text": Conversion(
        "mood",
        "text",
        ("happy", "sad"),
        ("happy", "ecstatic"),
        reverse="c_new::mood",
    ),
    "int-array": Conversion(
        "integer[]",
        "bigint[]",
        ("{1,2}", "{}", "{2147483647,NULL}"),
        ("{3000000000}", "{4,5}"),
    ),
}


def _base_sql(table: str, column: str, conversion: Conversion) -> str:
    from expandcontract.schema.names import quote

    schema = f"CREATE SCHEMA {quote(table.split('.')[0])};" if "." in table else ""
    default = f" DEFAULT {conversion.default}" if conversion.default else ""
    seeded = [v for v in conversion.old_values if v != "not json"]  # rows that convert
    return (
        f"{schema} CREATE TYPE mood AS ENUM ('happy', 'sad');"
        f"CREATE TABLE {quote(table)} (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '', "
        f"{quote(column)} {conversion.old_type}{default});"
        f"INSERT INTO {quote(table)} (id, note, {quote(column)}) SELECT g, 'seed', "
        f"CAST((ARRAY[{', '.join(_literal(v) for v in seeded)}])[1 + g % {len(seeded)}] "
        f"AS {conversion.old_type})"
        " FROM generate_series(1, 40) g"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@pytest.fixture
def scenarios(tmp_path):
    made: list[Scenario] = []

    def make(name, base_sql, kind, arguments, model, values) -> Scenario:
        ini, template = build(tmp_path / name, ADMIN_URL, base_sql, kind, arguments)
        made.append(Scenario(name, ini, ADMIN_URL, template, model, values))
        return made[-1]

    yield make
    for scenario in made:
        drop(ADMIN_URL, scenario.template)


def _budget() -> dict:
    return (
        {"examples": 25, "steps": 40} if SLOW else {"examples": 3, "steps": 18, "derandomize": True}
    )


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_change_type_keeps_the_contract(scenarios, name: str) -> None:
    conversion = CONVERSIONS[name]
    table, column = "items", "c"
    arguments = {"table": table, "column": column, "new_type": conversion.new_type}
    if conversion.using:
        arguments["using"] = conversion.using
    if conversion.reverse:
        arguments["reverse"] = conversion.reverse
    if conversion.new_name:
        arguments["new_name"] = "c_new"
    if conversion.lossy:
        arguments["lossy"] = True

    def model(oracle):
        return ReplaceColumn(
            oracle=oracle,
            table=table,
            old=column,
            new="c_new",
            old_type=conversion.old_type,
            new_type=conversion.new_type,
            forward=conversion.using or f"c::{conversion.new_type}",
            backward=conversion.reverse,
            in_place=not conversion.new_name,
            default=conversion.default,
            lossy=conversion.lossy,
        )

    values = {"old": _values(*conversion.old_values), "new": _values(*conversion.new_values)}
    scenario = scenarios(
        name, _base_sql(table, column, conversion), "change-type", arguments, model, values
    )
    check(scenario, **_budget())
