"""Who else is in the database: sessions, the locks they hold, what they wait on.

Read from ``pg_stat_activity`` and ``pg_locks``; nothing here changes the database.
"""

from __future__ import annotations

from sqlalchemy import text


def advisory_holder(bind, key: int) -> dict | None:
    """The session holding transaction-level advisory lock ``key`` in this database: its
    pid, application_name, client address and how long it has held it; None if free."""
    row = bind.execute(
        text(
            """
            SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local') AS client,
                   extract(epoch FROM now() - a.xact_start)::int AS seconds
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
                SELECT oid FROM pg_database WHERE datname = current_database())
              AND ((l.classid::bigint << 32) | l.objid::bigint) = :key
            LIMIT 1
            """
        ),
        {"key": key & 0xFFFFFFFFFFFFFFFF},
    ).mappings().fetchone()
    return dict(row) if row else None


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
