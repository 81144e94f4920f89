"""How expandcontract connects: the one place, so that every connection is pooler-safe.

Every connection we open may go through PgBouncer in ``pool_mode = transaction``,
where consecutive transactions of one client can land on different server
connections. So none of ours keeps session state:

- psycopg's automatic server-side prepared statements are off
  (``prepare_threshold=None``): a statement prepared on one server connection
  does not exist on the next;
- settings such as ``lock_timeout`` are set with ``SET LOCAL`` inside the
  transaction that needs them (see :mod:`expandcontract.ops.execution`),
  never with a session ``SET`` that would stay on a pooled connection;
- no session advisory locks, no ``LISTEN``, no temporary tables.

One exception, where it is provably safe: :func:`prepare_if_direct` lets a
connection that talks to its server backend directly prepare the statements it
repeats (verify's catalog reads, which cost more to plan than to run).
"""

from __future__ import annotations

POOLER_SAFE = {"prepare_threshold": None}


def engine(url: str, **kwargs):
    """A SQLAlchemy engine on ``url`` (a psycopg 3 URL) with pooler-safe connections."""
    from sqlalchemy import create_engine

    connect_args = {**POOLER_SAFE, **kwargs.pop("connect_args", {})}
    return create_engine(url, connect_args=connect_args, **kwargs)


def connect(conninfo: str, **kwargs):
    """A psycopg connection to ``conninfo`` with no server-side prepared statements."""
    import psycopg

    return psycopg.connect(conninfo, **{**POOLER_SAFE, **kwargs})


def prepare_if_direct(conn, threshold: int = 2) -> bool:
    """Let ``conn`` prepare statements it runs ``threshold`` times, when it talks to the
    server directly: the backend key the server handed over at connect time is the pid
    of the backend answering now. A pooler hands out a key of its own, so through one
    (any pool mode) nothing is prepared. Returns whether it will prepare."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    direct = pid == conn.info.backend_pid
    if direct:
        conn.prepare_threshold = threshold
        # one plan for every run: the catalog's custom plans cost as much as no preparing
        conn.execute("SET plan_cache_mode = force_generic_plan")
    return direct
