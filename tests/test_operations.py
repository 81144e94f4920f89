"""Phases on a busy database as production has it: idle transactions holding locks, an
application writing parent then child, two deploy jobs at once, long snapshots.

Every phase of a change to a column joined by foreign keys runs while an application
inserts a customer then an order in one transaction, and a reporting session sits
idle in a transaction that read one of the tables: the application never deadlocks,
and never waits much more than one lock_timeout, whatever the phase does meanwhile.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

SHOP = """
CREATE TABLE customers (id bigint PRIMARY KEY, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers, note text);
CREATE TABLE lines (id bigint PRIMARY KEY, order_id bigint REFERENCES orders, qty int);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 2000) g;
INSERT INTO orders SELECT g, g, 'o' || g FROM generate_series(1, 2000) g;
INSERT INTO lines SELECT g, g, 1 FROM generate_series(1, 2000) g
"""
LOCK_TIMEOUT = 0.5
SETTINGS = (
    f'[tool.expandcontract]\nlock_timeout = "{int(LOCK_TIMEOUT * 1000)}ms"\nlock_retries = 8\n'
)


class ParentThenChild:
    """The application: a customer, then their order and a line of it, in one transaction."""

    def __init__(self, url: str) -> None:
        self.url, self.stop = url, threading.Event()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        key = 10_000
        with psycopg.connect(self.url, autocommit=True, prepare_threshold=None) as conn:
            while not self.stop.is_set():
                key += 1
                started = time.monotonic()
                try:
                    with conn.transaction():
                        conn.execute("INSERT INTO customers (id, name) VALUES (%s, 'n')", (key,))
                        conn.execute("INSERT INTO orders (id) VALUES (%s)", (key,))
                        conn.execute("INSERT INTO lines (id, order_id) VALUES (%s, %s)", (key, key))
                except psycopg.Error as err:
                    self.errors.append(f"{err.sqlstate}: {str(err).splitlines()[0]}")
                self.latencies.append(time.monotonic() - started)
                time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def _idle_reader(url: str, table: str, seconds: float) -> threading.Thread:
    """A reporting session that read ``table`` and sits idle in its transaction."""

    holding = threading.Event()

    def run() -> None:
        with psycopg.connect(url) as conn:
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
            holding.set()
            time.sleep(seconds)
            conn.rollback()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    # it holds its lock before the phase starts, however slowly it connects
    assert holding.wait(30), "the idle reader never got its lock"
    return thread


@pytest.mark.parametrize("idle_on", ["customers", "orders", "lines"])
def test_no_deadlock_and_no_wait_beyond_one_lock_timeout(
    tmp_path: Path, database_url: str, idle_on: str
) -> None:
    project = PhaseProject(tmp_path, database_url, SHOP, pyproject=SETTINGS)
    # orders.id is referenced by lines, orders.customer_id references customers: every
    # phase touches three tables
    project.new("rename-column", "orders", "customer_id", "client_id")
    with ParentThenChild(database_url) as app:
        for action, phase in [
            *(("upgrade", p) for p in ("expand", "migrate", "switch", "contract")),
            *(("downgrade", p) for p in ("contract", "switch", "migrate", "expand")),
        ]:
            idle = _idle_reader(database_url, idle_on, 3 * LOCK_TIMEOUT)
            result = project.phase(action, phase)
            idle.join()
            if result.exit_code != 0:  # it gave up while the reader held on: run it again
                assert "lock" in result.output, result.output
                result = project.phase(action, phase)
            assert result.exit_code == 0, f"{action} {phase}: {result.output}"
    assert not [e for e in app.errors if e.startswith("40P01")], app.errors  # deadlocks
    assert not app.errors, app.errors
    worst = max(app.latencies)
    assert worst < 2 * LOCK_TIMEOUT + 0.5, f"the application waited {worst:.2f}s"


def test_one_runner_at_a_time(tmp_path: Path, database_url: str) -> None:
    """Two deploy jobs started together: the second names the first and stops, or with
    --wait queues behind it; the bookkeeping stays whole either way."""
    import subprocess
    import sys

    project = PhaseProject(
        tmp_path,
        database_url,
        SHOP,
        pyproject="[tool.expandcontract]\nbackfill_batch_size = 100\nbackfill_batch_time = 0\n"
        "backfill_pause = 0.15\n",
    )
    project.new("rename-column", "orders", "note", "remark")
    assert project.phase("upgrade", "expand").exit_code == 0
    ini = str(project.root / "alembic.ini")

    def start(*extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "expandcontract", "upgrade", "migrate", "-c", ini, *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    first = start()
    with psycopg.connect(database_url, autocommit=True) as conn:  # its backfill is under way
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and not conn.execute(
                "SELECT to_regclass('expandcontract_backfill') IS NOT NULL "
                "AND to_regclass('expandcontract_runner') IS NOT NULL"
            ).fetchone()[0]
        ):
            time.sleep(0.05)
    second = start()
    _, refused = second.communicate(timeout=60)
    assert second.returncode == 2, refused
    assert "another expandcontract runner" in refused and "pid" in refused, refused
    assert "Traceback" not in refused
    waiting = start("--wait")
    _out_first, err_first = first.communicate(timeout=120)
    assert first.returncode == 0, err_first
    out_wait, err_wait = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err_wait
    assert "nothing pending" in out_wait  # it ran after the first, which had done it all
    with psycopg.connect(database_url) as conn:
        names = conn.execute("SELECT name, done FROM expandcontract_backfill").fetchall()
        assert len(names) == 1 and names[0][1], names
        assert conn.execute(
            "SELECT count(*) FROM orders WHERE remark IS DISTINCT FROM note"
        ).fetchone() == (0,)


@pytest.mark.parametrize("reads", ["customers", "customers, orders"], ids=["other", "dump"])
def test_a_long_snapshot_is_named_and_the_build_gives_up_cleanly(
    tmp_path: Path, database_url: str, reads: str
) -> None:
    """A REPEATABLE READ snapshot: CREATE INDEX CONCURRENTLY waits for it with no bound
    of its own. The run says who is in the way and gives up after wait_timeout. When the
    snapshot has not read the table, the INVALID index is dropped at once; when it has (a
    pg_dump locks every table), its drop waits too: bounded, said, listed by status, and
    dropped by the rerun once the snapshot is gone."""
    project = PhaseProject(
        tmp_path, database_url, SHOP, pyproject="[tool.expandcontract]\nwait_timeout = 3\n"
    )
    project.new("add-index", "orders", "note")
    with psycopg.connect(database_url) as dump:
        dump.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        for table in reads.split(", "):  # its snapshot is taken, its locks held
            dump.execute(f"SELECT count(*) FROM {table}").fetchone()
        pid = dump.info.backend_pid
        result = project.phase("upgrade", "expand")
        assert result.exit_code == 1, result.output
        assert "gave up after waiting" in result.output and f"pid {pid}" in result.output
        assert "Traceback" not in result.output
        if reads == "customers":
            assert "it left was dropped" in result.output, result.output
        else:
            assert "could not be dropped yet" in result.output, result.output
            status = project.cli("status", "-c", str(project.root / "alembic.ini"))
            assert "INVALID" in status.output, status.output
        dump.rollback()
    if reads == "customers":
        with psycopg.connect(database_url) as conn:
            invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid")
            assert invalid.fetchone() == (0,)
    result = project.phase("upgrade", "expand")
    assert result.exit_code == 0, result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone() == (0,)


def test_plain_revisions_are_shown_and_never_skipped(tmp_path: Path, database_url: str) -> None:
    """A project adopting the phases with a plain revision pending: status says so (exit
    3), check and upgrade refuse to skip it, `upgrade plain` applies it; `downgrade base`
    undoes every phase in one command."""
    import json

    project = PhaseProject(tmp_path, database_url, SHOP)
    project.new("rename-column", "orders", "note", "remark")
    versions = project.root / "migrations" / "versions"
    (versions / "r0002_plain.py").write_text(
        'from alembic import op\n\nrevision = "r0002"\ndown_revision = "r0001"\n\n\n'
        'def upgrade():\n    op.execute("CREATE TABLE audit (id bigint PRIMARY KEY)")\n\n\n'
        'def downgrade():\n    op.execute("DROP TABLE audit")\n'
    )
    ini = str(project.root / "alembic.ini")
    status = project.cli("status", "-c", ini, "--format", "json")
    assert status.exit_code == 3, status.output
    plain = json.loads(status.stdout)[0]
    assert plain["phase"] == "plain" and plain["pending"] == ["r0002"]
    check = project.cli("check", "expand", "-c", ini)
    assert check.exit_code == 1 and "r0002" in check.output, check.output
    refused = project.phase("upgrade", "expand")
    assert refused.exit_code == 2 and "upgrade plain" in refused.output, refused.output
    assert project.phase("upgrade", "plain").exit_code == 0
    for phase in ("expand", "migrate", "switch", "contract"):
        assert project.phase("upgrade", phase).exit_code == 0
    back = project.phase("downgrade", "base")
    assert back.exit_code == 0, back.output
    status = json.loads(project.cli("status", "-c", ini, "--format", "json").stdout)
    assert [s["applied"] for s in status] == [["r0001", "r0002"], [], [], [], []]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('audit') IS NOT NULL").fetchone() == (True,)
        assert conn.execute(
            "SELECT count(*) FROM pg_attribute WHERE attrelid = 'orders'::regclass "
            "AND attname = 'note' AND NOT attisdropped"
        ).fetchone() == (1,)


def test_offline_sql_of_a_phase_says_why_it_cannot(tmp_path: Path, database_url: str) -> None:
    """`alembic upgrade --sql` used to write each backfill as one UPDATE ... LIMIT 1000 and
    the carried objects as comments, silently; it now stops and says why."""
    import subprocess
    import sys

    project = PhaseProject(tmp_path, database_url, SHOP)
    project.new("rename-column", "orders", "note", "remark")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(project.root / "alembic.ini"),
         "upgrade", "r0001:heads", "--sql"],
        capture_output=True, text=True, cwd=project.root,
    )  # fmt: skip
    assert result.returncode != 0
    assert "cannot be written out as SQL" in result.stderr + result.stdout, result.stderr
    # the linter still previews what the phases run
    lint = project.cli("lint", str(project.root / "alembic.ini"))
    assert "cannot be written out" not in lint.output, lint.output
