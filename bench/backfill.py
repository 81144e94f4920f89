"""Backfill speed and its cost to a concurrent writer, side by side with one UPDATE.

    python bench/backfill.py [--rows 1000000 10000000] [--runs 3] [--batch-time 0.05]
                             [--workers 1 2] [--database-url URL]

For each size, creates its own database (and drops it), fills `events`, then, in
alternation for --runs rounds (this machine is noisy; medians are printed):
  1. expandcontract's backfill (`backfill.run`, batches sized to --batch-time, with each
     --workers count) of a fresh column, and
  2. the naive one-statement `UPDATE events SET c = ...`,
each while a writer updates random rows in a loop (one every ~2 ms). Prints rows/s, the
ratio to the naive UPDATE's rows/s, and the writer's worst and 99th-percentile latency.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid

import psycopg
from sqlalchemy import create_engine

from expandcontract.ops import backfill

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def writer(url: str, rows: int, stop: threading.Event, latencies: list[float]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            started = time.perf_counter()
            conn.execute("UPDATE events SET a = a + 1 WHERE id = %s", (random.randint(1, rows),))
            latencies.append(time.perf_counter() - started)
            time.sleep(0.002)


def measure(url: str, rows: int, work) -> tuple[float, list[float]]:
    stop, latencies = threading.Event(), []
    thread = threading.Thread(target=writer, args=(url, rows, stop, latencies))
    thread.start()
    time.sleep(0.2)
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    return elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch-time", type=float, default=0.05)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", default=ADMIN, help="server to create the database on")
    args = parser.parse_args()
    for rows in args.rows:
        bench(args, rows)


def bench(args, rows: int) -> None:
    name = f"ec_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(args.database_url, dbname=name)
    results: dict[str, list[tuple[float, list[float]]]] = {}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE events (id bigint PRIMARY KEY, a integer NOT NULL)")
            conn.execute("INSERT INTO events SELECT g, g FROM generate_series(1, %s) g", (rows,))
            conn.execute("VACUUM ANALYZE events")
        engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))

        def fresh_column(conn) -> str:
            column = f"c{uuid.uuid4().hex[:6]}"
            conn.execute(f"ALTER TABLE events ADD COLUMN {column} integer")
            return column

        def batched(workers: int):
            def work():
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    backfill.run(
                        c, "events", column, "a * 2", batch_time=args.batch_time, workers=workers
                    )

            return work

        def naive():
            with psycopg.connect(url, autocommit=True) as c:
                c.execute(f"UPDATE events SET {column} = a * 2")

        for _ in range(args.runs):
            for label, work in [
                *(
                    (f"backfill, {w} worker{'s' if w > 1 else ''}", batched(w))
                    for w in args.workers
                ),
                ("naive UPDATE", naive),
            ]:
                with psycopg.connect(url, autocommit=True) as conn:
                    column = fresh_column(conn)
                results.setdefault(label, []).append(measure(url, rows, work))
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"ALTER TABLE events DROP COLUMN {column}")
                    conn.execute("VACUUM events")
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    naive_rate = rows / statistics.median(e for e, _ in results["naive UPDATE"])
    print(
        f"\n{rows:,} rows, batch time {args.batch_time * 1000:.0f} ms, one concurrent writer, "
        f"medians of {args.runs} runs"
    )
    print(
        f"{'':<22}{'rows/s':>12}{'vs naive':>10}{'seconds':>9}{'writer max ms':>15}"
        f"{'writer p99 ms':>15}{'writes':>8}"
    )
    for label, runs in results.items():
        elapsed = statistics.median(e for e, _ in runs)
        worst = statistics.median(max(lat) for _, lat in runs)
        p99 = statistics.median(
            statistics.quantiles(lat, n=100)[98] if len(lat) >= 100 else max(lat) for _, lat in runs
        )
        writes = statistics.median(len(lat) for _, lat in runs)
        print(
            f"{label:<22}{rows / elapsed:>12,.0f}{rows / elapsed / naive_rate:>9.2f}x"
            f"{elapsed:>9.1f}{worst * 1000:>15.1f}{p99 * 1000:>15.1f}{writes:>8.0f}"
        )


if __name__ == "__main__":
    main()
