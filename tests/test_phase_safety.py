"""Phases that fail leave nothing behind, and derived values stay fresh while both
application versions write. Real PostgreSQL, real Alembic projects in temp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg

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
