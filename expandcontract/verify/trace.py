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

from expandcontract.alembic_integration import internals
from expandcontract.catalog import tracing
from expandcontract.ops import execution
from expandcontract.ops.execution import describe
from expandcontract.sql.postgres.facts import LOCK_ORDER

BLOCKING = ("ACCESS EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE", "EXCLUSIVE")


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
        self.nodes: dict[int, int] = {}
        self.touched: set[int] = set()  # the tables any traced statement locked
        self.direct: bool | None = None  # whether the migration's connection has no pooler

    def know(self, relations: list[tuple[int, str, str, int]]) -> None:
        """Remember which tables and indexes exist before the revision runs: (oid, name,
        relkind, relfilenode) from the catalog listing; bookkeeping tables left out."""
        ours = [
            r
            for r in relations
            if r[1] != self.version_table and not r[1].startswith("expandcontract_")
        ]
        self.relations = {oid: name for oid, name, kind, _ in ours if kind in "rpmiI"}
        self.tables = {oid: name for oid, name, kind, _ in ours if kind in ("r", "p", "m")}
        self.nodes = {oid: node for oid, _, _, node in ours}  # relfilenodes, kept current

    def install(self, context) -> None:
        """Trace every statement on ``context``; ``self.direction`` says which way it runs."""
        impl = context.impl
        internals.wrap_statement_executor(impl, lambda original: self._traced(impl, original))

    def _traced(self, impl, original):
        tracer = self

        def traced(construct, *args, **kwargs):
            connection = impl.connection
            autocommit = execution.autocommit(connection)
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
            after = tracer._state(connection, [oid for oid, _ in seen])
            new_locks = seen if autocommit else after.locks - before.locks
            tracer.touched.update(oid for oid, _ in new_locks if oid in tracer.tables)
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
                    rewrites=tracer._rewritten(after.nodes),
                    scans=scans,
                    outside_transaction=autocommit,
                )
            )
            return result

        return traced

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

    def _rewritten(self, nodes: dict[int, int]) -> list[str]:
        """The relations whose relfilenode moved since last seen; remembers the new ones."""
        moved = sorted(
            self.relations[oid]
            for oid, node in nodes.items()
            if oid in self.relations and node != self.nodes.get(oid)
        )
        self.nodes.update(nodes)
        return moved

    def _state(self, connection, also: list[int] = ()) -> _State:
        """This backend's relation locks, and the relfilenodes and scans of what it holds
        locked (a rewrite or a scan takes a lock first) and of ``also``: one round trip
        whose cost does not grow with the schema, prepared when the connection talks to
        its backend directly (no pooler)."""
        raw = connection.connection.driver_connection
        row = raw.execute(
            tracing.STATE,
            {"also": list(also)},
            prepare=self.direct,
        ).fetchone()
        if self.direct is None:  # the first reading tells
            self.direct = row[0] == raw.info.backend_pid
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
                    tracing.LOCKS_OF_OTHER,
                    (self.oids, self.pid, self.application_name, self.application_name),
                )
                self.seen.update((oid, lock_name(mode)) for oid, mode in cursor.fetchall())
                self._stop.wait(0.002)

    def stop(self) -> set[tuple[int, str]]:
        self._stop.set()
        self._thread.join()
        return self.seen


# lock modes by what they can mean: rows written, or a definition changed (any DDL takes
# SHARE UPDATE EXCLUSIVE or stronger on what it changes)
_WRITING_MODES = (
    "RowExclusiveLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
_DDL_MODES = (
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)
_NAME = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
# the target of a data-changing statement, wherever it stands in the text
_DML_TARGET = re.compile(
    rf"\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|MERGE\s+INTO|COPY)"
    rf"\s+(?:ONLY\s+)?({_NAME}(?:\s*\.\s*{_NAME})?)",
    re.IGNORECASE,
)
# statements whose writes their text does not show
_OPAQUE = re.compile(r"^\s*(?:DO|CALL|EXECUTE|WITH)\b", re.IGNORECASE)
# statements outside a transaction whose changes to definitions the listing shows (a new
# or dropped index, an enum label) or that change none
_LISTED = re.compile(
    r"^\s*(?:BEGIN|START|COMMIT|END|ROLLBACK|SET|RESET|SHOW|SELECT|VALUES|INSERT|UPDATE|"
    r"DELETE|TRUNCATE|COPY|MERGE|VACUUM|ANALYZE|CREATE\s+(?:UNIQUE\s+)?INDEX|DROP\s+INDEX|"
    r"REINDEX|ALTER\s+TYPE\s+\S+\s+ADD\s+VALUE)\b",
    re.IGNORECASE,
)


class StepWatch:
    """What a step may have changed, seen on every connection of the migration's engine
    (Alembic's executor, ``get_bind()``, backfill workers): the tables whose rows it may
    have written and the relations whose definition it may have changed.

    Inside a transaction the answer is exact: just before each COMMIT, the backend's own
    locks (cascades and triggers included). A statement outside a transaction holds no
    lock afterwards, so its text is read instead: the target of each INSERT / UPDATE /
    DELETE / TRUNCATE / MERGE / COPY, then the tables that follow from those by cascading
    foreign keys; a ``DO`` or ``CALL`` block, or a written table with triggers of its own,
    means any table. Such a statement that is not DML, an index or an enum label (which
    the catalog listing shows) makes the step ``opaque``: every definition is re-read."""

    def __init__(self) -> None:
        self.reset()
        self._lock = threading.Lock()

    def reset(self) -> None:
        self.oids: set[int] = set()  # rows maybe written
        self.defined: set[int] = set()  # definitions maybe changed
        self.names: set[str] = set()
        self.anything = False
        self.opaque = False

    @classmethod
    def everything(cls) -> StepWatch:
        """A step that may have changed anything (a revision's own seed)."""
        watch = cls()
        watch.anything = watch.opaque = True
        return watch

    def install(self, engine) -> None:
        from sqlalchemy import event

        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if conn.in_transaction() and not execution.autocommit(conn):
            return  # the locks tell at commit
        targets = [m.group(1) for m in _DML_TARGET.finditer(statement)]
        pieces = [p for p in statement.split(";") if p.strip()]
        with self._lock:
            self.names.update(targets)
            if _OPAQUE.match(statement):
                self.anything = self.opaque = True
            if not all(_LISTED.match(p) for p in pieces):
                self.opaque = True

    def _commit(self, conn) -> None:
        raw = conn.connection.driver_connection
        rows = raw.execute(
            tracing.LOCKS_HELD,
            prepare=False,
        ).fetchall()
        with self._lock:
            self.oids.update(oid for oid, mode in rows if mode in _WRITING_MODES)
            self.defined.update(oid for oid, mode in rows if mode in _DDL_MODES)

    def written(self, observer) -> set[int] | None:
        """The oids of the tables maybe written since the last reset; None: any table."""
        with self._lock:
            oids, names, anything = set(self.oids), set(self.names), self.anything
        if anything:
            return None
        if names:
            resolved = observer.execute(
                tracing.RESOLVE,
                (sorted(names),),
            ).fetchall()
            by_text = {oid for (oid,) in resolved if oid}
            # what those writes set off: a table's own triggers may write anywhere
            if (
                by_text
                and observer.execute(
                    tracing.HAS_TRIGGERS,
                    (sorted(by_text),),
                ).fetchone()
            ):
                return None
            oids |= by_text
            frontier = by_text
            while frontier:  # and cascading foreign keys change the rows that point at them
                found = {
                    oid
                    for (oid,) in observer.execute(
                        tracing.CASCADING_FROM,
                        (sorted(frontier),),
                    ).fetchall()
                }
                frontier = found - oids
                oids |= found
        return oids
