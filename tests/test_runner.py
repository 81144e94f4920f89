"""The phase runner on real PostgreSQL: backfill crash and resume, keys, lock timeouts,
concurrent two-way sync, ordering, status codes."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from expandcontract.ops import backfill, batches
from tests.phase_project import PhaseProject

EVENTS = """
CREATE TABLE events (id bigint PRIMARY KEY, a integer NOT NULL);
INSERT INTO events SELECT g, g FROM generate_series(1, {rows}) g
"""


def run_cli(project: PhaseProject, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "expandcontract", *args, "-c", str(project.root / "alembic.ini")],
        cwd=project.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def progress_rows(conn: psycopg.Connection) -> int:
    """Rows recorded done, over every key range of the backfill."""
    if conn.execute("SELECT to_regclass('expandcontract_backfill')").fetchone()[0] is None:
        return 0
    row = conn.execute(
        "SELECT coalesce(sum(rows), 0) FROM expandcontract_backfill "
        "WHERE name LIKE '%events.b#%' OR (name LIKE '%events.b' AND NOT done)"
    ).fetchone()
    return row[0] if row else 0


def audited(conn: psycopg.Connection) -> None:
    conn.execute("""
        CREATE TABLE audit (id bigint NOT NULL);
        CREATE FUNCTION audit_b() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END $$;
        CREATE TRIGGER audit_b AFTER UPDATE OF b ON events FOR EACH ROW EXECUTE FUNCTION audit_b();
    """)


@pytest.mark.parametrize("workers", [1, 3], ids=["one worker", "parallel ranges"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_backfill_killed_midway_resumes_exactly_once(
    tmp_path: Path, database_url: str, sig, workers: int
) -> None:
    rows = 20_000
    project = PhaseProject(
        tmp_path,
        database_url,
        EVENTS.format(rows=rows),
        "[tool.expandcontract]\nbackfill_batch_size = 200\nbackfill_pause = 0.01\n"
        f"backfill_batch_time = 0\nbackfill_workers = {workers}\n"
        # the audit trigger counts each row's conversion: let it fire for the backfill
        'backfill_triggers = "fire"\n',
    )
    project.new("add-column", "events", "b", "integer", "--backfill", "a * 2")
    assert project.phase("upgrade", "expand").exit_code == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        audited(conn)
        proc = run_cli(project, "upgrade", "migrate")
        deadline = time.monotonic() + 60
        while progress_rows(conn) < 2_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
        if sig == signal.SIGINT:
            assert proc.returncode == 130 and "Interrupted" in err and "Traceback" not in err, err
        done_before = progress_rows(conn)
        assert 0 < done_before < rows, "the kill must land mid-way"
        assert (
            conn.execute("SELECT count(*) FROM events WHERE b IS NOT NULL").fetchone()[0]
            == done_before
        )

        result = project.phase("upgrade", "migrate")
        assert result.exit_code == 0, result.output
        assert (
            conn.execute("SELECT count(*) FROM events WHERE b IS DISTINCT FROM a * 2").fetchone()[0]
            == 0
        )
        total, distinct = conn.execute("SELECT count(*), count(DISTINCT id) FROM audit").fetchone()
        assert total == distinct == rows  # every row converted, none twice


def test_backfill_composite_and_non_integer_keys(
    conn: psycopg.Connection, database_url: str
) -> None:
    conn.execute("""
        CREATE TABLE pairs (tenant text, key uuid, v integer, w integer, PRIMARY KEY (tenant, key));
        INSERT INTO pairs SELECT 't' || (g % 7), gen_random_uuid(), g, NULL FROM generate_series(1, 1000) g;
    """)
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(database_url))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as sa_conn:
        updated = backfill.run(sa_conn, "pairs", "w", "v + 1", batch_size=37)
    assert updated == 1000
    assert (
        conn.execute("SELECT count(*) FROM pairs WHERE w IS DISTINCT FROM v + 1").fetchone()[0] == 0
    )


def test_backfill_without_a_key_is_a_clear_error(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE heap (v integer); INSERT INTO heap SELECT generate_series(1, 10)",
    )
    project.new("add-column", "heap", "w", "integer", "--backfill", "v")
    assert project.phase("upgrade", "expand").exit_code == 0
    result = project.phase("upgrade", "migrate")
    assert result.exit_code == 1
    assert "neither a primary key nor a unique NOT NULL key" in result.stderr
    assert "Traceback" not in result.output


def _hold_lock(
    database_url: str, release: threading.Event, held: threading.Event | None = None
) -> None:
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT * FROM users LIMIT 1")  # ACCESS SHARE until commit
        if held is not None:
            held.set()
        release.wait(30)
        holder.rollback()


def _wait_for(condition, what: str, deadline: float = 30.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"waited {deadline:.0f}s for {what}")
        time.sleep(0.02)


def _waiting_on_users(database_url: str) -> bool:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks "
            "WHERE relation = to_regclass('users') AND NOT granted)"
        ).fetchone()[0]


def _reader(database_url: str, stop: threading.Event, latencies: list[float]) -> None:
    with psycopg.connect(database_url, autocommit=True) as reader:
        while not stop.is_set():
            started = time.monotonic()
            reader.execute("SELECT count(*) FROM users").fetchone()
            latencies.append(time.monotonic() - started)
            time.sleep(0.01)


USERS = "CREATE TABLE users (id bigint PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'a')"


def test_lock_timeout_retries_then_succeeds_without_blocking_readers(
    tmp_path: Path, database_url: str
) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        USERS,
        "[tool.expandcontract]\nlock_timeout = '200ms'\nlock_retries = 12\n",
    )
    project.new("add-column", "users", "nickname", "text")
    release, held, stop, latencies = threading.Event(), threading.Event(), threading.Event(), []
    holder = threading.Thread(target=_hold_lock, args=(database_url, release, held))
    holder.start()
    assert held.wait(30), "the holder never got its lock"
    reader = threading.Thread(target=_reader, args=(database_url, stop, latencies))
    reader.start()
    proc = run_cli(project, "upgrade", "expand")
    # released only once the DDL has queued behind the holder and timed out at least once,
    # however long the CLI takes to start on a loaded machine
    _wait_for(lambda: _waiting_on_users(database_url), "the DDL to queue behind the holder")
    _wait_for(lambda: not _waiting_on_users(database_url), "the DDL's first lock timeout")
    release.set()
    _, err = proc.communicate(timeout=60)
    stop.set()
    holder.join()
    reader.join()
    assert proc.returncode == 0, err
    assert "lock timeout (200ms)" in err and "running it again in" in err
    assert max(latencies) < 0.6, f"a reader waited {max(latencies):.3f}s behind the DDL"
    with psycopg.connect(database_url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'users' AND column_name = 'nickname'"
            ).fetchone()[0]
            == 1
        )


def test_lock_timeout_fails_cleanly_after_the_last_attempt(
    tmp_path: Path, database_url: str
) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        USERS,
        "[tool.expandcontract]\nlock_timeout = '100ms'\nlock_retries = 3\n",
    )
    project.new("add-column", "users", "nickname", "text")
    release, held = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(database_url, release, held))
    holder.start()
    assert held.wait(30), "the holder never got its lock"
    try:
        proc = run_cli(project, "upgrade", "expand")
        _, err = proc.communicate(timeout=60)
    finally:
        release.set()
        holder.join()
    assert proc.returncode == 1
    assert "could not get the lock" in err and "after 3 attempts" in err
    assert "Traceback" not in err
    with psycopg.connect(database_url) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM information_schema.columns "
                "WHERE table_name = 'users' AND column_name = 'nickname'"
            ).fetchone()[0]
            == 0
        )
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone()[0] == 1  # base only


def test_two_way_sync_under_concurrent_writers(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE users (id bigint PRIMARY KEY, name text);"
        "INSERT INTO users SELECT g, 'n' || g FROM generate_series(1, 50) g",
    )
    project.new("rename-column", "users", "name", "full_name")
    for phase in ("expand", "migrate"):
        assert project.phase("upgrade", phase).exit_code == 0

    errors: list[BaseException] = []

    def writer(column: str, seed: int) -> None:
        try:
            with psycopg.connect(database_url, autocommit=True) as c:
                for i in range(300):
                    row = (i * 7 + seed) % 50 + 1
                    c.execute(
                        f"UPDATE users SET {column} = %s WHERE id = %s",
                        (f"{column}-{seed}-{i}", row),
                    )
                    if i % 25 == 0:
                        c.execute(
                            f"INSERT INTO users (id, {column}) VALUES (%s, %s)",
                            (100_000 * seed + i, f"ins-{column}-{i}"),
                        )
                    if i % 40 == 0:
                        c.execute(f"UPDATE users SET {column} = NULL WHERE id = %s", (row,))
        except BaseException as err:
            errors.append(err)

    threads = [
        threading.Thread(target=writer, args=(col, seed))
        for seed, col in enumerate(["name", "full_name", "name", "full_name"], 1)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with psycopg.connect(database_url) as conn:
        diverged = conn.execute(
            "SELECT count(*) FROM users WHERE name IS DISTINCT FROM full_name"
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM users").fetchone()[0]
    assert diverged == 0 and total > 50


def test_ordering_status_and_usage_errors(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(tmp_path, database_url, USERS)
    project.new("rename-column", "users", "name", "full_name")
    status = project.cli("status", "-c", str(project.root / "alembic.ini"))
    assert status.exit_code == 3 and "expand    0 applied, 1 pending" in status.stdout

    refused = project.phase("upgrade", "switch")
    assert refused.exit_code == 2
    assert "expand has pending revisions" in refused.stderr

    for phase in ("expand", "migrate"):
        assert project.phase("upgrade", phase).exit_code == 0
    refused = project.phase("downgrade", "expand")
    assert (
        refused.exit_code == 2 and "run `expandcontract downgrade migrate` first" in refused.stderr
    )

    for phase in ("switch", "contract"):
        assert project.phase("upgrade", phase).exit_code == 0
    assert project.cli("status", "-c", str(project.root / "alembic.ini")).exit_code == 0
    nothing = project.phase("upgrade", "contract")
    assert nothing.exit_code == 0 and "nothing pending" in nothing.stdout

    missing = project.cli("status", "-c", str(tmp_path / "nope.ini"))
    assert missing.exit_code == 2 and "no such Alembic configuration" in missing.stderr


def test_database_url_overrides_the_config(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(tmp_path, database_url, USERS)
    ini = project.root / "alembic.ini"
    real = project.url
    ini.write_text(ini.read_text().replace(real, "postgresql://nobody@127.0.0.1:1/none"))
    project.new("add-index", "users", "name")
    bad = project.cli("status", "-c", str(ini))
    assert bad.exit_code == 2 and "cannot connect" in bad.stderr
    good = project.cli("upgrade", "expand", "-c", str(ini), "--database-url", real)
    assert good.exit_code == 0, good.output


def test_invalid_index_left_by_a_failed_build_is_rebuilt(tmp_path: Path, database_url: str) -> None:
    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text);"
        "INSERT INTO users VALUES (1, 'a'), (2, 'a'), (3, 'b')",
    )
    project.new("add-unique", "users", "email")
    failed = project.phase("upgrade", "expand")
    assert failed.exit_code == 1 and "users_email_key" in failed.stderr
    with psycopg.connect(database_url, autocommit=True) as conn:
        # the failed build's INVALID index is dropped at once: writes do not pay for it
        left = conn.execute("SELECT to_regclass('users_email_key')").fetchone()[0]
        assert left is None
        # one left by a process killed mid-build is rebuilt by the rerun
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email)")
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass"
        ).fetchone()[0]
        assert valid is False
        conn.execute("UPDATE users SET email = 'c' WHERE id = 2")
        assert project.phase("upgrade", "expand").exit_code == 0
        assert project.phase("upgrade", "switch").exit_code == 0
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_key'::regclass"
        ).fetchone()[0]
        assert valid is True
        kind = conn.execute(
            "SELECT contype FROM pg_constraint WHERE conname = 'users_email_key'"
        ).fetchone()[0]
        assert kind == "u"


def test_generated_phases_run_under_plain_alembic(tmp_path: Path, database_url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    project = PhaseProject(tmp_path, database_url, USERS)
    project.new("rename-column", "users", "name", "full_name")
    config = AlembicConfig(str(project.root / "alembic.ini"))
    command.upgrade(config, "contract@head")  # depends_on pulls in expand, migrate, switch
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT full_name FROM users WHERE id = 1").fetchone()[0] == "a"
    command.downgrade(config, "contract@-1")
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT name, full_name FROM users WHERE id = 1").fetchone() == (
            "a",
            "a",
        )


def test_a_revision_that_does_not_import_is_a_usage_error_everywhere(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from expandcontract.cli import cli

    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nsqlalchemy.url = postgresql://x@127.0.0.1/x\n"
    )
    (tmp_path / "migrations" / "versions" / "x.py").write_text(
        "revision = 'x'\ndown_revision = None\n\ndef upgrade(:\n    pass\n"
    )
    workload = tmp_path / "w.py"
    workload.write_text("def old_app(c, i):\n    pass\n\ndef new_app(c, i):\n    pass\n")
    ini = str(tmp_path / "alembic.ini")
    for args in (
        ["status"],
        ["upgrade", "expand"],
        ["verify", "--database-url", "postgresql://x"],
        ["rehearse", "--workload", str(workload), "--database-url", "postgresql://x"],
    ):
        result = CliRunner().invoke(cli, [*args, "-c", ini])
        assert result.exit_code == 2, (args, result.output)
        assert (
            "cannot load the Alembic project: SyntaxError" in result.stderr
            and "x.py" in result.stderr
        )


def test_batches_follow_the_time_target() -> None:
    assert batches.next_size(1000, 0.01, 0.05) == 2000  # fast: grows, at most doubling
    assert batches.next_size(1000, 0.04, 0.05) == 1250
    assert batches.next_size(1000, 0.5, 0.05) == 500  # slow: shrinks, at most halving
    assert batches.next_size(150, 1.0, 0.05) == batches.MIN_BATCH
    assert batches.next_size(batches.MAX_BATCH, 0.001, 0.05) == batches.MAX_BATCH
    assert batches.next_size(1000, 0.001, 0) == 1000  # no target: a fixed size


def test_slow_rows_shrink_the_batches_and_parallel_ranges_cover_every_row(
    conn: psycopg.Connection, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    conn.execute("""
        CREATE TABLE slow (id bigint PRIMARY KEY, v integer, w integer);
        INSERT INTO slow SELECT g, g, NULL FROM generate_series(1, 6000) g;
        CREATE TABLE seen (id bigint);
        CREATE FUNCTION slow_row() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_sleep(0.0002); INSERT INTO seen VALUES (NEW.id); RETURN NEW; END $$;
        CREATE TRIGGER slow_row BEFORE UPDATE ON slow FOR EACH ROW EXECUTE FUNCTION slow_row();
    """)
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(database_url))
    sizes: list[int] = []
    original = batches.next_size

    def spy(size, elapsed, target):
        sizes.append(original(size, elapsed, target))
        return sizes[-1]

    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as sa_conn:
        batches.next_size, saved = spy, batches.next_size
        try:
            updated = backfill.run(
                sa_conn,
                "slow",
                "w",
                "v * 2",
                batch_size=1000,
                batch_time=0.05,
                workers=3,
                triggers="fire",  # the trigger makes rows slow and counts them
            )
        finally:
            batches.next_size = saved
    assert updated == 6000
    assert sizes and min(sizes) < 1000  # 1000 slow rows take ~0.2 s: the batches shrink
    names = {r[0] for r in conn.execute("SELECT name FROM expandcontract_backfill")}
    assert names == {"slow.w", "slow.w#000", "slow.w#001", "slow.w#002"}
    total, distinct = conn.execute("SELECT count(*), count(DISTINCT id) FROM seen").fetchone()
    assert total == distinct == 6000  # three ranges, every row once
    assert (
        conn.execute("SELECT count(*) FROM slow WHERE w IS DISTINCT FROM v * 2").fetchone()[0] == 0
    )


def test_check_gates_each_phase_for_a_pipeline(tmp_path: Path, database_url: str) -> None:
    import json

    import psycopg

    project = PhaseProject(tmp_path, database_url, USERS)
    project.new("rename-column", "users", "name", "full_name")
    ini = ["-c", str(project.root / "alembic.ini")]

    def check(phase: str, *args: str):
        return project.cli("check", phase, *ini, *args)

    assert check("expand").exit_code == 0
    closed = check("switch")
    assert closed.exit_code == 1
    assert "expand has pending revisions" in closed.stdout
    assert "migrate has pending revisions" in closed.stdout
    as_json = json.loads(check("switch", "--format", "json").stdout)
    assert as_json["may_run"] is False and set(as_json["blocking"]) == {"expand", "migrate"}

    for phase in ("expand", "migrate", "switch"):
        assert project.phase("upgrade", phase).exit_code == 0
    assert check("contract").exit_code == 0
    # the switch went out seconds ago: a 1-hour rollback window keeps contract closed
    waiting = check("contract", "--rollback-window", "1h")
    assert waiting.exit_code == 1 and "rollback window of 1h has not passed" in waiting.stdout
    with psycopg.connect(database_url, autocommit=True) as conn:  # two hours pass
        conn.execute("UPDATE expandcontract_phase_log SET at = at - interval '2 hours'")
    assert check("contract", "--rollback-window", "1h").exit_code == 0
    assert check("contract", "--rollback-window", "3h").exit_code == 1
    assert project.phase("upgrade", "contract").exit_code == 0
    opened = check("contract", "--rollback-window", "3h")  # nothing left to gate
    assert opened.exit_code == 0 and "nothing pending" in opened.stdout
    with psycopg.connect(database_url) as conn:
        log = conn.execute(
            "SELECT phase, direction FROM expandcontract_phase_log ORDER BY at, phase"
        ).fetchall()
    finished = [p for p, d in log if d == "up"]
    assert finished == ["expand", "migrate", "switch", "contract"]
    assert [p for p, d in log if d == "up-started"] == finished
    bad = check("contract", "--rollback-window", "soon")
    assert bad.exit_code == 2 and "not a duration" in bad.output
