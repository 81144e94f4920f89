"""Run an Alembic project phase by phase, lock-safely.

The runner is its own Alembic environment: it connects with the project's
``sqlalchemy.url`` (or ``--database-url``), runs each revision in its own
transaction (``transaction_per_migration``), sets ``lock_timeout`` in each
transaction (``SET LOCAL``: safe through PgBouncer in transaction mode) and
retries every statement that hits it. The project's ``env.py`` is
not used, so nothing it imports can get in the way of a rollback.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field

from expandcontract.alembic_integration import internals
from expandcontract.catalog import bookkeeping
from expandcontract.errors import InputError
from expandcontract.ops import execution
from expandcontract.phases import PHASES
from expandcontract.project import Project

log = logging.getLogger("expandcontract")


RUNNER = bookkeeping.RUNNER
PLAIN = "plain"  # the revisions on no phase branch, as status lists them
BASE = "base"  # downgrade base: every phase revision, back to before the changes
# a runner's lease not renewed for this long is taken over (its run was killed)
LEASE_SECONDS = 30

PHASE_LOG = bookkeeping.PHASE_LOG


@dataclass
class PhaseStatus:
    phase: str
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    # runs that started and did not finish: {"revision", "direction", "started_at"}; what
    # they committed (CONCURRENTLY steps, backfill batches) is there, the version is not
    interrupted: list[dict] = field(default_factory=list)
    # pending revisions that wait for a later phase (a change made after an earlier one
    # had gone through it): they neither run nor hold up the later phases until then
    waiting: list[str] = field(default_factory=list)

    @property
    def ready(self) -> list[str]:
        """The pending revisions that may run now."""
        return [r for r in self.pending if r not in self.waiting]


@dataclass
class Gate:
    """Whether a phase may run now, for a deploy pipeline to gate on."""

    phase: str
    pending: list[str]  # this phase's own pending revisions
    blocking: dict[str, list[str]] = field(default_factory=dict)  # earlier phase -> pending
    waiting: str | None = None  # the rollback window that has not passed yet

    @property
    def may_run(self) -> bool:
        return not self.blocking and self.waiting is None

    def as_dict(self) -> dict:
        return {
            "phase": self.phase,
            "may_run": self.may_run,
            "pending": self.pending,
            "blocking": self.blocking,
            "waiting": self.waiting,
        }


class PhaseRunner:
    def __init__(self, project: Project, database_url: str | None = None, settings=None):
        from expandcontract.ops import register

        register()

        self.project = project
        self.alembic = project.config
        self.script = project.load_revisions()
        self.url = project.database_url(database_url)
        self.history = project.history
        from expandcontract.config import Config

        self.settings = settings or Config()
        self.wait = False  # queue behind another runner rather than refuse (--wait)

    def revisions_of(self, phase: str) -> list[str]:
        """The revisions on a phase branch, parents first."""
        return self.history.revisions_of(phase)

    def _engine(self):
        from sqlalchemy.pool import NullPool

        from expandcontract.connections import engine

        return engine(self.url, poolclass=NullPool)

    def applied(self, connection) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        env = self.project.env
        heads = MigrationContext.configure(
            connection,
            opts={
                "version_table": env.version_table,
                "version_table_schema": env.version_table_schema,
            },
        ).get_current_heads()
        connection.rollback()
        applied = set(heads)
        for head in heads:
            applied |= self.history.ancestors(head)
        return applied

    def status(self) -> list[PhaseStatus]:
        with self._connect() as connection:
            applied = self.applied(connection)
            last = self._last_runs(connection)
        plain = self.plain_revisions()
        result = [
            PhaseStatus(
                PLAIN,
                [r for r in plain if r in applied],
                [r for r in plain if r not in applied],
            )
        ]
        waiting = self.waiting(applied)
        for phase in PHASES:
            revs = self.revisions_of(phase)
            interrupted = [
                {
                    "revision": r,
                    "direction": last[r][0].removesuffix("-started"),
                    "started_at": last[r][1],
                }
                for r in revs
                if r in last
                and (
                    (last[r][0] == "up-started" and r not in applied)
                    or (last[r][0] == "down-started" and r in applied)
                )
            ]
            pending = [r for r in revs if r not in applied]
            result.append(
                PhaseStatus(
                    phase,
                    [r for r in revs if r in applied],
                    pending,
                    interrupted,
                    [r for r in pending if r in waiting],
                )
            )
        return result

    def plain_revisions(self) -> list[str]:
        """The revisions on no phase branch (the project's own, before or beside the
        phases), parents first."""
        history = self.history
        return [r for r in history.topological() if history.phase_of(history.get(r)) is None]

    def invalid_indexes(self) -> list[tuple[str, str]]:
        """INVALID indexes (index, table): what an interrupted CONCURRENTLY build leaves."""
        from expandcontract.catalog.activity import invalid_indexes

        with self._connect() as connection:
            return invalid_indexes(connection)

    def waiting(self, applied: set[str]) -> set[str]:
        """The revisions not applied that cannot run in this round of the phases (expand,
        migrate, switch, contract, in order): each needs, itself or through what it needs,
        a revision of a later phase than its own that is not applied. Autogenerate makes
        a change depend on the later phases of the change it was made after, so it waits
        for them; nothing else ever does. Unphased revisions run along, as Alembic does."""
        history = self.history
        order = {phase: i for i, phase in enumerate(PHASES)}

        def index(rev: str) -> int:  # -1: unphased
            meta = history.revisions.get(rev)
            return order.get(history.phase_of(meta), -1) if meta else -1

        pending = [r for r in history.revisions if r not in applied]
        needs = {r: history.ancestors(r) - applied for r in pending}
        blocked = {
            r for r in pending if index(r) >= 0 and any(index(a) > index(r) for a in needs[r])
        }
        return {r for r in pending if r in blocked or needs[r] & blocked}

    def _last_runs(self, connection) -> dict[str, tuple[str, str]]:
        """Each revision's latest phase-log entry: (direction, when, ISO 8601)."""
        from sqlalchemy import text

        if not bookkeeping.exists(connection, PHASE_LOG):
            connection.rollback()
            return {}
        rows = connection.execute(
            text(
                f"SELECT DISTINCT ON (revision) revision, direction, "
                f"to_char(at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF') FROM {PHASE_LOG} "
                "ORDER BY revision, at DESC"
            )
        ).fetchall()
        connection.rollback()
        return {revision: (direction, at) for revision, direction, at in rows}

    def gate(self, phase: str, min_age: float | None = None) -> Gate:
        """May ``phase`` run now? Not while an earlier phase has pending revisions; with
        ``min_age`` (seconds), not before the newest revision of the phase just before it
        was applied that long ago (the rollback window, read from the phase log)."""
        statuses = {s.phase: s for s in self.status()}
        gate = Gate(phase, statuses[phase].pending)
        if statuses[PLAIN].pending:
            gate.blocking[PLAIN] = statuses[PLAIN].pending
        for earlier in PHASES[: PHASES.index(phase)]:
            if statuses[earlier].ready:
                gate.blocking[earlier] = statuses[earlier].ready
        before = PHASES[PHASES.index(phase) - 1] if PHASES.index(phase) else None
        if min_age and before and not gate.blocking and gate.pending:
            applied = statuses[before].applied
            age = self._age(applied) if applied else None
            if applied and age is None:
                gate.waiting = (
                    f"no record of when {before} was applied (the phase log is written by "
                    "`expandcontract upgrade`); cannot tell whether the rollback window passed"
                )
            elif age is not None and age < min_age:
                gate.waiting = (
                    f"{before} was applied {_duration(age)} ago; the rollback window of "
                    f"{_duration(min_age)} has not passed"
                )
        return gate

    def _age(self, revisions: list[str]) -> float | None:
        """Seconds since the newest of ``revisions`` was applied, from the phase log. A
        revision whose run died between its commit and its ``up`` row counts from its
        ``up-started`` row (Alembic's version table says it is applied)."""
        from sqlalchemy import text

        with self._connect() as connection:
            if not bookkeeping.exists(connection, PHASE_LOG):
                return None
            return connection.execute(
                text(
                    "SELECT extract(epoch FROM now() - max(at))::float8 FROM ("
                    "SELECT coalesce(max(at) FILTER (WHERE direction = 'up'), "
                    "max(at) FILTER (WHERE direction = 'up-started')) AS at "
                    f"FROM {PHASE_LOG} WHERE revision = ANY(:revs) GROUP BY revision) applied"
                ),
                {"revs": revisions},
            ).scalar()

    def _log(self, revisions: list[str], phase: str, direction: str) -> None:
        from sqlalchemy import text

        with self._connect() as connection:
            bookkeeping.ensure(connection, PHASE_LOG)
            for revision in revisions:
                connection.execute(
                    text(
                        f"INSERT INTO {PHASE_LOG} (revision, phase, direction) VALUES (:r, :p, :d)"
                    ),
                    {"r": revision, "p": phase, "d": direction},
                )
            connection.commit()

    def _connect(self):
        from sqlalchemy.exc import OperationalError

        engine = self._engine()
        try:
            return engine.connect()
        except OperationalError as err:
            url = engine.url  # host:port/db, never the password
            where = f"{url.host or 'local socket'}:{url.port or 5432}/{url.database or ''}"
            reason = " ".join(str(err.orig).split())
            raise InputError(f"cannot connect to the database at {where}: {reason}") from None

    # --- running -------------------------------------------------------------------------

    def upgrade(self, phase: str, to: str | None = None) -> list[str]:
        with self.exclusive():
            return self._upgrade(phase, to)

    def downgrade(self, phase: str) -> list[str]:
        with self.exclusive():
            return self._downgrade(phase)

    @contextlib.contextmanager
    def exclusive(self):
        """One runner at a time on a database: a lease row (``expandcontract_runner``) the
        run keeps alive every few seconds and deletes when done. No transaction stays
        open meanwhile (an open one would hold a snapshot every CONCURRENTLY build waits
        for) and no session lock (a pooler shares sessions). Another run holding it is
        named (host, pid, for how long); with ``wait`` this one queues behind it. A lease
        not kept alive for ``LEASE_SECONDS`` (a killed run) is taken over."""
        import os
        import socket
        import threading
        import time
        import uuid

        owner = uuid.uuid4().hex
        who = f"{socket.gethostname()} pid {os.getpid()}"
        with self._connect() as connection:
            try:
                bookkeeping.ensure(connection, RUNNER)
            except Exception:  # another runner made it at the same moment: it is there now
                connection.rollback()
                bookkeeping.ensure(connection, RUNNER)
            connection.commit()
            reported = False
            while True:
                holder = _take_lease(connection, owner, who)
                if holder is None:
                    break
                held_by = f"{holder['who']} (since {holder['since']}s ago)"
                if not self.wait:
                    raise InputError(
                        f"another expandcontract runner is applying phases to this database: "
                        f"{held_by}; wait for it to finish, or pass --wait to queue behind it"
                    )
                if not reported:
                    log.info("waiting for %s to finish", held_by)
                    reported = True
                time.sleep(1.0)
        stop = threading.Event()

        def keep_alive() -> None:
            while not stop.wait(LEASE_SECONDS / 6):
                try:
                    with self._connect() as conn:
                        _renew_lease(conn, owner)
                except Exception as err:  # the next beat tries again
                    log.debug("lease heartbeat: %s", err)

        beat = threading.Thread(target=keep_alive, daemon=True)
        beat.start()
        try:
            yield
        finally:
            stop.set()
            beat.join(timeout=5)
            self._release(owner)

    def _release(self, owner: str) -> None:
        """Give the lease back; a connection the server ends at that moment (the run was
        cut short by pg_terminate_backend) is retried, or the lease would stand for
        ``LEASE_SECONDS`` and refuse the rerun."""
        for attempt in range(3):
            try:
                with self._connect() as connection:
                    _release_lease(connection, owner)
                return
            except Exception as err:
                if attempt == 2:
                    log.warning(
                        "could not release the runner lease (%s); it lapses in %ds",
                        err,
                        LEASE_SECONDS,
                    )

    def _upgrade(self, phase: str, to: str | None = None) -> list[str]:
        """Apply every pending revision of ``phase`` but those waiting for a later phase
        (up to revision ``to``); refuse if an earlier phase has revisions that may run
        (of those ``to`` needs, with ``to``)."""
        statuses = {s.phase: s for s in self.status()}
        if phase == PLAIN:
            return self._upgrade_plain(statuses[PLAIN].pending)
        needed = None if to is None else self.history.ancestors(to) | {to}
        # a plain revision this phase does not need would be skipped, unseen: refuse
        mine = set(statuses[phase].ready)
        needs = set().union(*(self.history.ancestors(r) for r in mine)) if mine else set()
        skipped = [r for r in statuses[PLAIN].pending if r not in needs]
        if skipped and mine:
            raise InputError(
                f"cannot upgrade {phase}: plain (non-phase) revisions are pending "
                f"({', '.join(skipped)}); apply them first with `expandcontract upgrade plain` "
                "(they are not zero-downtime phases: `expandcontract lint` them)"
            )
        for earlier in PHASES[: PHASES.index(phase)]:
            pending = [r for r in statuses[earlier].ready if needed is None or r in needed]
            if pending:
                raise InputError(
                    f"cannot upgrade {phase}: {earlier} has pending revisions "
                    f"({', '.join(pending)}); run `expandcontract upgrade {earlier}` first"
                )
        # the branch is linear: what comes after a waiting revision waits for the same
        ready = [r for r in statuses[phase].ready if needed is None or r in needed]
        if not ready:
            return []
        self._log(ready, phase, "up-started")
        if to is not None:
            destination = to
        else:
            destination = f"{phase}@head" if not statuses[phase].waiting else ready[-1]
        self._run(destination, "up")
        self._log(ready, phase, "up")
        return ready

    def _upgrade_plain(self, pending: list[str]) -> list[str]:
        """Apply the pending plain revisions (each as far as its branch goes)."""
        if not pending:
            return []
        ends = [r for r in pending if not any(r in self.history.ancestors(o) for o in pending)]
        self._log(pending, PLAIN, "up-started")
        for end in ends:
            self._run(end, "up")
        self._log(pending, PLAIN, "up")
        return pending

    def _downgrade_all(self, keep: str | None = None) -> list[str]:
        """Undo every applied phase revision (``keep``: all but ``keep`` and what it needs),
        newest phase first, each after whatever depends on it: one command back to before
        the changes."""
        with self._connect() as connection:
            applied = self.applied(connection)
        kept = set() if keep is None else self.history.ancestors(keep) | {keep}
        phase_of = {r: p for p in PHASES for r in self.revisions_of(p)}
        todo = {r for r in applied if r in phase_of and r not in kept}
        done: list[str] = []
        while todo:
            leaves = [
                r for r in todo if not any(r in self.history.ancestors(o) for o in todo - {r})
            ]
            leaves.sort(key=lambda r: (-PHASES.index(phase_of[r]), -self.history.depth(r)))
            target = leaves[0]
            self._log([target], phase_of[target], "down-started")
            self._run(f"{target}@-1", "down", target=target)
            self._log([target], phase_of[target], "down")
            done.append(target)
            todo.discard(target)
        return done

    def _downgrade(self, phase: str) -> list[str]:
        """Undo the newest applied revision of ``phase``; refuse while a later phase of the
        same change is applied. ``base``: every phase revision, in order."""
        if phase == BASE:
            return self._downgrade_all()
        with self._connect() as connection:
            applied = self.applied(connection)
        done = [r for r in self.revisions_of(phase) if r in applied]
        if not done:
            return []
        target = done[-1]
        # a later phase of the same change, or (autogenerate's) a later change made after it
        for other in (*PHASES[PHASES.index(phase) + 1 :], *PHASES[: PHASES.index(phase)]):
            blocking = [
                r
                for r in self.revisions_of(other)
                if r in applied and target in self.history.ancestors(r)
            ]
            if blocking:
                raise InputError(
                    f"cannot downgrade {phase}: {other} revision(s) {', '.join(blocking)} "
                    f"depend on {target}; run `expandcontract downgrade {other}` first"
                )
        self._log([target], phase, "down-started")
        self._run(f"{target}@-1", "down", target=target)
        self._log([target], phase, "down")
        return [target]

    def _run(self, destination: str, direction: str, target: str | None = None) -> None:
        from expandcontract.phases.environment import downgrade_one, run_steps

        script = self.script
        settings = execution.Settings(
            lock_timeout=self.settings.lock_timeout,
            retries=self.settings.lock_retries,
            restart=True,
            wait_timeout=self.settings.wait_timeout,
        )

        def steps(heads):
            if direction == "up":
                return internals.upgrade_steps(script, destination, heads)
            return downgrade_one(script, target)  # exactly the newest revision of the phase

        def prepare(context):
            execution.install(context, settings)
            execution.use_backfill_settings(context, self.settings.batch_settings())

        with self._connect() as connection:
            run_steps(
                self.alembic,
                script,
                connection,
                steps,
                prepare,
                destination,
                self.project.env,
                restart=settings,
            )


def _take_lease(connection, owner: str, who: str) -> dict | None:
    """Take the runner lease; None when taken, else who holds it (and for how long)."""
    from sqlalchemy import text

    got = connection.execute(
        text(
            f"INSERT INTO {RUNNER} (owner, who) VALUES (:o, :w) ON CONFLICT (one) DO UPDATE "
            "SET owner = EXCLUDED.owner, who = EXCLUDED.who, started = now(), heartbeat = now() "
            f"WHERE {RUNNER}.heartbeat < now() - make_interval(secs => :lease) "
            "RETURNING owner"
        ),
        {"o": owner, "w": who, "lease": LEASE_SECONDS},
    ).scalar()
    if got == owner:
        connection.commit()
        return None
    row = (
        connection.execute(
            text(
                f"SELECT owner, who, extract(epoch FROM now() - started)::int AS since "
                f"FROM {RUNNER}"
            )
        )
        .mappings()
        .fetchone()
    )
    connection.rollback()
    if row is None:  # released meanwhile
        return _take_lease(connection, owner, who)
    if _dead_here(row["who"]):
        # a run of this machine that was killed: its lease is void without waiting it out
        connection.execute(text(f"DELETE FROM {RUNNER} WHERE owner = :o"), {"o": row["owner"]})
        connection.commit()
        return _take_lease(connection, owner, who)
    return dict(row)


def _dead_here(who: str) -> bool:
    """Whether a lease's holder ran on this host in a process that no longer exists."""
    import os
    import re
    import socket

    match = re.fullmatch(r"(.*) pid (\d+)", who)
    if not match or match.group(1) != socket.gethostname():
        return False
    try:
        os.kill(int(match.group(2)), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _renew_lease(connection, owner: str) -> None:
    from sqlalchemy import text

    connection.execute(
        text(f"UPDATE {RUNNER} SET heartbeat = now() WHERE owner = :o"), {"o": owner}
    )
    connection.commit()


def _release_lease(connection, owner: str) -> None:
    from sqlalchemy import text

    connection.execute(text(f"DELETE FROM {RUNNER} WHERE owner = :o"), {"o": owner})
    connection.commit()


def _duration(seconds: float) -> str:
    # whole units print bare ("1d", "36h"), as the user writes them, never "1.0d"
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds / 86400:.0f}d"
    if seconds >= 3600:
        hours = seconds / 3600
        return f"{hours:.0f}h" if seconds % 3600 == 0 else f"{hours:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"
