"""Each case issue 25 reported, as a test of its own on real PostgreSQL: what both
application versions read back while the phases of one change run, up and down.

The randomized checker (test_contract.py) explores interleavings; these pin the
exact sequences users hit.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

ORDER = ("expand", "migrate", "switch", "contract")


def _up(project: PhaseProject, *phases: str) -> None:
    for phase in phases:
        result = project.phase("upgrade", phase)
        assert result.exit_code == 0, f"upgrade {phase}: {result.output}"


def _down(project: PhaseProject, *phases: str) -> None:
    for phase in phases:
        result = project.phase("downgrade", phase)
        assert result.exit_code == 0, f"downgrade {phase}: {result.output}"


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, prepare_threshold=None)


PRICES = """
CREATE TABLE items (id bigint PRIMARY KEY, price numeric(10,2), label varchar(50));
INSERT INTO items SELECT g, g + 0.25, 'item' || g FROM generate_series(1, 500) g
"""


def test_the_backfill_keeps_what_the_new_version_wrote(tmp_path: Path, database_url: str) -> None:
    """numeric(10,2) -> numeric(12,4): the new version writes four decimals after expand;
    the backfill used to overwrite them with the old column's two."""
    project = PhaseProject(tmp_path, database_url, PRICES)
    project.new(
        "change-type", "items", "price", "numeric(12,4)", "--new-name", "price_exact",
        "--reverse", "price_exact::numeric(10,2)", "--lossy",
    )  # fmt: skip
    _up(project, "expand")
    with _connect(database_url) as conn:
        conn.execute("UPDATE items SET price_exact = 69.1234 WHERE id <= 100")
        conn.execute("INSERT INTO items (id, price_exact) VALUES (1000, 1.0001)")
        _up(project, "migrate", "switch")
        rows = conn.execute(
            "SELECT count(*) FILTER (WHERE price_exact = 69.1234), "
            "count(*) FILTER (WHERE price = 69.12) FROM items WHERE id <= 100"
        ).fetchone()
        assert rows == (100, 100)  # new version's digits kept; the old version sees its own
        assert conn.execute("SELECT price_exact::text FROM items WHERE id = 1000").fetchone() == (
            "1.0001",
        )
        assert conn.execute("SELECT price_exact::text FROM items WHERE id = 200").fetchone() == (
            "200.2500",
        )


def test_an_explicit_null_stays_null(tmp_path: Path, database_url: str) -> None:
    """plan text DEFAULT 'free' renamed to tier: the new version's explicit NULL used to
    read back 'free' (the insert trigger filled a NULL new column from the old one)."""
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE accounts (id bigint PRIMARY KEY, plan text DEFAULT 'free');"
        "INSERT INTO accounts SELECT g, 'pro' FROM generate_series(1, 20) g",
    )
    project.new("rename-column", "accounts", "plan", "tier")
    with _connect(database_url) as conn:
        for phase in ORDER:
            _up(project, phase)
            key = 100 + ORDER.index(phase)
            conn.execute("INSERT INTO accounts (id, tier) VALUES (%s, NULL)", (key,))
            conn.execute("INSERT INTO accounts (id) VALUES (%s)", (key + 10,))
            assert conn.execute("SELECT tier FROM accounts WHERE id = %s", (key,)).fetchone() == (
                None,
            ), f"after {phase}"
            # left out, it takes the default, as the old version's rows do
            assert conn.execute(
                "SELECT tier FROM accounts WHERE id = %s", (key + 10,)
            ).fetchone() == ("free",)
            if phase != "contract":
                assert conn.execute(
                    "SELECT plan FROM accounts WHERE id = %s", (key,)
                ).fetchone() == (None,)


def test_a_using_expression_reaches_postgresql_as_written(
    tmp_path: Path, database_url: str
) -> None:
    """--using "to_hex(code)" became HEX(NEW.code) in the trigger, which PostgreSQL does
    not have: every write of both versions failed from expand on."""
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE tokens (id bigint PRIMARY KEY, code integer);"
        "INSERT INTO tokens SELECT g, g * 1000 FROM generate_series(1, 50) g",
    )
    project.new(
        "change-type", "tokens", "code", "text", "--using", "to_hex(code)",
        "--reverse", "('x' || lpad(code_hex, 8, '0'))::bit(32)::integer", "--new-name", "code_hex",
    )  # fmt: skip
    _up(project, "expand", "migrate")
    with _connect(database_url) as conn:
        conn.execute("INSERT INTO tokens (id, code) VALUES (100, 255)")
        conn.execute("INSERT INTO tokens (id, code_hex) VALUES (101, 'ff')")
        assert conn.execute("SELECT code_hex FROM tokens WHERE id = 100").fetchone() == ("ff",)
        assert conn.execute("SELECT code FROM tokens WHERE id = 101").fetchone() == (255,)
        assert conn.execute("SELECT code_hex FROM tokens WHERE id = 2").fetchone() == ("7d0",)


@pytest.mark.parametrize(
    ("new_type", "says"),
    [
        ("uuid", "cannot cast type integer to uuid"),  # no cast at all
        ("timestamptz", None),  # a cast, but the session's TimeZone decides the result
    ],
)
def test_a_conversion_that_cannot_work_is_refused_before_anything_runs(
    tmp_path: Path, database_url: str, new_type: str, says: str | None
) -> None:
    base = (
        "CREATE TABLE events (id bigint PRIMARY KEY, at timestamp, n integer);"
        "INSERT INTO events SELECT g, '2026-01-01'::timestamp + g * interval '1 hour', g "
        "FROM generate_series(1, 30) g"
    )
    project = PhaseProject(tmp_path, database_url, base)
    column = "n" if new_type == "uuid" else "at"
    says = says or "depends on the session's settings"
    ini = str(project.root / "alembic.ini")
    refused = project.cli("new", "change-type", "events", column, new_type, "-m", "x", "-c", ini)
    assert refused.exit_code == 2 and says in refused.output, refused.output
    assert "Traceback" not in refused.output
    # written without asking, expand refuses before it changes anything
    project.new("change-type", "events", column, new_type, "--no-database-check")
    result = project.phase("upgrade", "expand")
    assert result.exit_code == 1 and says in result.output, result.output
    with _connect(database_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 "
            "AND NOT attisdropped"
        ).fetchone() == (3,)
        assert conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
        ).fetchone() == (0,)


def test_a_pinned_time_zone_is_accepted(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE events (id bigint PRIMARY KEY, at timestamp);"
        "INSERT INTO events VALUES (1, '2026-03-29 01:30:00')",
    )
    project.new(
        "change-type", "events", "at", "timestamptz", "--using", "at AT TIME ZONE 'UTC'",
        "--reverse", "at_new AT TIME ZONE 'UTC'",
    )  # fmt: skip
    _up(project, *ORDER)
    with _connect(database_url) as conn:
        conn.execute("SET TimeZone = 'Europe/Paris'")
        assert conn.execute("SELECT at::text FROM events").fetchone() == ("2026-03-29 03:30:00+02",)


def test_change_type_keeps_the_column_name(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(tmp_path, database_url, PRICES)
    project.new("change-type", "items", "price", "numeric(14,2)")
    _up(project, *ORDER)
    with _connect(database_url) as conn:
        columns = conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY 1"
        ).fetchall()
        assert columns == [("id", "bigint"), ("label", "character varying(50)"),
                           ("price", "numeric(14,2)")]  # fmt: skip
        assert conn.execute("SELECT price::text FROM items WHERE id = 3").fetchone() == ("3.25",)
    _down(project, *reversed(ORDER))
    with _connect(database_url) as conn:
        assert conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'items'::regclass AND attname = 'price'"
        ).fetchone() == ("numeric(10,2)",)


def test_a_catalog_only_change_is_one_expand_step_without_a_rewrite(
    tmp_path: Path, database_url: str
) -> None:
    project = PhaseProject(tmp_path, database_url, PRICES)
    written = project.new("change-type", "items", "label", "varchar(255)")
    assert [p.name.split("_")[1] for p in written] == ["expand"]
    with _connect(database_url) as conn:
        before = conn.execute("SELECT relfilenode FROM pg_class WHERE relname = 'items'").fetchone()
        _up(project, "expand")
        assert (
            conn.execute("SELECT relfilenode FROM pg_class WHERE relname = 'items'").fetchone()
            == before
        )  # the catalog changed, the table was not rewritten
        conn.execute("INSERT INTO items (id, label) VALUES (9000, %s)", ("x" * 200,))
        down = project.phase("downgrade", "expand")  # a value that no longer fits is named
        assert down.exit_code == 1 and "9000" in down.output, down.output
        conn.execute("DELETE FROM items WHERE id = 9000")
    _down(project, "expand")


def test_a_failed_contract_rollback_leaves_the_new_version_working(
    tmp_path: Path, database_url: str
) -> None:
    """enum -> text; the new version writes a value outside the enum. Undoing the contract
    used to fail half-way and leave a trigger failing the new version's writes."""
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TYPE mood AS ENUM ('happy', 'sad');"
        "CREATE TABLE people (id bigint PRIMARY KEY, mood mood NOT NULL DEFAULT 'happy');"
        "INSERT INTO people SELECT g, 'sad' FROM generate_series(1, 100) g",
    )
    project.new("change-type", "people", "mood", "text", "--reverse", "mood_new::mood")
    _up(project, *ORDER)
    with _connect(database_url) as conn:
        conn.execute("INSERT INTO people (id, mood) VALUES (500, 'ecstatic')")
        down = project.phase("downgrade", "contract")
        assert down.exit_code == 1, down.output
        assert "people" in down.output and "500" in down.output and "ecstatic" in down.output
        assert "Traceback" not in down.output
        # nothing changed: the new version goes on writing anything text holds
        conn.execute("INSERT INTO people (id, mood) VALUES (501, 'bored')")
        conn.execute("UPDATE people SET mood = 'calm' WHERE id = 3")
        assert conn.execute("SELECT count(*) FROM people").fetchone() == (102,)
        # once the rows are fixed, the rollback goes through
        conn.execute("UPDATE people SET mood = 'happy' WHERE mood NOT IN ('happy', 'sad')")
        _down(project, "contract")
        assert conn.execute("SELECT mood::text FROM people WHERE id = 500").fetchone() == ("happy",)


def test_the_new_version_writing_during_a_rollback_is_not_refused(
    tmp_path: Path, database_url: str
) -> None:
    """The refill of an undone contract runs while the new version writes: a value the
    old type cannot hold written in that window does not fail the write; the rollback
    then stops, naming it, and the new version is unaffected."""
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TYPE mood AS ENUM ('happy', 'sad');"
        "CREATE TABLE people (id bigint PRIMARY KEY, mood mood);"
        "INSERT INTO people SELECT g, 'sad' FROM generate_series(1, 20) g",
    )
    project.new(
        "change-type", "people", "mood", "text", "--reverse", "mood_new::mood",
        "--new-name", "mood_new",
    )  # fmt: skip
    _up(project, *ORDER)
    versions = project.root / "migrations" / "versions"
    contract = next(versions.glob("*_contract_*.py"))
    # the new version writes between the lenient trigger and the refill's check
    text = contract.read_text()
    text = text.replace(
        "    op.check_refilled(",
        "    op.execute(\"INSERT INTO people (id, mood_new) VALUES (900, 'ecstatic')\")\n"
        "    op.check_refilled(",
    )
    contract.write_text(text)
    down = project.phase("downgrade", "contract")
    assert down.exit_code == 1 and "ecstatic" in down.output, down.output
    with _connect(database_url) as conn:  # the new version's writes are not refused
        conn.execute("INSERT INTO people (id, mood_new) VALUES (901, 'bored')")
        conn.execute("UPDATE people SET mood_new = 'calm' WHERE id = 4")


def _verify_contract(project: PhaseProject, examples: int) -> tuple[int, dict]:
    import json
    import subprocess
    import sys

    from tests.conftest import ADMIN_URL, assert_dropped

    result = subprocess.run(
        [sys.executable, "-m", "expandcontract", "verify", "-c", str(project.root / "alembic.ini"),
         "--database-url", ADMIN_URL, "--since", "r0001", "--contract", str(examples),
         "--format", "json"],
        capture_output=True, text=True,
        env={**os.environ, "EXPANDCONTRACT_CONTRACT_DERANDOMIZE": "1"},
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("{"), (result.returncode, result.stderr[-3000:])
    assert_dropped(result.stderr)
    return result.returncode, json.loads(result.stdout)


ORDERS = """
CREATE TABLE orders (id serial PRIMARY KEY, amount numeric(10,2) DEFAULT 0, note text);
INSERT INTO orders (amount, note) SELECT g + 0.5, 'n' || g FROM generate_series(1, 30) g
"""


def test_verify_checks_the_contract_of_a_users_own_change(tmp_path: Path, database_url: str):
    """verify --contract runs the checker on the project's own changes: its table, its
    conversions; a migrate revision edited to overwrite every row is caught."""
    project = PhaseProject(tmp_path, database_url, ORDERS)
    project.new(
        "change-type", "orders", "amount", "numeric(12,4)", "--new-name", "amount_exact",
        "--reverse", "amount_exact::numeric(10,2)", "--lossy",
    )  # fmt: skip
    project.new("rename-column", "orders", "note", "remark")
    code, report = _verify_contract(project, 4)
    assert code == 0, report
    assert [(c["change"], c["ok"]) for c in report["contract"]] == [
        ("change-type orders.amount to numeric(12,4)", True),
        ("rename-column orders.note to remark", True),
    ]
    migrate = next(
        p
        for p in (project.root / "migrations" / "versions").glob("*_migrate_*.py")
        if "amount_exact" in p.read_text()
    )
    edited = migrate.read_text().replace("where='amount_exact IS NULL'", "where='true'")
    assert "where='true'" in edited
    migrate.write_text(edited)
    code, report = _verify_contract(project, 10)
    assert code == 1
    violated = [c for c in report["contract"] if not c["ok"]]
    assert [c["change"] for c in violated] == ["change-type orders.amount to numeric(12,4)"]
    assert "amount_exact" in violated[0]["violation"] or "reads" in violated[0]["violation"]
