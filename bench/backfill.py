"""Backfill speed and its cost to a concurrent writer, on a 1,000,000-row table.

    python bench/backfill.py [--rows 1000000] [--batch-size 1000] [--database-url URL]

Creates its own database (and drops it), fills `events`, then, side by side in one run:
  1. expandcontract's batched backfill (`backfill.run`) of a new column, and
  2. the naive one-statement `UPDATE events SET c = ...`,
each while a writer updates random rows in a loop. Prints rows/s and the writer's
worst and 99th-percentile latency during each.
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

from expandcontract.alembic_integration import backfill

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
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database-url", default=ADMIN, help="server to create the database on")
    args = parser.parse_args()

    name = f"ec_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(args.database_url, dbname=name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE events (id bigint PRIMARY KEY, a integer NOT NULL, "
                "b integer, c integer)"
            )
            conn.execute(
                "INSERT INTO events SELECT g, g, NULL, NULL FROM generate_series(1, %s) g",
                (args.rows,),
            )
            conn.execute("VACUUM ANALYZE events")
        engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(url))

        def batched():
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                backfill.run(c, "events", "b", "a * 2", batch_size=args.batch_size)

        def naive():
            with psycopg.connect(url, autocommit=True) as c:
                c.execute("UPDATE events SET c = a * 2")

        results = {
            "batched backfill": measure(url, args.rows, batched),
            "naive UPDATE": measure(url, args.rows, naive),
        }
    finally:
        with psycopg.connect(args.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    print(f"{args.rows:,} rows, batch size {args.batch_size}, one concurrent writer\n")
    print(
        f"{'':<18}{'rows/s':>12}{'seconds':>10}{'writer max ms':>16}{'writer p99 ms':>16}{'writes':>9}"
    )
    for label, (elapsed, lat) in results.items():
        p99 = statistics.quantiles(lat, n=100)[98] if len(lat) >= 100 else max(lat)
        print(
            f"{label:<18}{args.rows / elapsed:>12,.0f}{elapsed:>10.1f}{max(lat) * 1000:>16.1f}"
            f"{p99 * 1000:>16.1f}{len(lat):>9}"
        )


if __name__ == "__main__":
    main()
