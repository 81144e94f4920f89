"""Backfill: set a column on every existing row in keyset batches, resumably and fast.

The table is walked by its primary key (or a unique NOT NULL key), composite
or not, of any orderable type, in key ranges. Each batch updates the rows of
one range ``(last, bound]`` and records ``bound`` as the new last key in
``expandcontract_backfill``, in one statement, committed on its own (under
``SET LOCAL lock_timeout``, so it works through PgBouncer): a crash or
Ctrl-C loses at most the batch in flight, which the rerun does again, so no
row is missed or converted twice.

**Batches sized by time.** A batch holds its rows' locks until it commits, so
its duration is the longest a writer can wait on it. The batch size adapts to
a time target (``batch_time``, default 50 ms): after each batch the next size
is scaled by target / elapsed (at most doubled, at least halved), between 100
and 200,000 rows. ``batch_time=0`` keeps the size fixed.

**Parallel key ranges.** With ``workers > 1`` and a single integer key, the
key space is cut into that many ranges, recorded up front, each walked by its
own connection and recorded under its own name; a rerun finds the same ranges
and resumes each where it stopped.

**User triggers.** A backfill is not an application write: with
``triggers="skip"`` (the default) each batch runs with
``session_replication_role = replica`` when the role is a superuser, so the
table's own triggers (an ``updated_at`` stamp, an audit row) do not fire for it.
Otherwise they fire, and a warning names them; every batch sets
``expandcontract.backfill = 'on'``, which a trigger can test with
``current_setting('expandcontract.backfill', true)`` to skip itself.
``triggers="fire"`` lets them fire.

**Replica lag.** Before each batch the backfill waits while a replica replays
more than ``max_replica_lag`` seconds behind (see :mod:`.replicas`).

Every refill goes through :func:`run`: migrate's backfill and the refill of a
contract's rollback alike.
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

from expandcontract.alembic_integration import execution
from expandcontract.alembic_integration.replicas import LagGate
from expandcontract.schema.names import quote

log = logging.getLogger("expandcontract")

PROGRESS_TABLE = "expandcontract_backfill"
MIN_BATCH, MAX_BATCH = 100, 200_000
INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})


class BackfillError(Exception):
    """The backfill cannot run (no key to walk the table by)."""


@dataclass(frozen=True)
class BatchSettings:
    batch_size: int = 1000  # the first batch's size; with batch_time, later ones adapt
    pause: float = 0.0
    batch_time: float = 0.05  # seconds a batch should take; 0: a fixed batch size
    workers: int = 1
    max_replica_lag: float = 10.0  # seconds; wait while a replica is further behind (0: off)
    replica_urls: tuple[str, ...] = ()  # replicas to read the lag on, beside the primary's view
    triggers: str = "skip"  # the table's own triggers: "skip" them for the backfill, or "fire"


def key_columns(conn, table: str) -> list[tuple[str, str]]:
    """The primary key's columns and types, else a unique NOT NULL key's."""
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": quote(table)}).scalar() is None:
        raise BackfillError(f"backfill: table {table} does not exist")
    rows = conn.execute(
        text(
            """
            SELECT i.indisprimary, i.indexrelid, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, array_position(i.indkey::int2[], a.attnum) AS pos
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = to_regclass(:t) AND i.indisunique AND i.indisvalid
              AND i.indpred IS NULL AND i.indexprs IS NULL
            ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid, pos
            """
        ),
        {"t": quote(table)},
    ).fetchall()
    by_index: dict[int, list] = {}
    for primary, index, name, type_, notnull, _ in rows:
        by_index.setdefault(index, []).append((primary, name, type_, notnull))
    for columns in by_index.values():
        if columns[0][0] or all(c[3] for c in columns):
            return [(c[1], c[2]) for c in columns]
    raise BackfillError(
        f"backfill: table {table} has neither a primary key nor a unique NOT NULL key to walk "
        "it in batches; add one first (CREATE UNIQUE INDEX CONCURRENTLY on NOT NULL columns)"
    )


def _ensure_progress_table(conn) -> None:
    conn.execute(
        text(
            f"""
            CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} (
                name text PRIMARY KEY,
                last_key jsonb,
                rows bigint NOT NULL DEFAULT 0,
                done boolean NOT NULL DEFAULT false,
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
    )
    # a range of a parallel backfill ends here (inclusive); NULL: the end of the table.
    # Looked up first: ALTER TABLE needs the owner even when the column is there, and the
    # role running this backfill may not be the one that made the table.
    has_upper = conn.execute(
        text(
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) "
            "AND attname = 'upper_key' AND NOT attisdropped"
        ),
        {"t": PROGRESS_TABLE},
    ).scalar()
    if not has_upper:
        conn.execute(text(f"ALTER TABLE {PROGRESS_TABLE} ADD COLUMN IF NOT EXISTS upper_key jsonb"))


def _keys_sql(keys: list[tuple[str, str]], prefix: str) -> str:
    return ", ".join(f"CAST(:{prefix}{i} AS {t})" for i, (_, t) in enumerate(keys))


def bound_sql(table: str, keys: list[tuple[str, str]], resume: bool, upper: bool) -> str:
    """The key ``:offset`` rows after the last one: where this batch ends."""
    cols = ", ".join(quote(k) for k, _ in keys)
    conditions = []
    if resume:
        conditions.append(f"({cols}) > ({_keys_sql(keys, 'k')})")
    if upper:
        conditions.append(f"({cols}) <= ({_keys_sql(keys, 'u')})")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {cols} FROM {quote(table)} {where} ORDER BY {cols} OFFSET :offset LIMIT 1"


def tail_sql(table: str, keys: list[tuple[str, str]], resume: bool) -> str:
    """The table's last key after ``:k``: where the final batch of an open range ends."""
    cols = ", ".join(quote(k) for k, _ in keys)
    where = f"WHERE ({cols}) > ({_keys_sql(keys, 'k')})" if resume else ""
    desc = ", ".join(f"{quote(k)} DESC" for k, _ in keys)
    return f"SELECT {cols} FROM {quote(table)} {where} ORDER BY {desc} LIMIT 1"


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
class _Range:
    name: str
    last: list | None  # the last key done (exclusive lower bound); None: from the start
    upper: list | None  # the range's inclusive upper bound; None: to the end of the table
    done: bool = False


class _Progress:
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


def run(
    conn,
    table: str,
    column: str,
    expression: str,
    *,
    batch_size: int = 1000,
    pause: float = 0.0,
    where: str | None = None,
    settings: execution.Settings | None = None,
    batch_time: float = 0.05,
    workers: int = 1,
    max_replica_lag: float = 0.0,
    replica_urls=(),
    triggers: str = "skip",
) -> int:
    """Backfill ``table.column``; returns the number of rows updated by this run.

    ``conn`` must be in autocommit mode (each batch commits on its own); parallel workers
    open their own connections from its engine.
    """
    name = f"{table}.{column}"
    settings = settings or execution.Settings()
    _ensure_progress_table(conn)
    state = conn.execute(
        text(f"SELECT last_key, done, rows FROM {PROGRESS_TABLE} WHERE name = :n"), {"n": name}
    ).fetchone()
    if state is not None and state.done:
        log.info("backfill %s: already complete", name)
        return 0
    keys = key_columns(conn, table)
    ranges = _ranges(conn, name, table, keys, state, workers)
    total = (
        conn.execute(
            text("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
            {"t": quote(table)},
        ).scalar()
        or 0
    )
    already = conn.execute(
        text(f"SELECT coalesce(sum(rows), 0) FROM {PROGRESS_TABLE} WHERE name = ANY(:names)"),
        {"names": [r.name for r in ranges]},
    ).scalar()
    progress = _Progress(name, total, int(already))
    gate = LagGate(conn.engine, max_replica_lag, replica_urls)
    batch_settings = _trigger_settings(conn, table, triggers)
    started = time.monotonic()

    def walk(connection, part: _Range) -> tuple[int, int]:
        return _walk(
            connection,
            table,
            column,
            expression,
            keys,
            part,
            where,
            settings,
            progress,
            batch_size,
            batch_time,
            pause,
            gate,
            batch_settings,
        )

    todo = [r for r in ranges if not r.done]
    if len(todo) == 1:
        updated, batches = walk(conn, todo[0])
    else:
        updated, batches = _in_parallel(conn, todo, walk)
    progress.close()
    rows_done = conn.execute(
        text(f"SELECT coalesce(sum(rows), 0) FROM {PROGRESS_TABLE} WHERE name = ANY(:names)"),
        {"names": [r.name for r in ranges]},
    ).scalar()
    conn.execute(
        text(
            f"INSERT INTO {PROGRESS_TABLE} (name, rows, done) VALUES (:n, :rows, true) "
            "ON CONFLICT (name) DO UPDATE SET done = true, rows = :rows, updated_at = now()"
        ),
        {"n": name, "rows": rows_done},
    )
    log.info(
        "backfill %s: %d rows in %d batches, %.1fs%s%s",
        name,
        updated,
        batches,
        time.monotonic() - started,
        f", {len(ranges)} workers" if len(ranges) > 1 else "",
        f", {gate.waited:.1f}s of it waiting for replicas" if gate.waited else "",
    )
    return updated


def _trigger_settings(conn, table: str, triggers: str) -> dict[str, str]:
    """The SET LOCALs of every batch: the backfill marker, and the replica role that keeps
    the table's own triggers quiet when asked and allowed."""
    settings = {"expandcontract.backfill": "on"}
    if triggers != "skip":
        return settings
    own = [
        name
        for (name,) in conn.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:t) "
                "AND NOT tgisinternal AND tgname NOT LIKE 'ec\\_%' ORDER BY 1"
            ),
            {"t": quote(table)},
        )
    ]
    if not own:
        return settings
    superuser = conn.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    if superuser:
        settings["session_replication_role"] = "replica"
    else:
        log.warning(
            "backfill %s: its triggers (%s) fire for every row: skipping them needs a "
            "superuser; a trigger can skip itself when "
            "current_setting('expandcontract.backfill', true) = 'on'",
            table,
            ", ".join(own),
        )
    return settings


def _ranges(conn, name, table, keys, state, workers: int) -> list[_Range]:
    """The key ranges of this backfill: found again when resuming, else made now."""
    existing = conn.execute(
        text(
            f"SELECT name, last_key, upper_key, done FROM {PROGRESS_TABLE} "
            "WHERE name LIKE :prefix ORDER BY name"
        ),
        {"prefix": name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "#%"},
    ).fetchall()
    if existing:
        return [_Range(r.name, r.last_key, r.upper_key, r.done) for r in existing]
    resumed = list(state.last_key) if state is not None and state.last_key else None
    single = _Range(name, resumed, None)
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
        ranges.append(_Range(f"{name}#{i:03d}", [start] if i else None, upper))
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


def _in_parallel(conn, ranges: list[_Range], walk) -> tuple[int, int]:
    """Each range on its own connection, in threads; the first error stops the rest."""
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    engine = conn.engine

    def worker(part: _Range) -> None:
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


def _walk(
    conn,
    table: str,
    column: str,
    expression: str,
    keys: list[tuple[str, str]],
    part: _Range,
    where: str | None,
    settings: execution.Settings,
    progress: _Progress,
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
        bound = [_jsonable(v) for v in bound]
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


def _jsonable(value):
    """A key value as JSON keeps it (and as the CAST in the SQL reads it back)."""
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


def forget(conn, table: str, column: str) -> None:
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": PROGRESS_TABLE}).scalar() is not None:
        name = f"{table}.{column}"
        conn.execute(
            text(f"DELETE FROM {PROGRESS_TABLE} WHERE name = :n OR name LIKE :prefix"),
            {"n": name, "prefix": name.replace("_", "\\_").replace("%", "\\%") + "#%"},
        )
