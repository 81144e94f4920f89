"""Who else is in the database: sessions, the locks they hold, what they wait on.

Read from ``pg_stat_activity`` and ``pg_locks``; nothing here changes the database.
"""

from __future__ import annotations

from sqlalchemy import text


def blockers(bind, pid: int) -> list[dict]:
    """The sessions ``pid`` waits for (``pg_blocking_pids``: a lock, or the snapshot a
    CONCURRENTLY build waits out): pid, state, seconds in its transaction, its query."""
    return [
        dict(row)
        for row in bind.execute(
            text(
                """
                SELECT a.pid, a.state,
                       coalesce(extract(epoch FROM now() - a.xact_start)::int, 0) AS seconds,
                       left(regexp_replace(coalesce(a.query, ''), '\\s+', ' ', 'g'), 80) AS query
                FROM pg_stat_activity a
                WHERE a.pid = ANY (pg_blocking_pids(:pid))
                ORDER BY a.xact_start
                """
            ),
            {"pid": pid},
        ).mappings()
    ]


def running(bind, query: str) -> dict | None:
    """The session running ``query`` (matched on its text: through a pooler the session
    is not ours to name): its pid, whether it waits, and for how long it has run."""
    row = (
        bind.execute(
            text(
                """
            SELECT pid, wait_event_type, wait_event,
                   extract(epoch FROM now() - query_start)::float8 AS seconds
            FROM pg_stat_activity
            WHERE state = 'active' AND query = :q AND pid <> pg_backend_pid()
            ORDER BY query_start LIMIT 1
            """
            ),
            {"q": query},
        )
        .mappings()
        .fetchone()
    )
    return dict(row) if row else None


def cancel(bind, pid: int) -> None:
    bind.execute(text("SELECT pg_cancel_backend(:p)"), {"p": pid})


def invalid_indexes(bind) -> list[tuple[str, str]]:
    """INVALID indexes in the user's schemas, ``(index, table)``: what an interrupted
    CREATE INDEX CONCURRENTLY leaves (it slows every write and is never used)."""
    return [
        tuple(row)
        for row in bind.execute(
            text(
                """
                SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE NOT i.indisvalid
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg\\_%'
                ORDER BY 1
                """
            )
        )
    ]
