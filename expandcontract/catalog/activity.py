"""Who else is in the database: sessions, the locks they hold, what they wait on.

Read from ``pg_stat_activity``, ``pg_locks`` and the replication views; nothing here
changes the database but :func:`cancel`.
"""

from __future__ import annotations

from sqlalchemy import text

# on the primary: the largest replay lag of its standbys, and how many it may not see
PRIMARY_LAG = """
SELECT coalesce(max(extract(epoch FROM replay_lag)), 0)::float8,
       count(*) FILTER (WHERE state IS NULL)
FROM pg_stat_replication
"""

# on a replica: seconds behind, 0 when it has replayed all it received
REPLICA_LAG = """
SELECT CASE WHEN pg_last_wal_receive_lsn() IS NULL
              OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)
       END::float8
"""

# end every session of an application_name (a runner killed mid-phase, in the checker)
TERMINATE_APPLICATION = (
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s"
)

# the longest current wait on a lock in this database, in seconds, by anyone but us
LOCK_WAIT = (
    "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - query_start)), 0)"
    " FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


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
