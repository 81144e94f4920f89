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
contract's rollback alike. The walk itself is :mod:`.batches`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy import text

from expandcontract.catalog import bookkeeping, probes
from expandcontract.catalog.bookkeeping import BACKFILL as PROGRESS_TABLE
from expandcontract.ops import batches, execution
from expandcontract.ops.batches import BackfillError
from expandcontract.ops.registry import needs_database, online, operation
from expandcontract.ops.replicas import LagGate
from expandcontract.schema.names import quote

log = logging.getLogger("expandcontract")


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
    if not probes.relation_exists(conn, table):
        raise BackfillError(f"backfill: table {table} does not exist")
    keys = probes.walk_keys(conn, table)
    if keys is None:
        raise BackfillError(
            f"backfill: table {table} has neither a primary key nor a unique NOT NULL key to "
            "walk it in batches; add one first (CREATE UNIQUE INDEX CONCURRENTLY on NOT NULL "
            "columns)"
        )
    return keys


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
    record: str | None = None,
) -> int:
    """Backfill ``table.column``; returns the number of rows updated by this run.

    ``conn`` must be in autocommit mode (each batch commits on its own); parallel workers
    open their own connections from its engine. ``record``: see :func:`progress_name`.
    """
    name = progress_name(table, column, record)
    settings = settings or execution.Settings()
    bookkeeping.ensure(conn, PROGRESS_TABLE)
    state = conn.execute(
        text(f"SELECT last_key, done, rows FROM {PROGRESS_TABLE} WHERE name = :n"), {"n": name}
    ).fetchone()
    if state is not None and state.done:
        log.info("backfill %s: already complete", name)
        return 0
    keys = key_columns(conn, table)
    ranges = batches.ranges(conn, name, table, keys, state, workers)
    total = probes.estimated_rows(conn, table)
    already = conn.execute(
        text(f"SELECT coalesce(sum(rows), 0) FROM {PROGRESS_TABLE} WHERE name = ANY(:names)"),
        {"names": [r.name for r in ranges]},
    ).scalar()
    progress = batches.Progress(name, total, int(already))
    gate = LagGate(conn.engine, max_replica_lag, replica_urls)
    batch_settings = _trigger_settings(conn, table, triggers)
    started = time.monotonic()

    def walk(connection, part: batches.Range) -> tuple[int, int]:
        return batches.walk(
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
        updated, count = walk(conn, todo[0])
    else:
        updated, count = batches.in_parallel(conn, todo, walk)
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
        count,
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
    own = probes.user_triggers(conn, table)
    if not own:
        return settings
    if probes.is_superuser(conn):
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


def progress_name(table: str, column: str, record: str | None = None) -> str:
    """What a backfill's progress is kept under: the revision, the table and the column."""
    return f"{record}:{table}.{column}" if record else f"{table}.{column}"


def forget(conn, table: str, column: str, record: str | None = None) -> None:
    if bookkeeping.exists(conn, PROGRESS_TABLE):
        name = progress_name(table, column, record)
        conn.execute(
            text(f"DELETE FROM {PROGRESS_TABLE} WHERE name = :n OR name LIKE :prefix"),
            {"n": name, "prefix": name.replace("_", "\\_").replace("%", "\\%") + "#%"},
        )


@operation
def backfill(
    operations,
    table_name,
    column,
    expression=None,
    batch_size=None,
    pause=None,
    where=None,
    cast_from=None,
    record=None,
) -> None:
    """Set ``column = expression`` on every existing row, in keyset batches over the
    primary key, each committed on its own and recorded, so a rerun after a crash or
    Ctrl-C resumes where it stopped without missing or repeating a row.
    ``cast_from=other`` fills it with ``other`` cast to the column's type; ``where``
    limits it to the rows that need it (the phases pass ``column IS NULL``: a row
    written since expand is never overwritten); ``record`` (the revision) is the name
    its progress is kept under, with the table and column."""
    context = operations.get_context()
    with context.autocommit_block():
        if not online(operations):
            needs_database(operations, "op.backfill (committed batches over the live table)")
            operations.execute(
                batches.preview_sql(table_name, column, expression or quote(cast_from))
            )
            return
        bind = operations.get_bind()
        if where is None and probes.has_sync_trigger(bind, table_name):
            # while a column is replaced, only rows nobody wrote since expand need it
            # (revisions written before 0.2 do not say so themselves)
            where = f"{quote(column)} IS NULL"
        if expression is None:
            type_sql = probes.column_type(bind, table_name, column)
            expression = f"CAST({quote(cast_from)} AS {type_sql})"
        settings = execution.backfill_settings_of(context) or BatchSettings()
        run(
            bind,
            table_name,
            column,
            expression,
            record=record,
            batch_size=batch_size or settings.batch_size,
            pause=pause if pause is not None else settings.pause,
            where=where,
            settings=execution.settings_of(context),
            # an explicit batch_size in the revision is a fixed size
            batch_time=0 if batch_size else settings.batch_time,
            workers=settings.workers,
            max_replica_lag=settings.max_replica_lag,
            replica_urls=settings.replica_urls,
            triggers=settings.triggers,
        )


@operation
def forget_backfill(operations, table_name, column, record=None) -> None:
    """Drop the progress record of a backfill, so that it runs again from the start."""
    if online(operations):
        forget(operations.get_bind(), table_name, column, record)
