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

from expandcontract.catalog import bookkeeping
from expandcontract.errors import InputError
from expandcontract.ops import execution
from expandcontract.phases import PHASES
from expandcontract.project import Project

log = logging.getLogger("expandcontract")


# the advisory lock one runner holds on a database ('ECRUNNER' as a bigint)
RUNNER_LOCK = 0x4543_5255_4E4E_4552

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
        result = []
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

        if connection.execute(text("SELECT to_regclass(:t)"), {"t": PHASE_LOG}).scalar() is None:
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
        """Seconds since the newest of ``revisions`` was applied, from the phase log."""
        from sqlalchemy import text

        with self._connect() as connection:
            if (
                connection.execute(text("SELECT to_regclass(:t)"), {"t": PHASE_LOG}).scalar()
                is None
            ):
                return None
            return connection.execute(
                text(
                    f"SELECT extract(epoch FROM now() - max(at))::float8 FROM {PHASE_LOG} "
                    "WHERE revision = ANY(:revs) AND direction = 'up'"
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

        try:
            return self._engine().connect()
        except OperationalError as err:
            raise InputError(f"cannot connect to the database: {err.orig}") from None

    # --- running -------------------------------------------------------------------------

    def upgrade(self, phase: str, to: str | None = None) -> list[str]:
        with self.exclusive():
            return self._upgrade(phase, to)

    def downgrade(self, phase: str) -> list[str]:
        with self.exclusive():
            return self._downgrade(phase)

    @contextlib.contextmanager
    def exclusive(self):
        """One runner at a time on a database: a transaction-level advisory lock, held on a
        connection of its own for the whole run (through PgBouncer in transaction mode
        too: the open transaction keeps its server connection). Another runner holding it
        is named (host, pid, for how long); with ``wait`` this one queues behind it."""
        import os
        import socket

        from sqlalchemy import text

        from expandcontract.catalog.activity import advisory_holder

        name = f"expandcontract runner {socket.gethostname()} pid {os.getpid()}"[:63]
        engine = self._engine()
        try:
            connection = engine.connect()
        except Exception as err:
            reason = getattr(err, "orig", err)
            raise InputError(f"cannot connect to the database: {reason}") from None
        with connection:
            connection.execute(text("SELECT set_config('application_name', :n, true)"), {"n": name})
            connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 0"))
            got = connection.execute(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": RUNNER_LOCK}
            ).scalar()
            if not got:
                holder = advisory_holder(connection, RUNNER_LOCK)
                who = (
                    f"{holder['application_name'] or 'a session'} (pid {holder['pid']} from "
                    f"{holder['client']}, for {holder['seconds']}s)"
                    if holder
                    else "another session"
                )
                if not self.wait:
                    raise InputError(
                        f"another expandcontract runner is applying phases to this database: "
                        f"{who}; wait for it to finish, or pass --wait to queue behind it"
                    )
                log.info("waiting for %s to finish", who)
                connection.execute(text("SET LOCAL lock_timeout = 0"))
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": RUNNER_LOCK})
            try:
                yield
            finally:
                connection.rollback()
        engine.dispose()

    def _upgrade(self, phase: str, to: str | None = None) -> list[str]:
        """Apply every pending revision of ``phase`` but those waiting for a later phase
        (up to revision ``to``); refuse if an earlier phase has revisions that may run
        (of those ``to`` needs, with ``to``)."""
        statuses = {s.phase: s for s in self.status()}
        needed = None if to is None else self.history.ancestors(to) | {to}
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

    def _downgrade(self, phase: str) -> list[str]:
        """Undo the newest applied revision of ``phase``; refuse while a later phase of the
        same change is applied."""
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
        )

        def steps(heads):
            if direction == "up":
                return script._upgrade_revs(destination, heads)
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


def _duration(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:.1f}d"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    if seconds >= 60:
        return f"{seconds / 60:.0f}m"
    return f"{seconds:.0f}s"
