"""Nothing lost with every command exiting 0: the backfill's bookkeeping and keys, the
purge of archives, and what the runner says when the server cuts a statement short."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.pool import NullPool

from expandcontract.connections import engine
from expandcontract.ops import backfill
from expandcontract.urls import sqlalchemy_url
from tests.phase_project import PhaseProject

KEYS = {
    "bytea": ("k bytea PRIMARY KEY", "convert_to('user' || lpad(g::text, 5, '0'), 'UTF8')"),
    "uuid": ("k uuid PRIMARY KEY", "md5(g::text)::uuid"),
    "numeric": ("k numeric(30,10) PRIMARY KEY", "g * 1.0000000001 + 12345678901234567890"),
    "timestamptz": (
        "k timestamptz PRIMARY KEY",
        "'2026-03-29 00:00+01'::timestamptz + g * interval '17 min'",
    ),
    "text-collated": ('k text COLLATE "C" PRIMARY KEY', "'Key-' || g"),
    "composite": (
        "a text, b int, PRIMARY KEY (a, b)",
        None,
    ),
}


@pytest.mark.parametrize("kind", list(KEYS))
def test_a_key_of_every_orderable_type_walks_every_row_once(database_url: str, kind: str):
    """A bytea key used to be recorded as str(bytes) and cast back to another value: the
    backfill walked nothing, said done, and the contract dropped the data."""
    column, value = KEYS[kind]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE t ({column}, v int, w int)")
        if value is None:
            conn.execute("INSERT INTO t SELECT 'p' || (g % 7), g, g FROM generate_series(1, 300) g")
        else:
            conn.execute(f"INSERT INTO t (k, w) SELECT {value}, g FROM generate_series(1, 300) g")
        conn.execute("SET TimeZone = 'Asia/Kathmandu'")  # not the backfill's session's
    eng = engine(sqlalchemy_url(database_url), poolclass=NullPool)
    try:
        with eng.connect() as bind:
            bind = bind.execution_options(isolation_level="AUTOCOMMIT")
            done = backfill.run(bind, "t", "v", "w", batch_size=7, batch_time=0, record="r1")
    finally:
        eng.dispose()
    assert done == 300
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM t WHERE v IS DISTINCT FROM w").fetchone() == (0,)
        assert conn.execute(
            "SELECT rows, done FROM expandcontract_backfill WHERE name = 'r1:t.v'"
        ).fetchone() == (300, True)


SHOP = """
CREATE TABLE items (id bigint PRIMARY KEY, amount integer NOT NULL DEFAULT 0, note text);
INSERT INTO items SELECT g, g, 'n' || g FROM generate_series(1, 1000) g
"""


def test_a_second_change_of_a_column_of_the_same_name_backfills_again(
    tmp_path: Path, database_url: str
) -> None:
    """change-type items.amount twice: the second change's migrate used to find the first
    one's record ("already complete"), and its contract dropped every value."""
    project = PhaseProject(tmp_path, database_url, SHOP)
    project.new("change-type", "items", "amount", "bigint")
    for phase in ("expand", "migrate", "switch", "contract"):
        assert project.phase("upgrade", phase).exit_code == 0
    project.new("change-type", "items", "amount", "numeric(20,2)")
    for phase in ("expand", "migrate", "switch", "contract"):
        result = project.phase("upgrade", phase)
        assert result.exit_code == 0, result.output
        assert "already complete" not in result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM items WHERE amount IS DISTINCT FROM id"
        ).fetchone() == (0,)
        assert conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'items'::regclass AND attname = 'amount'"
        ).fetchone() == ("numeric(20,2)",)


SLOW = "[tool.expandcontract]\nbackfill_batch_size = 5\nbackfill_batch_time = 0\n"


def test_a_statement_timeout_is_named_not_taken_for_ctrl_c(
    tmp_path: Path, database_url: str
) -> None:
    """A role's statement_timeout (57014) used to read "Interrupted ... resume", exit 130."""
    project = PhaseProject(tmp_path, database_url, SHOP, pyproject=SLOW)
    project.new(
        "add-column",
        "items",
        "slow",
        "text",
        "--backfill",
        "note || (SELECT '' FROM pg_sleep(0.4) WHERE id > 0)",
    )
    assert project.phase("upgrade", "expand").exit_code == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        name = conn.info.dbname
        conn.execute(f"ALTER DATABASE \"{name}\" SET statement_timeout = '300ms'")
    result = project.phase("upgrade", "migrate")
    assert result.exit_code == 1, result.output
    assert "statement_timeout" in result.output and "Interrupted" not in result.output


def test_a_terminated_backend_is_named(tmp_path: Path, database_url: str) -> None:
    """pg_terminate_backend during a backfill used to show SQLAlchemy's PendingRollbackError."""
    import subprocess
    import sys
    import time

    project = PhaseProject(tmp_path, database_url, SHOP, pyproject=SLOW + "backfill_pause = 0.05\n")
    project.new("rename-column", "items", "note", "remark")
    assert project.phase("upgrade", "expand").exit_code == 0
    run = subprocess.Popen(
        [sys.executable, "-m", "expandcontract", "upgrade", "migrate", "-c",
         str(project.root / "alembic.ini")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    with psycopg.connect(database_url, autocommit=True) as conn:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND query LIKE '%expandcontract_backfill%'"
            ).fetchone()[0]
            if killed:
                break
            time.sleep(0.02)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 1, err
    assert "was ended under the run" in err or "ended the session" in err, err
    assert "PendingRollbackError" not in err
    assert "Traceback" not in err
    assert project.phase("upgrade", "migrate").exit_code == 0  # and a rerun finishes it


def test_an_unreachable_replica_is_probed_briefly_then_left_alone(
    database_url: str, caplog
) -> None:
    """A replica in replica_urls that accepts the connection but never answers (a host
    gone dark) used to cost the 5 s connect timeout before every batch: 15 times slower.
    It is now given PROBE_TIMEOUT once, warned about once, and skipped for a while."""
    import socket
    import time

    from expandcontract.ops.replicas import LagGate

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts, never speaks: the client waits out its connect timeout
    port = silent.getsockname()[1]
    eng = engine(sqlalchemy_url(database_url), poolclass=NullPool)
    try:
        gate = LagGate(eng, 5.0, [f"postgresql://postgres@127.0.0.1:{port}/x"], interval=0)
        began = time.monotonic()
        with caplog.at_level("WARNING", logger="expandcontract"):
            readings = [gate.lag()[0] for _ in range(10)]
        took = time.monotonic() - began
    finally:
        eng.dispose()
        silent.close()
    assert readings == [0.0] * 10
    assert took < 4, f"ten readings took {took:.1f}s"
    warnings = [r for r in caplog.records if "cannot read the lag of replica" in r.message]
    assert len(warnings) == 1 and "goes on without it" in warnings[0].message


def test_a_drop_of_a_column_whose_add_is_half_applied_runs(
    tmp_path: Path, database_url: str
) -> None:
    """change-type (all phases), add-column (expand, migrate), then `new drop-column` of
    that column: its contract used to fail with KeyError on the depends_on `new` wrote,
    every rerun too."""
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE items (id serial PRIMARY KEY, amount integer);"
        "INSERT INTO items (amount) SELECT g FROM generate_series(1, 100) g;",
    )
    project.new("change-type", "items", "amount", "bigint")
    for phase in ("expand", "migrate", "switch", "contract"):
        assert project.phase("upgrade", phase).exit_code == 0
    project.new("add-column", "items", "note", "text", "--backfill", "'x'")
    for phase in ("expand", "migrate"):
        assert project.phase("upgrade", phase).exit_code == 0
    project.new("drop-column", "items", "note")
    for phase in ("expand", "migrate", "switch", "contract"):
        result = project.phase("upgrade", phase)
        assert result.exit_code == 0 and "KeyError" not in result.output, result.output
    with psycopg.connect(database_url) as conn:
        columns = conn.execute(
            "SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute "
            "WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped"
        ).fetchone()[0]
        assert columns == ["id", "amount"]
        assert conn.execute("SELECT sum(amount) FROM items").fetchone() == (5050,)
    status = project.cli("status", "-c", str(project.root / "alembic.ini"))
    assert status.exit_code == 0, status.output


def test_a_run_that_died_before_its_log_row_does_not_close_the_window_for_good(
    tmp_path: Path, database_url: str
) -> None:
    """A process dying between a phase's commit and its phase-log row left `check
    --rollback-window` saying "no record" forever: the start row now stands in."""
    project = PhaseProject(
        tmp_path, database_url, "CREATE TABLE users (id serial PRIMARY KEY, name text);"
    )
    project.new("rename-column", "users", "name", "full_name")
    for phase in ("expand", "migrate", "switch"):
        assert project.phase("upgrade", phase).exit_code == 0
    with psycopg.connect(database_url, autocommit=True) as conn:  # the 'up' row never came
        conn.execute("DELETE FROM expandcontract_phase_log WHERE direction = 'up'")
    ini = ["-c", str(project.root / "alembic.ini")]
    waiting = project.cli("check", "contract", *ini, "--rollback-window", "1h")
    assert waiting.exit_code == 1 and "has not passed" in waiting.stdout, waiting.stdout
    with psycopg.connect(database_url, autocommit=True) as conn:  # two hours pass
        conn.execute("UPDATE expandcontract_phase_log SET at = at - interval '2 hours'")
    opened = project.cli("check", "contract", *ini, "--rollback-window", "1h")
    assert opened.exit_code == 0, opened.stdout


def test_a_throwaway_database_name_already_taken_is_passed_over(monkeypatch) -> None:
    """A throwaway name that exists (another run's, a leftover) was a DuplicateDatabase
    traceback; it is now passed over, and the other database is left alone."""
    import uuid

    from expandcontract.verify import databases

    taken = uuid.uuid4()
    name = f"ec_rel_{taken.hex[:12]}"
    from tests.conftest import ADMIN_URL as server

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            fresh = iter([taken, uuid.uuid4()])
            monkeypatch.setattr(databases.uuid, "uuid4", lambda: next(fresh))
            with databases.on_server(server, prefix="ec_rel_") as database:
                assert name not in database.conninfo
                with psycopg.connect(database.conninfo) as conn:
                    conn.execute("SELECT 1")
            still = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            assert still.fetchone() == (1,)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_reverse_that_does_not_name_the_new_column_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    """A newcomer gave --reverse "ts AT TIME ZONE 'UTC'" (the old column): it type-checked,
    every phase went up, and undoing the contract refilled ts from itself: NULL on every
    row, the data left in ts_new, every later downgrade refused."""
    project = PhaseProject(
        tmp_path, database_url, "CREATE TABLE t (id serial PRIMARY KEY, ts timestamp);"
    )
    result = project.cli(
        "new", "change-type", "t", "ts", "timestamptz",
        "--using", "ts AT TIME ZONE 'UTC'", "--reverse", "ts AT TIME ZONE 'UTC'",
        "-m", "ts", "-c", str(project.root / "alembic.ini"),
    )  # fmt: skip
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "must name the new column ts_new" in result.output
    assert not list((project.root / "migrations" / "versions").glob("*_ts.py"))
    written = project.new(
        "change-type", "t", "ts", "timestamptz",
        "--using", "ts AT TIME ZONE 'UTC'", "--reverse", "ts_new AT TIME ZONE 'UTC'",
    )  # fmt: skip
    assert len(written) == 4
