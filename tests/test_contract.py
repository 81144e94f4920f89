"""The two-version contract (README), checked by randomized interleavings on real PostgreSQL.

Each scenario is a change written by its kind as ``expandcontract new`` writes it, on a
table in one of three places (public, another schema, mixed-case names); the checker
(expandcontract.checker) drives both application versions' writes and the phases up
and down, with the backfill running while both write and runs killed and rerun, and
compares every row each version reads with the contract. CI runs a small fixed budget;
EXPANDCONTRACT_CONTRACT_SLOW=1 a larger, random one (``pytest -m slow``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import pytest
from hypothesis import strategies as st

from expandcontract.checker import others
from expandcontract.checker.machine import Scenario, check
from expandcontract.checker.model import DEFAULT, NULL, OMIT
from expandcontract.checker.replace import ReplaceColumn
from expandcontract.checker.scenarios import build, drop
from expandcontract.schema.names import quote
from tests.conftest import ADMIN_URL

SLOW = os.environ.get("EXPANDCONTRACT_CONTRACT_SLOW")

# where the table lives, and what its changed column is called there
TARGETS = {
    "public": ("items", "c"),
    "schema": ("shop.items", "c"),
    "mixed": ("Shop.Items", "Amount"),
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
    using: str | None = None  # naming {c}
    reverse: str | None = None  # naming {n}
    new_name: bool = True  # --new-name: the new version writes its own column
    default: str | None = None
    lossy: bool = False


# lossless, lossy each way, session-pinned, custom, enum, array, jsonb; each version's
# values include ones the other version's type cannot hold
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
        reverse="{n}::numeric(10,2)",
        lossy=True,
    ),
    "varchar-narrow-back": Conversion(
        "varchar(50)",
        "varchar(255)",
        ("short", "x" * 50),
        ("y" * 120, "fits"),
        reverse="left({n}, 50)",
        lossy=True,
        default="'none'",
    ),
    "timestamp-pinned": Conversion(
        "timestamp",
        "timestamptz",
        ("2026-03-29 01:30:00", "2026-10-25 02:30:00", "1999-12-31 23:59:59"),
        ("2026-03-29 01:30:00+00", "2026-06-01 12:00:00+02"),
        using="{c} AT TIME ZONE 'UTC'",
        reverse="{n} AT TIME ZONE 'UTC'",
    ),
    "text-jsonb": Conversion(
        "text",
        "jsonb",
        ('{"a": 1}', "[1, 2]", '"s"', "not json"),
        ('{"b": [true, null]}', "3"),
        using="{c}::jsonb",
        reverse="{n}::text",
        lossy=True,  # jsonb normalizes spacing
    ),
    "cents-dollars": Conversion(
        "text",
        "numeric(12,2)",
        ("100", "12345", "7"),
        ("1.00", "123.45", "0.07"),
        using="({c}::numeric / 100)",
        reverse="({n} * 100)::integer::text",
    ),
    "enum-text": Conversion(
        "mood", "text", ("happy", "sad"), ("happy", "ecstatic"), reverse="{n}::mood"
    ),
    "int-array": Conversion(
        "integer[]", "bigint[]", ("{1,2}", "{}", "{2147483647,NULL}"), ("{3000000000}", "{4,5}")
    ),
}


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _table_sql(table: str, column_sql: str, values: list[str], type_: str, extra: str = "") -> str:
    """A table (in its schema) with 40 rows cycling through ``values``."""
    schema = f"CREATE SCHEMA IF NOT EXISTS {quote(table.split('.')[0])};" if "." in table else ""
    column = column_sql.split()[0]
    return (
        f"{schema} CREATE TYPE mood AS ENUM ('happy', 'sad'); {extra}"
        f"CREATE TABLE {quote(table)} (id bigint PRIMARY KEY, note text NOT NULL DEFAULT '', "
        f"{column_sql});"
        f"INSERT INTO {quote(table)} (id, note, {column}) SELECT g, 'seed' || g, "
        f"CAST((ARRAY[{', '.join(_literal(v) for v in values)}])[1 + g % {len(values)}] "
        f"AS {type_}) FROM generate_series(1, 40) g"
    )


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
    if SLOW:
        return {"examples": 25, "steps": 40}
    return {"examples": 2, "steps": 15, "derandomize": True}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_change_type_keeps_the_contract(scenarios, name: str, target: str) -> None:
    conversion = CONVERSIONS[name]
    table, column = TARGETS[target]
    new = f"{column}_new"
    names = {"c": quote(column), "n": quote(new)}
    using = conversion.using.format(**names) if conversion.using else None
    reverse = conversion.reverse.format(**names) if conversion.reverse else None
    arguments = {"table": table, "column": column, "new_type": conversion.new_type}
    arguments.update(
        {
            k: v
            for k, v in {
                "using": using,
                "reverse": reverse,
                "new_name": new if conversion.new_name else None,
                "lossy": conversion.lossy or None,
            }.items()
            if v
        }
    )
    default = f" DEFAULT {conversion.default}" if conversion.default else ""
    seeded = [v for v in conversion.old_values if v != "not json"]  # rows that convert
    base_sql = _table_sql(
        table, f"{quote(column)} {conversion.old_type}{default}", seeded, conversion.old_type
    )

    def model(oracle):
        return ReplaceColumn(
            oracle=oracle,
            table=table,
            old=column,
            new=new,
            old_type=conversion.old_type,
            new_type=conversion.new_type,
            forward=using or f"{quote(column)}::{conversion.new_type}",
            backward=reverse,
            in_place=not conversion.new_name,
            default=conversion.default,
            lossy=conversion.lossy,
        )

    values = {"old": _values(*conversion.old_values), "new": _values(*conversion.new_values)}
    check(
        scenarios(f"{name}-{target}", base_sql, "change-type", arguments, model, values),
        **_budget(),
    )


@pytest.mark.parametrize("target", list(TARGETS))
def test_rename_column_keeps_the_contract(scenarios, target: str) -> None:
    table, column = TARGETS[target]
    samples = ("free", "pro", "")
    base_sql = _table_sql(table, f"{quote(column)} text DEFAULT 'free'", list(samples), "text")

    def model(oracle):
        return ReplaceColumn(
            oracle=oracle,
            table=table,
            old=column,
            new="tier",
            old_type="text",
            new_type="text",
            forward=quote(column),
            backward=quote("tier"),
            default="'free'",
        )

    arguments = {"table": table, "old": column, "new": "tier"}
    values = {"old": _values(*samples), "new": _values("team", "free")}
    check(
        scenarios(f"rename-{target}", base_sql, "rename-column", arguments, model, values),
        **_budget(),
    )


# the other kinds: (kind, its arguments, the column's SQL, seeded values, model, each
# version's values); {t} and {c} are the target's table and column
OTHERS = {
    "add-index": (
        {"columns": ("{c}",)},
        "{c} text",
        ["a", "b"],
        others.AddIndex,
        ("a", "z"),
        ("b", "y"),
    ),
    "add-unique": (
        {"columns": ("{c}",)},
        "{c} text",
        [f"u{i}" for i in range(41)],  # every seeded row a value of its own
        others.AddUnique,
        ("a", "dup", "q"),
        ("dup", "w"),
    ),
    "add-foreign-key": (
        {"column": "{c}", "reference": "{parent}.id"},
        "{c} integer",
        ["1", "2", "3"],
        others.AddForeignKey,
        ("1", "2", "9"),
        ("3", "8"),
    ),
    "set-not-null": (
        {"column": "{c}", "backfill": "'fill'"},
        "{c} text",
        ["a", "b"],
        others.SetNotNull,
        ("a", "z"),
        ("b", "y"),
    ),
    "drop-column": (
        {"column": "{c}"},
        "{c} text DEFAULT 'dflt'",
        ["a", "b"],
        others.DropColumn,
        ("a", "z"),
        ("b",),
    ),
    "rename-table": (
        {"old": "{t}", "new": "things"},
        "{c} text",
        ["a", "b"],
        others.RenameTable,
        ("a", "z"),
        ("b", "y"),
    ),
    "drop-table": ({"table": "{t}"}, "{c} text", ["a", "b"], others.DropTable, ("a",), ("b",)),
    "add-column": (
        {"column": "{c}", "type_": "text", "backfill": "note || '!'"},
        "other text",
        ["a"],
        others.AddColumn,
        ("x",),
        ("mine", "ok"),
    ),
}


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("kind", list(OTHERS))
def test_every_other_kind_keeps_the_contract(scenarios, kind: str, target: str) -> None:
    arguments, column_sql, seeded, model_class, old_values, new_values = OTHERS[kind]
    table, column = TARGETS[target]
    schema = table.rsplit(".", 1)[0] + "." if "." in table else ""
    parent = f"{schema}parents"
    fill = {"t": table, "c": column, "parent": parent}
    arguments = {
        k: tuple(x.format(**fill) for x in v) if isinstance(v, tuple) else v.format(**fill)
        for k, v in arguments.items()
    }
    if kind not in ("rename-table", "drop-table"):
        arguments = {"table": table, **arguments}
    column_sql = column_sql.format(c=quote(column))
    extra = ""
    if kind == "add-foreign-key":
        extra = (
            (f"CREATE SCHEMA IF NOT EXISTS {quote(schema[:-1])};" if schema else "")
            + f"CREATE TABLE {quote(parent)} (id integer PRIMARY KEY); INSERT INTO {quote(parent)} VALUES (1), (2), (3);"
        )
    type_ = column_sql.split()[1]
    base_sql = _table_sql(table, column_sql, seeded, type_, extra)
    default = "'dflt'" if "DEFAULT" in column_sql else None
    new_table = (schema + "things") if kind == "rename-table" else ""

    def model(oracle):
        made = model_class(oracle=oracle, table=table, column=column, type_=type_, default=default)
        if kind == "rename-table":
            made = replace(made, new_table=new_table)
        if kind == "add-column":
            made = replace(made, expression="note || '!'")
        return made

    values = {"old": _values(*old_values), "new": _values(*new_values)}
    check(scenarios(f"{kind}-{target}", base_sql, kind, arguments, model, values), **_budget())
