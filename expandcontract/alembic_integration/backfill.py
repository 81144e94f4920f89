"""Backfill: set a column on every existing row in keyset batches, resumably.

Each batch is one statement: it picks the next keys after the last one
recorded, updates those rows, and records the new last key and the row count
in ``expandcontract_backfill``, all atomically. A batch is committed on its
own, so the table is never held for long, and a crash or Ctrl-C loses at most
the batch in flight, which the rerun does again: no row is missed or
converted twice. The walk follows the primary key (or a unique NOT NULL key),
composite or not, of any orderable type.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass

from sqlalchemy import text

from expandcontract.alembic_integration import execution
from expandcontract.alembic_integration.operations import quote

log = logging.getLogger("expandcontract")

PROGRESS_TABLE = "expandcontract_backfill"


class BackfillError(Exception):
    """The backfill cannot run (no key to walk the table by)."""


@dataclass(frozen=True)
class BatchSettings:
    batch_size: int = 1000
    pause: float = 0.0


def key_columns(conn, table: str) -> list[tuple[str, str]]:
    """The primary key's columns and types, else a unique NOT NULL key's."""
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
        {"t": table},
    ).fetchall()
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
        raise BackfillError(f"backfill: table {table} does not exist")
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


def batch_sql(
    table: str,
    column: str,
    expression: str,
    keys: list[tuple[str, str]],
    resume: bool,
    batch_size: int,
    where: str | None,
) -> str:
    cols = ", ".join(quote(k) for k, _ in keys)
    tuple_cols = f"({cols})"
    last = ", ".join(f"CAST(:k{i} AS {t})" for i, (_, t) in enumerate(keys))
    after = f"WHERE {tuple_cols} > ({last})" if resume else ""
    extra = f" AND ({where})" if where else ""
    last_key = ", ".join(f"{quote(k)}::text" for k, _ in keys)
    return f"""
WITH batch AS (
    SELECT {cols} FROM {quote(table)} {after} ORDER BY {cols} LIMIT {int(batch_size)}
), updated AS (
    UPDATE {quote(table)} SET {quote(column)} = {expression}
    WHERE {tuple_cols} IN (SELECT {cols} FROM batch){extra}
    RETURNING 1
), last AS (
    SELECT {cols} FROM batch ORDER BY {", ".join(f"{quote(k)} DESC" for k, _ in keys)} LIMIT 1
), progress AS (
    INSERT INTO {PROGRESS_TABLE} AS p (name, last_key, rows)
    SELECT :name, jsonb_build_array({last_key}), (SELECT count(*) FROM updated) FROM last
    ON CONFLICT (name) DO UPDATE
        SET last_key = EXCLUDED.last_key, rows = p.rows + EXCLUDED.rows, updated_at = now()
    RETURNING 1
)
SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM updated), (SELECT count(*) FROM progress)
"""


def preview_sql(table: str, column: str, expression: str) -> str:
    """What a batch looks like, for offline rendering and the linter."""
    return (
        f"UPDATE {quote(table)} SET {quote(column)} = {expression} "
        f"WHERE ctid IN (SELECT ctid FROM {quote(table)} LIMIT 1000)"
    )


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
) -> int:
    """Backfill ``table.column``; returns the number of rows updated by this run."""
    name = f"{table}.{column}"
    settings = settings or execution.Settings()
    _ensure_progress_table(conn)
    state = conn.execute(
        text(f"SELECT last_key, done FROM {PROGRESS_TABLE} WHERE name = :n"), {"n": name}
    ).fetchone()
    if state is not None and state.done:
        log.info("backfill %s: already complete", name)
        return 0
    keys = key_columns(conn, table)
    last = list(state.last_key) if state is not None and state.last_key else None
    show = sys.stderr.isatty() and not os.environ.get("CI")
    total = conn.execute(text(f"SELECT count(*) FROM {quote(table)}")).scalar() if show else 0
    updated_total = batches = 0
    started = time.monotonic()
    while True:
        sql = text(batch_sql(table, column, expression, keys, last is not None, batch_size, where))
        params = {"name": name, **{f"k{i}": v for i, v in enumerate(last or [])}}
        picked, updated, _ = execution.retry(
            lambda s=sql, p=params: conn.execute(s, p).one(), settings, f"backfill batch of {name}"
        )
        updated_total += updated
        batches += 1
        if picked:
            last = conn.execute(
                text(f"SELECT last_key FROM {PROGRESS_TABLE} WHERE name = :n"), {"n": name}
            ).scalar()
        if show:
            done = (
                conn.execute(
                    text(f"SELECT rows FROM {PROGRESS_TABLE} WHERE name = :n"), {"n": name}
                ).scalar()
                or 0
            )
            pct = 100 * done / total if total else 100
            print(
                f"\rbackfill {name}: {done:,}/{total:,} rows ({pct:.0f}%)",
                end="",
                file=sys.stderr,
                flush=True,
            )
        if picked < batch_size:
            break
        if pause:
            time.sleep(pause)
    conn.execute(
        text(
            f"INSERT INTO {PROGRESS_TABLE} (name, done) VALUES (:n, true) "
            "ON CONFLICT (name) DO UPDATE SET done = true, updated_at = now()"
        ),
        {"n": name},
    )
    if show:
        print(file=sys.stderr)
    log.info(
        "backfill %s: %d rows in %d batches, %.1fs",
        name,
        updated_total,
        batches,
        time.monotonic() - started,
    )
    return updated_total


def forget(conn, table: str, column: str) -> None:
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": PROGRESS_TABLE}).scalar() is not None:
        conn.execute(
            text(f"DELETE FROM {PROGRESS_TABLE} WHERE name = :n"), {"n": f"{table}.{column}"}
        )
