"""How a backfill walks its table: key ranges, one committed batch at a time.

The SQL of a batch (update the rows of ``(last, bound]`` and record ``bound`` in the
progress table, in one statement), the key ranges of parallel workers, the walk of
one range with batches sized by time, and the progress line. :mod:`.backfill` drives it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass

from sqlalchemy import text

from expandcontract.catalog.bookkeeping import BACKFILL as PROGRESS_TABLE
from expandcontract.ops import execution
from expandcontract.ops.replicas import LagGate
from expandcontract.schema.names import quote

log = logging.getLogger("expandcontract")

MIN_BATCH, MAX_BATCH = 100, 200_000
INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


def _keys_sql(keys: list[tuple[str, str]], prefix: str) -> str:
    return ", ".join(f"CAST(:{prefix}{i} AS {t})" for i, (_, t) in enumerate(keys))


def _as_text(keys: list[tuple[str, str]]) -> str:
    """Each key column as text that casts back to exactly its value, whatever its type and
    the session's settings: a JSON scalar's text (bytea as hex, time stamps in ISO 8601
    with their offset, numerics with every digit)."""
    return ", ".join(f"to_json({quote(k)}) #>> '{{}}'" for k, _ in keys)


def bound_sql(table: str, keys: list[tuple[str, str]], resume: bool, upper: bool) -> str:
    """The key ``:offset`` rows after the last one: where this batch ends."""
    cols = ", ".join(quote(k) for k, _ in keys)
    conditions = []
    if resume:
        conditions.append(f"({cols}) > ({_keys_sql(keys, 'k')})")
    if upper:
        conditions.append(f"({cols}) <= ({_keys_sql(keys, 'u')})")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT {_as_text(keys)} FROM {quote(table)} {where} ORDER BY {cols} "
        "OFFSET :offset LIMIT 1"
    )


def tail_sql(table: str, keys: list[tuple[str, str]], resume: bool) -> str:
    """The table's last key after ``:k``: where the final batch of an open range ends."""
    cols = ", ".join(quote(k) for k, _ in keys)
    where = f"WHERE ({cols}) > ({_keys_sql(keys, 'k')})" if resume else ""
    desc = ", ".join(f"{quote(k)} DESC" for k, _ in keys)
    return f"SELECT {_as_text(keys)} FROM {quote(table)} {where} ORDER BY {desc} LIMIT 1"


def batch_sql(
    table: str,
    column: str,
    expression: str,
    keys: list[tuple[str, str]],
    resume: bool,
    where: str | None,
) -> str:
    """Update the rows of ``(:k, :b]`` and record ``:b`` as the last key, in one statement."""
    cols = ", ".join(quote(k) for k, _ in keys)
    conditions = [f"({cols}) <= ({_keys_sql(keys, 'b')})"]
    if resume:
        conditions.insert(0, f"({cols}) > ({_keys_sql(keys, 'k')})")
    if where:
        conditions.append(f"({where})")
    return f"""
WITH updated AS (
    UPDATE {quote(table)} SET {quote(column)} = {expression}
    WHERE {" AND ".join(conditions)}
    RETURNING 1
), progress AS (
    INSERT INTO {PROGRESS_TABLE} AS p (name, last_key, rows)
    VALUES (:name, CAST(:bound_json AS jsonb), (SELECT count(*) FROM updated))
    ON CONFLICT (name) DO UPDATE
        SET last_key = EXCLUDED.last_key, rows = p.rows + EXCLUDED.rows, updated_at = now()
    RETURNING rows
)
SELECT (SELECT count(*) FROM updated), (SELECT rows FROM progress)
"""


def preview_sql(table: str, column: str, expression: str) -> str:
    """What a batch looks like, for offline rendering and the linter."""
    return (
        f"UPDATE {quote(table)} SET {quote(column)} = {expression} "
        f"WHERE ctid IN (SELECT ctid FROM {quote(table)} LIMIT 1000)"
    )


def next_size(size: int, elapsed: float, target: float) -> int:
    """The next batch's size: scaled towards the time target, at most x2 or /2 a step."""
    if target <= 0:
        return size
    factor = target / max(elapsed, 1e-4)
    return max(MIN_BATCH, min(MAX_BATCH, int(size * min(2.0, max(0.5, factor)))))


@dataclass
class Range:
    name: str
    last: list | None  # the last key done (exclusive lower bound); None: from the start
    upper: list | None  # the range's inclusive upper bound; None: to the end of the table
    done: bool = False


class Progress:
    """Rows done across workers: a bar with rows/s and an ETA on a terminal, a line per
    ~10 s in CI or a log, and the batch size in use."""

    def __init__(self, name: str, total: int, already: int) -> None:
        self.name, self.total, self.done = name, max(total, 0), already
        self.started, self.last_line = time.monotonic(), 0.0
        self.tty = sys.stderr.isatty() and not os.environ.get("CI")
        self.lock = threading.Lock()
        self.moved = 0

    def add(self, rows: int, batch_size: int) -> None:
        with self.lock:
            self.done += rows
            self.moved += rows
            now = time.monotonic()
            if not self.tty and now - self.last_line < 10:
                return
            self.last_line = now
            rate = self.moved / max(now - self.started, 1e-6)
            left = max(self.total - self.done, 0)
            eta = f", ETA {left / rate:.0f}s" if rate and self.total else ""
            pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
            of = f"/~{self.total:,}" if self.total else ""
            line = (
                f"backfill {self.name}: {self.done:,}{of} rows{pct}, "
                f"{rate:,.0f} rows/s{eta}, batch {batch_size:,}"
            )
            if self.tty:
                print(f"\r{line}\x1b[K", end="", file=sys.stderr, flush=True)
            else:
                log.info(line)

    def close(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def ranges(conn, name, table, keys, state, workers: int) -> list[Range]:
    """The key ranges of this backfill: found again when resuming, else made now."""
    existing = conn.execute(
        text(
            f"SELECT name, last_key, upper_key, done FROM {PROGRESS_TABLE} "
            "WHERE name LIKE :prefix ORDER BY name"
        ),
        {"prefix": name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "#%"},
    ).fetchall()
    if existing:
        return [Range(r.name, r.last_key, r.upper_key, r.done) for r in existing]
    resumed = list(state.last_key) if state is not None and state.last_key else None
    single = Range(name, resumed, None)
    if workers <= 1 or len(keys) != 1 or keys[0][1] not in INTEGER_TYPES or state is not None:
        return [single]
    key = quote(keys[0][0])
    low, high = conn.execute(text(f"SELECT min({key}), max({key}) FROM {quote(table)}")).one()
    if low is None or high - low < workers * MIN_BATCH * 10:
        return [single]  # too small to be worth the connections
    step = (high - low) // workers
    bounds = [low - 1 + step * i for i in range(workers)]  # each range's exclusive start
    ranges = []
    for i, start in enumerate(bounds):
        upper = [bounds[i + 1]] if i + 1 < len(bounds) else None
        ranges.append(Range(f"{name}#{i:03d}", [start] if i else None, upper))
    for part in ranges:
        conn.execute(
            text(
                f"INSERT INTO {PROGRESS_TABLE} (name, last_key, upper_key) "
                "VALUES (:n, CAST(:last AS jsonb), CAST(:upper AS jsonb)) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {
                "n": part.name,
                "last": json.dumps(part.last) if part.last else None,
                "upper": json.dumps(part.upper) if part.upper else None,
            },
        )
    return ranges


def in_parallel(conn, ranges: list[Range], walk) -> tuple[int, int]:
    """Each range on its own connection, in threads; the first error stops the rest."""
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    engine = conn.engine

    def worker(part: Range) -> None:
        try:
            with engine.connect() as own:
                own = own.execution_options(isolation_level="AUTOCOMMIT")
                results.append(walk(own, part))
        except BaseException as err:  # reported by the caller's thread
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(part,), daemon=True) for part in ranges]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # wakes for Ctrl-C in the main thread
    if errors:
        raise errors[0]
    return sum(r[0] for r in results), sum(r[1] for r in results)


def walk(
    conn,
    table: str,
    column: str,
    expression: str,
    keys: list[tuple[str, str]],
    part: Range,
    where: str | None,
    settings: execution.Settings,
    progress: Progress,
    size: int,
    batch_time: float,
    pause: float,
    gate: LagGate,
    batch_settings: dict[str, str],
) -> tuple[int, int]:
    """Walk one key range to its end; returns (rows updated, batches)."""
    last, upper = part.last, part.upper
    updated_total = batches = 0
    bound_with_upper = text(bound_sql(table, keys, True, upper is not None))
    bound_from_start = text(bound_sql(table, keys, False, upper is not None))
    upper_params = {f"u{i}": v for i, v in enumerate(upper or [])}
    while True:
        gate.wait()
        params = {**upper_params, **{f"k{i}": v for i, v in enumerate(last or [])}}
        query = bound_with_upper if last is not None else bound_from_start
        row = conn.execute(query, {**params, "offset": size - 1}).fetchone()
        final = row is None
        bound = list(row) if row is not None else upper
        if bound is None:  # fewer than a batch left: up to the table's current last key
            tail = text(tail_sql(table, keys, last is not None))
            last_row = conn.execute(tail, params).fetchone()
            if last_row is None:
                break
            bound = list(last_row)
        if last is not None and bound == list(last):
            raise BackfillStuck(
                f"backfill {part.name}: no progress past key {bound!r} (its key column "
                "does not order as it compares); nothing was marked done"
            )
        sql = text(batch_sql(table, column, expression, keys, last is not None, where))
        batch = {
            **params,
            **{f"b{i}": v for i, v in enumerate(bound)},
            "name": part.name,
            "bound_json": json.dumps(bound),
        }
        began = time.monotonic()

        def one_batch(s=sql, p=batch):
            with execution.local(conn, settings, batch_settings):  # SET LOCAL: pooler-safe
                return conn.execute(s, p).one()

        updated, _ = execution.retry(one_batch, settings, f"backfill batch of {part.name}")
        elapsed = time.monotonic() - began
        updated_total += updated
        batches += 1
        last = bound
        progress.add(updated, size)
        if final:
            break
        size = next_size(size, elapsed, batch_time)
        if pause:
            time.sleep(pause)
    conn.execute(
        text(f"UPDATE {PROGRESS_TABLE} SET done = true, updated_at = now() WHERE name = :n"),
        {"n": part.name},
    )
    return updated_total, batches


class BackfillError(Exception):
    """The backfill cannot run (no key to walk the table by, or its walk makes no
    progress)."""


class BackfillStuck(BackfillError):
    """A batch would end where the last one did: walking on would loop, and stopping would
    call unfilled rows done."""
