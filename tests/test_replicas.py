"""The backfill paces itself on a real streaming replica whose replay is paused."""

from __future__ import annotations

import itertools
import logging
import threading
import time

import psycopg
import pytest

from expandcontract.connections import engine
from expandcontract.ops import backfill
from expandcontract.ops.replicas import LagGate
from expandcontract.urls import sqlalchemy_url
from tests.services import primary_and_replica


@pytest.fixture(scope="module")
def replication():
    with primary_and_replica() as urls:
        yield urls


def _table(primary: str, name: str, rows: int) -> None:
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, v int, w int)")
        conn.execute(f"INSERT INTO {name} SELECT g, g, NULL FROM generate_series(1, {rows}) g")


def _wait_replayed(primary: str, replica: str) -> None:
    with psycopg.connect(primary, autocommit=True) as p, psycopg.connect(replica) as r:
        lsn = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + 30
        while r.execute("SELECT pg_last_wal_replay_lsn() < %s::pg_lsn", (lsn,)).fetchone()[0]:
            assert time.monotonic() < deadline, "the replica does not catch up"
            time.sleep(0.05)
            r.rollback()


def _backfill(primary: str, table: str, **kwargs) -> int:
    eng = engine(sqlalchemy_url(kwargs.pop("url", primary)))
    try:
        with eng.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            return backfill.run(
                conn, table, "w", "v * 2", batch_size=500, batch_time=0, pause=0.03, **kwargs
            )
    finally:
        eng.dispose()


@pytest.mark.parametrize("source", ["primary", "replica_url"])
def test_backfill_waits_while_replay_is_paused_and_resumes_after(
    replication, source: str, caplog
) -> None:
    primary, replica = replication
    table = f"paced_{source}"
    _table(primary, table, 40_000)
    _wait_replayed(primary, replica)
    progress = []

    def watch_and_resume() -> None:
        with psycopg.connect(primary, autocommit=True) as conn:
            for _ in range(40):  # 4 s: the throttle engages within the first ~1.5 s
                progress.append(conn.execute(f"SELECT count(w) FROM {table}").fetchone()[0])
                time.sleep(0.1)
        with psycopg.connect(replica, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")

    with psycopg.connect(replica, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    resumer = threading.Thread(target=watch_and_resume)
    resumer.start()
    began = time.monotonic()
    try:
        with caplog.at_level(logging.INFO, logger="expandcontract"):
            kwargs = {"max_replica_lag": 1.0}
            if source == "replica_url":
                # a role without pg_monitor sees no lag on the primary: only the replica's
                # own reading, through replica_urls, can pace it
                kwargs["replica_urls"] = [replica]
                kwargs["url"] = _unprivileged(primary, table)
            updated = _backfill(primary, table, **kwargs)
    finally:
        resumer.join()
        with psycopg.connect(replica, autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
    elapsed = time.monotonic() - began
    assert updated == 40_000
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("backfill paused: replica lag") for m in messages), messages
    assert any("backfill resumed" in m for m in messages), messages
    waited = [m for m in messages if "waiting for replicas" in m]
    assert waited, messages
    seconds = float(waited[0].rsplit(", ", 1)[1].split("s of it")[0])
    assert seconds >= 1.5, waited  # paused until the resume, about 4 s in
    assert elapsed >= 4
    # while replay was paused and the gate closed, no row was written for a while
    stalls = sum(1 for a, b in itertools.pairwise(progress) if a == b and 0 < a < 40_000)
    assert stalls >= 10, progress
    if source == "replica_url":
        assert any("cannot read the replication lag" in m for m in messages), messages


def _unprivileged(primary: str, table: str) -> str:
    with psycopg.connect(primary, autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS ec_pacer")
        conn.execute("CREATE ROLE ec_pacer LOGIN")
        conn.execute("GRANT CREATE, USAGE ON SCHEMA public TO ec_pacer")
        conn.execute(f"GRANT SELECT, UPDATE ON {table} TO ec_pacer")
        conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO ec_pacer")
    return psycopg.conninfo.make_conninfo(primary, user="ec_pacer")


def test_no_lag_no_wait(replication) -> None:
    primary, replica = replication
    _table(primary, "unpaced", 5_000)
    _wait_replayed(primary, replica)
    eng = engine(sqlalchemy_url(primary))
    try:
        gate = LagGate(eng, 5.0, [replica])
        lag, _ = gate.lag()
        assert lag < 5.0
        began = time.monotonic()
        gate.wait()
        assert time.monotonic() - began < 1 and gate.waited == 0
    finally:
        eng.dispose()
    assert _backfill(primary, "unpaced", max_replica_lag=5.0, replica_urls=[replica]) == 5_000
    with psycopg.connect(primary) as conn:
        assert conn.execute("SELECT count(*) FROM unpaced WHERE w = v * 2").fetchone() == (5_000,)
