"""What each statement really did: locks on pre-existing tables, rewrites, scans, time.

Installed on Alembic's executor for one revision. Inside a transaction the
statement's locks are read from ``pg_locks`` right after it, on the same
connection (locks are held until commit); its full-table scans from
``pg_stat_xact_user_tables``. A statement that runs outside a transaction
(``CONCURRENTLY``, in ``autocommit_block()``) keeps no lock afterwards, so a
second connection watches ``pg_locks`` while it runs, finding the statement's
backend by the migration connection's ``application_name`` (through PgBouncer in
transaction mode it may be another server connection each time). A rewrite is a
changed ``relfilenode``. No savepoints are involved, so nothing is deadlocked.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field

from expandcontract.alembic_integration.execution import describe

BLOCKING = ("ACCESS EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE", "EXCLUSIVE")
LOCK_ORDER = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)


def lock_name(mode: str) -> str:
    """'ShareRowExclusiveLock' -> 'SHARE ROW EXCLUSIVE'."""
    words, word = [], ""
    for ch in mode.removesuffix("Lock"):
        if ch.isupper() and word:
            words.append(word)
            word = ""
        word += ch
    return " ".join([*words, word]).upper()


@dataclass
class StatementTrace:
    direction: str
    sql: str
    ms: float
    locks: list[dict[str, str]] = field(default_factory=list)
    rewrites: list[str] = field(default_factory=list)
    scans: list[str] = field(default_factory=list)
    outside_transaction: bool = False

    @property
    def flags(self) -> list[str]:
        flags = [
            f"{lock['mode']} on {lock['table']}" for lock in self.locks if lock["mode"] in BLOCKING
        ]
        flags += [f"rewrite of {name}" for name in self.rewrites]
        return flags

    def as_dict(self) -> dict:
        return {
            "direction": self.direction,
            "sql": self.sql,
            "locks": self.locks,
            "rewrites": self.rewrites,
            "scans": self.scans,
            "ms": round(self.ms, 2),
            "outside_transaction": self.outside_transaction,
            "flags": self.flags,
        }


RELATIONS = """
SELECT c.oid, c.relname, c.relkind, c.relfilenode FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%%' AND c.relname <> %(version_table)s
  AND c.relname NOT LIKE 'expandcontract\\_%%'
"""


class Tracer:
    """Collects :class:`StatementTrace` for one revision's upgrade or downgrade."""

    def __init__(
        self, observer, version_table: str = "alembic_version", application_name: str = ""
    ) -> None:
        self.observer = observer  # a second psycopg connection, autocommit
        self.application_name = application_name  # the migration connection's
        self.version_table = version_table
        self.statements: list[StatementTrace] = []
        self.direction = "up"
        self.tables: dict[int, str] = {}
        self.relations: dict[int, str] = {}

    def snapshot_relations(self) -> None:
        """Remember which tables and indexes exist before the revision runs."""
        with self.observer.cursor() as cursor:
            cursor.execute(RELATIONS, {"version_table": self.version_table})
            rows = cursor.fetchall()
        self.relations = {oid: name for oid, name, _, _ in rows}
        self.tables = {oid: name for oid, name, kind, _ in rows if kind in ("r", "p", "m")}

    def install(self, context) -> None:
        """Trace every statement on ``context``; ``self.direction`` says which way it runs."""
        impl = context.impl
        original = impl._exec
        tracer = self

        def traced(construct, *args, **kwargs):
            connection = impl.connection
            autocommit = connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            sql = describe(construct, impl.dialect)
            if not tracer.relations or tracer._bookkeeping(sql):
                return original(construct, *args, **kwargs)
            before = tracer._state(connection)
            if autocommit:
                watcher = _Watcher(
                    tracer.observer, before.pid, tracer.application_name, list(tracer.tables)
                )
                watcher.start()
            started = time.perf_counter()
            try:
                result = original(construct, *args, **kwargs)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                seen = watcher.stop() if autocommit else set()
            after = tracer._state(connection)
            new_locks = seen if autocommit else after.locks - before.locks
            scans = (
                []
                if autocommit
                else sorted(
                    tracer.tables[oid]
                    for oid, n in after.scans.items()
                    if n > before.scans.get(oid, 0) and oid in tracer.tables
                )
            )
            strongest: dict[str, str] = {}
            for oid, mode in new_locks:
                if oid in tracer.tables:
                    name = tracer.tables[oid]
                    if name not in strongest or LOCK_ORDER.index(mode) > LOCK_ORDER.index(
                        strongest[name]
                    ):
                        strongest[name] = mode
            tracer.statements.append(
                StatementTrace(
                    direction=tracer.direction,
                    sql=sql if len(sql) <= 2000 else sql[:2000] + " ...",
                    ms=elapsed,
                    locks=[{"table": t, "mode": m} for t, m in sorted(strongest.items())],
                    rewrites=sorted(
                        tracer.relations[oid]
                        for oid, node in after.nodes.items()
                        if node != before.nodes.get(oid)
                    ),
                    scans=scans,
                    outside_transaction=autocommit,
                )
            )
            return result

        impl._exec = traced

    def _bookkeeping(self, sql: str) -> bool:
        """Alembic's own writes to its version table are not the migration's."""
        return (
            re.match(
                rf"(UPDATE|INSERT INTO|DELETE FROM|CREATE TABLE)\s+"
                rf"{re.escape(self.version_table)}\b",
                sql,
                re.IGNORECASE,
            )
            is not None
        )

    def _state(self, connection) -> _State:
        """relfilenodes, this backend's relation locks and its scans: one round trip."""
        row = connection.exec_driver_sql(
            """
            SELECT pg_backend_pid(),
                   (SELECT coalesce(json_object_agg(oid::int, relfilenode::int), '{}')
                    FROM pg_class WHERE oid = ANY(%(oids)s)),
                   (SELECT coalesce(json_agg(json_build_array(relation::int, mode)), '[]')
                    FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation'
                      AND granted),
                   (SELECT coalesce(json_object_agg(t, pg_stat_get_xact_numscans(t)), '{}')
                    FROM unnest(%(tables)s::oid[]) AS t)
            """,
            {"oids": list(self.relations), "tables": list(self.tables)},
        ).one()
        return _State(
            pid=row[0],
            nodes={int(k): v for k, v in row[1].items()},
            locks={(oid, lock_name(mode)) for oid, mode in row[2]},
            scans={int(k): v for k, v in row[3].items()},
        )


@dataclass
class _State:
    pid: int
    nodes: dict[int, int]
    locks: set[tuple[int, str]]
    scans: dict[int, int]


class _Watcher:
    """Polls pg_locks for another backend while its statement runs outside a transaction."""

    def __init__(self, observer, pid: int, application_name: str, oids: list[int]) -> None:
        self.observer, self.pid, self.oids = observer, pid, oids
        self.application_name = application_name
        self.seen: set[tuple[int, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        with self.observer.cursor() as cursor:
            while not self._stop.is_set():
                cursor.execute(
                    "SELECT l.relation::int, l.mode FROM pg_locks l WHERE l.locktype = "
                    "'relation' AND l.granted AND l.relation = ANY(%s) AND (l.pid = %s OR "
                    "l.pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = %s "
                    "AND %s <> ''))",
                    (self.oids, self.pid, self.application_name, self.application_name),
                )
                self.seen.update((oid, lock_name(mode)) for oid, mode in cursor.fetchall())
                self._stop.wait(0.002)

    def stop(self) -> set[tuple[int, str]]:
        self._stop.set()
        self._thread.join()
        return self.seen
