"""Every kind, fed hostile names: refused with a clear message, or round-tripped with
nothing lost and nothing outside its table touched.

The names: an embedded double quote and semicolon, SQL value functions (``user``,
``current_date``: unquoted, each reads as a value), a space with mixed case, a
62-byte Cyrillic name, a 64-byte name PostgreSQL would cut. The table and its
column both carry the name; a ``canary`` table must come through every run as it was.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.phase_project import PhaseProject

NAMES = {
    "quote and semicolon": 'we"ird;name',
    "user": "user",
    "current_date": "current_date",
    "space and case": "Mixed Case",
    "62-byte cyrillic": "ж" * 31,
    "64 bytes": "n" * 64,
    "schema, quote and case": 'billing.Or"ders',
}


def _kind_args(kind: str, name: str) -> list[str]:
    _, column = _split(name)  # the table may name its schema; the column is the bare name
    return {
        "add-column": ["add-column", name, f"{column}_a", "text", "--default", "'d'"],
        "rename-column": ["rename-column", name, column, f"{column}_r"],
        "change-type": ["change-type", name, column, "numeric"],
        "set-not-null": ["set-not-null", name, column, "--backfill", "0"],
        "add-foreign-key": ["add-foreign-key", name, column, "ref.id"],
        "add-unique": ["add-unique", name, column],
        "add-index": ["add-index", name, column],
        "drop-column": ["drop-column", name, column],
        "rename-table": ["rename-table", name, f"{column}_r"],
        "drop-table": ["drop-table", name],
    }[kind]


KINDS = [
    "add-column",
    "rename-column",
    "change-type",
    "set-not-null",
    "add-foreign-key",
    "add-unique",
    "add-index",
    "drop-column",
    "rename-table",
    "drop-table",
]


def _split(name: str) -> tuple[str | None, str]:
    """``billing.x`` -> (billing, x): the table's schema, and the name the column shares."""
    schema, _, own = name.rpartition(".")
    return schema or None, own


def _base(name: str) -> str:
    if len(name.encode()) > 63:  # PostgreSQL would cut it: build the base under the cut name
        name = name.encode()[:63].decode()
    schema, own = _split(name)
    t = sql.Identifier(*filter(None, (schema, own))).as_string(None)
    c = sql.Identifier(own).as_string(None)
    create_schema = f"CREATE SCHEMA {sql.Identifier(schema).as_string(None)};" if schema else ""
    return f"""
{create_schema}
CREATE TABLE canary (id int PRIMARY KEY, note text);
INSERT INTO canary SELECT g, 'c' || g FROM generate_series(1, 5) g;
CREATE TABLE ref (id bigint PRIMARY KEY);
INSERT INTO ref SELECT g FROM generate_series(1, 50) g;
CREATE TABLE {t} (id bigint PRIMARY KEY, {c} bigint, note text);
INSERT INTO {t} SELECT g, g, 'n' || g FROM generate_series(1, 50) g;
"""


def _shape(conn: psycopg.Connection) -> dict:
    return {
        "relations": conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname IN ('public', 'billing') AND c.relname NOT "
            "LIKE 'expandcontract%' AND c.relname <> 'alembic_version' ORDER BY 1, 2"
        ).fetchall(),
        "columns": conn.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON "
            "n.oid = c.relnamespace WHERE n.nspname IN ('public', 'billing') AND c.relkind = 'r' AND "
            "a.attnum > 0 AND NOT a.attisdropped AND c.relname NOT LIKE 'expandcontract%' "
            "AND c.relname <> 'alembic_version' ORDER BY 1, 2"
        ).fetchall(),
        "constraints": conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE connamespace::regnamespace::text IN ('public', 'billing') AND conrelid::"
            "regclass::text NOT LIKE 'expandcontract%' AND conrelid::regclass::text <> "
            "'alembic_version' ORDER BY 1, 2"
        ).fetchall(),
        "triggers": conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1"
        ).fetchall(),
        "canary": conn.execute("SELECT * FROM canary ORDER BY id").fetchall(),
    }


def _rows(conn: psycopg.Connection, name: str) -> list:
    schema, own = _split(name)
    t = sql.Identifier(*filter(None, (schema, own)))
    return conn.execute(
        sql.SQL("SELECT id, {c}, note FROM {t} ORDER BY id").format(t=t, c=sql.Identifier(own))
    ).fetchall()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("label", list(NAMES))
def test_hostile_name(tmp_path: Path, database_url: str, label: str, kind: str) -> None:
    name = NAMES[label]
    project = PhaseProject(tmp_path, database_url, _base(name))
    ini = str(project.root / "alembic.ini")
    versions = project.root / "migrations" / "versions"
    written_before = sorted(versions.iterdir())
    result = project.cli("new", *_kind_args(kind, name), "-m", f"{kind} on {label}", "-c", ini)
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _shape(conn)
        if result.exit_code != 0:
            # refused: a sentence naming what is wrong, exit 2, nothing written
            assert result.exit_code == 2, result.output
            assert "Traceback" not in result.output
            assert "bytes" in result.output or "does not exist" in result.output, result.output
            assert sorted(versions.iterdir()) == written_before
            # only a name, or a name derived from it (``name_r``), over 63 bytes
            derived = [*_kind_args(kind, name), f"{name}_new"]  # change-type's default
            too_long = [a for a in derived if len(a.encode()) > 63]
            assert too_long and "bytes" in result.output, f"{label} refused: {result.output}"
            return
        rows = _rows(conn, name)
        phases = [
            p
            for p in ("expand", "migrate", "switch", "contract")
            if any(f"({p})" in f.read_text() for f in versions.iterdir())
        ]
        for phase in phases:
            up = project.phase("upgrade", phase)
            assert up.exit_code == 0, f"upgrade {phase}: {up.output}"
            assert _shape(conn)["canary"] == before["canary"]
        for phase in reversed(phases):
            down = project.phase("downgrade", phase)
            assert down.exit_code == 0, f"downgrade {phase}: {down.output}"
        after = _shape(conn)
        assert after == before
        if kind != "drop-column":  # a drop gives up the column's data, by declaration
            assert _rows(conn, name) == rows


def test_generated_names_alike_in_their_first_63_bytes_do_not_collide(
    tmp_path: Path, database_url: str
) -> None:
    """Two columns whose generated index, constraint and trigger names share their first
    63 bytes: each change gets its own objects, and undoing one leaves the other's."""
    a, b = "x" * 55 + "_alpha", "x" * 55 + "_bravo"
    base = (
        f'CREATE TABLE t (id bigint PRIMARY KEY, "{a}" bigint, "{b}" bigint);'
        f"INSERT INTO t SELECT g, g, g FROM generate_series(1, 20) g;"
    )
    project = PhaseProject(tmp_path, database_url, base)
    project.new("add-unique", "t", a)
    project.new("add-unique", "t", b)
    with psycopg.connect(database_url, autocommit=True) as conn:
        for phase in ("expand", "switch"):
            assert project.phase("upgrade", phase).exit_code == 0
        names = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'u'"
        ).fetchall()
        assert len({n for (n,) in names}) == 2, names
        assert all(len(n.encode()) <= 63 for (n,) in names)
        assert project.phase("downgrade", "switch").exit_code == 0  # undoes b's only
        left = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 't'::regclass AND contype = 'u'"
        ).fetchone()
        assert left == (1,)
