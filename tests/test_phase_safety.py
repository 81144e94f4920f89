"""Phases that fail leave nothing behind, and derived values stay fresh while both
application versions write. Real PostgreSQL, real Alembic projects in temp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

USERS = """
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text);
INSERT INTO users SELECT g, 'User ' || g, CASE WHEN g % 2 = 0 THEN 'u' || g END
FROM generate_series(1, 200) g;
"""


def _constraints(conn: psycopg.Connection) -> list:
    return conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'users'::regclass ORDER BY 1"
    ).fetchall()


def test_a_failed_not_null_switch_leaves_no_check_behind(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(tmp_path, database_url, USERS)
    project.new("set-not-null", "users", "email")  # no --backfill: NULLs are still there
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _constraints(conn)
        failed = project.phase("upgrade", "switch")
        assert failed.exit_code == 1, failed.output
        assert _constraints(conn) == before  # no NOT VALID CHECK left rejecting NULLs
        conn.execute("INSERT INTO users (id, name) VALUES (1000, 'old version, no email')")
        status = project.cli("status", "-c", str(project.root / "alembic.ini"), "--format", "json")
        switch = next(s for s in json.loads(status.stdout) if s["phase"] == "switch")
        assert len(switch["pending"]) == 1  # status tells the truth: not applied
        conn.execute("UPDATE users SET email = 'filled' WHERE email IS NULL")
        assert project.phase("upgrade", "switch").exit_code == 0  # the rerun finishes it
        notnull = conn.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
            "AND attname = 'email'"
        ).fetchone()
        assert notnull == (True,)
        assert _constraints(conn) == before


def test_set_not_null_fills_what_the_old_version_still_writes(
    tmp_path: Path, database_url: str
) -> None:
    project = PhaseProject(tmp_path, database_url, USERS)
    project.new("set-not-null", "users", "email", "--backfill", "'none@example.com'")
    with psycopg.connect(database_url, autocommit=True) as conn:
        for phase in ("expand", "migrate"):
            assert project.phase("upgrade", phase).exit_code == 0
        # the old version keeps writing NULL emails between migrate and switch
        conn.execute("INSERT INTO users (id, name) VALUES (1001, 'late')")
        assert project.phase("upgrade", "switch").exit_code == 0, "a NULL got through"
        row = conn.execute("SELECT email FROM users WHERE id = 1001").fetchone()
        assert row == ("none@example.com",)
        for phase in ("contract", "switch", "migrate", "expand"):
            if project.phase("downgrade", phase).exit_code != 0:
                raise AssertionError(f"downgrade {phase}")
        triggers = conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT tgisinternal"
        ).fetchone()
        assert triggers == (0,)


def test_a_derived_column_stays_fresh_for_the_old_versions_updates(
    tmp_path: Path, database_url: str
) -> None:
    project = PhaseProject(tmp_path, database_url, USERS)
    project.new("add-column", "users", "handle", "text", "--backfill", "lower(name)")
    with psycopg.connect(database_url, autocommit=True) as conn:
        for phase in ("expand", "migrate"):
            assert project.phase("upgrade", phase).exit_code == 0
        # the old version renames a user: the derived handle follows
        conn.execute("UPDATE users SET name = 'Renamed' WHERE id = 1")
        assert conn.execute("SELECT handle FROM users WHERE id = 1").fetchone() == ("renamed",)
        # the new version sets a handle of its own: the old version's update keeps it
        conn.execute("UPDATE users SET handle = 'custom' WHERE id = 2")
        conn.execute("UPDATE users SET name = 'Other' WHERE id = 2")
        assert conn.execute("SELECT handle FROM users WHERE id = 2").fetchone() == ("custom",)
        conn.execute("INSERT INTO users (id, name) VALUES (1002, 'NEW Row')")
        assert conn.execute("SELECT handle FROM users WHERE id = 1002").fetchone() == ("new row",)


RICH = """
CREATE TABLE customers (id bigint PRIMARY KEY);
INSERT INTO customers SELECT g FROM generate_series(1, 10) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id),
                     code text NOT NULL DEFAULT 'none' CHECK (code <> ''), note text);
CREATE UNIQUE INDEX orders_code_key ON orders (code) WHERE code <> 'none';
COMMENT ON COLUMN orders.code IS 'public code';
ALTER TABLE orders ALTER COLUMN code SET STATISTICS 300;
INSERT INTO orders SELECT g, g % 10 + 1, 'c' || g, 'n' || g FROM generate_series(1, 100) g;
"""


def _column_shape(conn: psycopg.Connection, column: str) -> dict:
    return {
        "attribute": conn.execute(
            "SELECT format_type(atttypid, atttypmod), attnotnull, attstattarget, "
            "col_description(attrelid, attnum), pg_get_expr(d.adbin, d.adrelid) "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid "
            "AND d.adnum = a.attnum WHERE attrelid = 'orders'::regclass AND attname = %s",
            (column,),
        ).fetchone(),
        "indexes": conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders' ORDER BY 1"
        ).fetchall(),
        "constraints": conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = 'orders'::regclass ORDER BY 1"
        ).fetchall(),
    }


def test_drop_column_rollback_restores_what_hung_on_it(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(tmp_path, database_url, RICH)
    project.new("drop-column", "orders", "code")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _column_shape(conn, "code")
        assert project.phase("upgrade", "contract").exit_code == 0
        assert _column_shape(conn, "code")["attribute"] is None
        assert project.phase("downgrade", "contract").exit_code == 0
        assert _column_shape(conn, "code") == before  # NOT NULL, CHECK, index, comment, ...
        values = conn.execute("SELECT DISTINCT code FROM orders").fetchall()
        assert values == [("none",)]  # its data is gone; its constant default fills it


def test_drop_column_of_a_misspelt_column_fails(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(tmp_path, database_url, RICH)
    refused = project.cli(
        "new", "drop-column", "orders", "cdoe", "-m", "x", "-c", str(project.root / "alembic.ini")
    )
    assert refused.exit_code == 2 and "column orders.cdoe does not exist" in refused.output
    project.new("drop-column", "orders", "cdoe", "--no-database-check")
    failed = project.phase("upgrade", "contract")
    assert failed.exit_code == 1 and "orders.cdoe does not exist" in failed.output


def test_a_dropped_tables_archive_enforces_nothing_and_can_be_purged(
    tmp_path: Path, database_url: str
) -> None:
    project = PhaseProject(tmp_path, database_url, RICH)
    refused = project.cli(
        "new", "drop-table", "customers", "-m", "x", "-c", str(project.root / "alembic.ini")
    )
    assert refused.exit_code == 2
    assert "orders_customer_id_fkey on orders references customers" in refused.output
    project.new("drop-table", "orders")
    ini = ["-c", str(project.root / "alembic.ini")]
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert project.phase("upgrade", "contract").exit_code == 0
        # the archive no longer holds customers back
        conn.execute("DELETE FROM customers WHERE id = 3")
        listed = project.cli("purge", *ini)
        assert listed.exit_code == 0 and "would drop expandcontract_dropped_orders" in listed.stdout
        assert conn.execute("SELECT to_regclass('expandcontract_dropped_orders')").fetchone()[0]
        # undone: the table and its foreign key come back; the key is NOT VALID until
        # validated, and the row of the deleted customer makes validation fail
        failed = project.phase("downgrade", "contract")
        assert failed.exit_code == 1 and "orders_customer_id_fkey" in failed.output
        conn.execute("DELETE FROM orders WHERE customer_id = 3")
        assert project.phase("downgrade", "contract").exit_code == 0
        valid = conn.execute(
            "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_customer_id_fkey'"
        ).fetchone()
        assert valid == (True,)
        assert project.phase("upgrade", "contract").exit_code == 0
        purged = project.cli("purge", *ini, "--yes")
        assert purged.exit_code == 0 and "dropping expandcontract_dropped_orders" in purged.stdout
        assert (
            conn.execute("SELECT to_regclass('expandcontract_dropped_orders')").fetchone()[0]
            is None
        )
        gone = project.phase("downgrade", "contract")
        assert gone.exit_code == 1 and "was purged" in gone.output


STAMPED = """
CREATE TABLE posts (id bigint PRIMARY KEY, title text NOT NULL,
                    updated_at timestamptz NOT NULL DEFAULT '2020-01-01');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER posts_touch BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION touch();
INSERT INTO posts (id, title) SELECT g, 'post ' || g FROM generate_series(1, 100) g;
"""


@pytest.mark.parametrize("triggers", ["skip", "fire"])
def test_a_backfill_does_not_fire_the_tables_own_triggers_unless_asked(
    tmp_path: Path, database_url: str, triggers: str
) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        STAMPED,
        pyproject=f'[tool.expandcontract]\nbackfill_triggers = "{triggers}"\n',
    )
    project.new("rename-column", "posts", "title", "headline")
    with psycopg.connect(database_url, autocommit=True) as conn:
        for phase in ("expand", "migrate"):
            assert project.phase("upgrade", phase).exit_code == 0
        copied, touched = conn.execute(
            "SELECT count(*) FILTER (WHERE headline = title), "
            "count(*) FILTER (WHERE updated_at > '2020-01-01') FROM posts"
        ).fetchone()
        assert copied == 100
        assert touched == (0 if triggers == "skip" else 100)
        # an application write still fires it
        conn.execute("UPDATE posts SET title = 'edited' WHERE id = 1")
        stamped = conn.execute("SELECT updated_at > '2020-01-01' FROM posts WHERE id = 1")
        assert stamped.fetchone() == (True,)
