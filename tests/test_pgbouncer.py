"""Through a real PgBouncer in ``pool_mode = transaction``, in front of the test server.

Consecutive transactions of one client may run on different server connections
there, so session state (a plain ``SET``, psycopg's automatic prepared statements)
either leaks to other clients or is missing where it was expected. The runner,
the backfill, the sync triggers, verify's trace and rehearse's workload must all
work through it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.conftest import assert_dropped
from tests.phase_project import PhaseProject
from tests.services import pgbouncer
from tests.test_rehearse import EXAMPLES, command

BASE_SQL = """
CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT 'x');
INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, 20000) g;
"""


@pytest.fixture(scope="module")
def bouncer():
    with pgbouncer(pool_size=4) as url:
        yield url


def _through(url: str, bouncer_url: str) -> str:
    """The database of ``url`` (a conninfo string), reached through PgBouncer."""
    dbname = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    return psycopg.conninfo.make_conninfo(bouncer_url, dbname=dbname)


def test_the_pooler_is_in_transaction_mode(bouncer: str) -> None:
    admin = psycopg.conninfo.make_conninfo(bouncer, dbname="pgbouncer")
    with psycopg.connect(admin, autocommit=True, prepare_threshold=None) as conn:
        cursor = conn.cursor()
        cursor.execute("SHOW CONFIG")
        config = {row[0]: row[1] for row in cursor.fetchall()}
    assert config["pool_mode"] == "transaction"


def test_phases_run_through_the_pooler_and_leave_no_session_state(
    tmp_path: Path, database_url: str, bouncer: str
) -> None:
    pooled = _through(database_url, bouncer)
    project = PhaseProject(tmp_path, database_url, BASE_SQL)
    project.new("rename-column", "users", "name", "full_name")
    config = ["-c", str(project.root / "alembic.ini"), "--database-url", pooled]
    for phase in ("expand", "migrate", "switch", "contract"):
        result = project.cli("upgrade", phase, *config)
        assert result.exit_code == 0, result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM users WHERE full_name = 'user ' || id"
        ).fetchone() == (20000,)
        nullable = conn.execute(
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
            "AND attname = 'full_name'"
        ).fetchone()
        assert nullable == (True,)
    for phase in ("contract", "switch", "migrate", "expand"):
        result = project.cli("downgrade", phase, *config)
        assert result.exit_code == 0, result.output
    with psycopg.connect(database_url) as conn:
        columns = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'users'::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum"
        ).fetchall()
    assert [c[0] for c in columns] == ["id", "name"]
    # every server connection of this database's pool: none keeps our lock_timeout
    seen = set()
    clients = [psycopg.connect(pooled, prepare_threshold=None) for _ in range(4)]
    try:
        for client in clients:  # four open transactions hold all four server connections
            seen.add(
                client.execute(
                    "SELECT pg_backend_pid(), current_setting('lock_timeout')"
                ).fetchone()
            )
    finally:
        for client in clients:
            client.close()
    assert {setting for _, setting in seen} == {"0"}, seen


def test_a_parallel_backfill_through_the_pooler(
    tmp_path: Path, database_url: str, bouncer: str
) -> None:
    """Many batches of one statement on several connections: with prepared statements
    on, the sixth execution of a batch fails on a server connection that never saw it."""
    project = PhaseProject(
        tmp_path,
        database_url,
        BASE_SQL,
        pyproject="[tool.expandcontract]\nbackfill_workers = 3\nbackfill_batch_size = 100\n"
        "backfill_batch_time = 0\n",
    )
    project.new("change-type", "users", "name", "varchar(200)")
    pooled = _through(database_url, bouncer)
    config = ["-c", str(project.root / "alembic.ini"), "--database-url", pooled]
    for phase in ("expand", "migrate"):
        result = project.cli("upgrade", phase, *config)
        assert result.exit_code == 0, result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM users WHERE name_new = name").fetchone() == (
            20000,
        )
        ranges = conn.execute(
            "SELECT count(*) FROM expandcontract_backfill WHERE name LIKE '%users.name_new#%'"
        ).fetchone()
    assert ranges == (3,)


@pytest.mark.parametrize("name", ["rename-column", "change-type", "not-null-column", "key-change"])
def test_examples_rehearse_through_the_pooler_with_zero_failed_queries(
    name: str, bouncer: str
) -> None:
    result = subprocess.run(
        command(
            EXAMPLES / name,
            "--rows",
            "3000",
            "--duration",
            "0.4",
            "--format",
            "json",
            url=bouncer,
        ),
        capture_output=True,
        text=True,
    )
    off = [
        {k: p[k] for k in ("phase", "direction", "failed", "errors", "contract_violations")}
        for p in (json.loads(result.stdout)["phases"] if result.stdout.startswith("{") else [])
        if p["failed"] or p.get("contract_violations")
    ]
    assert result.returncode == 0, (off, result.stderr[-2000:])
    report = json.loads(result.stdout)
    assert report["phases"]
    for phase in report["phases"]:
        assert phase["queries"] > 0, phase
        assert phase["failed"] == 0, phase
    assert_dropped(result.stderr)


def test_verify_traces_concurrent_statements_through_the_pooler(
    tmp_path: Path, database_url: str, bouncer: str
) -> None:
    project = PhaseProject(tmp_path, database_url, BASE_SQL)
    base = project.root / "migrations" / "versions" / "r0001_base.py"
    base.write_text(
        base.read_text().replace(
            "def downgrade():\n    pass", 'def downgrade():\n    op.drop_table("users")'
        )
    )
    project.new("add-index", "users", "name")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "expandcontract",
            "verify",
            "-c",
            str(project.root / "alembic.ini"),
            "--database-url",
            bouncer,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    statements = [
        s for r in report["revisions"] for s in r["statements"] if "CONCURRENTLY" in s["sql"]
    ]
    created = [s for s in statements if s["sql"].startswith("CREATE") and s["direction"] == "up"]
    assert created and all(s["outside_transaction"] for s in created)
    # CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE on the table, seen by the
    # watcher through whichever server connection ran it
    assert {"table": "users", "mode": "SHARE UPDATE EXCLUSIVE"} in created[0]["locks"], created
    assert_dropped(result.stderr)
