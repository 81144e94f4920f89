"""Run an Alembic project phase by phase, lock-safely.

The runner is its own Alembic environment: it connects with the project's
``sqlalchemy.url`` (or ``--database-url``), runs each revision in its own
transaction (``transaction_per_migration``), sets ``lock_timeout`` on the
session and retries every statement that hits it. The project's ``env.py`` is
not used, so nothing it imports can get in the way of a rollback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from expandcontract.alembic_integration import execution
from expandcontract.alembic_integration.revisions import PHASES, load_history, phase_of
from expandcontract.errors import InputError

log = logging.getLogger("expandcontract")


def sqlalchemy_url(url: str) -> str:
    """Use psycopg 3 for a plain ``postgresql://`` URL."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass
class PhaseStatus:
    phase: str
    applied: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


class PhaseRunner:
    def __init__(self, config_file: Path, database_url: str | None = None, settings=None):
        import expandcontract.alembic_integration.operations  # noqa: F401  (op.* ops)
        from expandcontract.alembic_integration.environment import load_config, load_script

        self.alembic = load_config(config_file)
        self.script = load_script(self.alembic, config_file)
        url = database_url or self.alembic.get_main_option("sqlalchemy.url")
        if not url:
            raise InputError(f"{config_file}: no sqlalchemy.url; set it or pass --database-url")
        self.url = sqlalchemy_url(url)
        self.history = load_history(Path(self.script.versions))
        from expandcontract.config import Config

        self.settings = settings or Config()

    # --- what is where -------------------------------------------------------------------

    def revisions_of(self, phase: str) -> list[str]:
        """The revisions on a phase branch, parents first."""
        revs = [r for r, m in self.history.items() if phase_of(m, self.history) == phase]

        def depth(rev: str) -> int:
            steps, meta = 0, self.history.get(rev)
            while meta is not None and meta.down_revisions:
                meta = self.history.get(meta.down_revisions[0])
                steps += 1
            return steps

        return sorted(revs, key=depth)

    def _engine(self):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        return create_engine(self.url, poolclass=NullPool)

    def applied(self, connection) -> set[str]:
        from alembic.runtime.migration import MigrationContext

        heads = MigrationContext.configure(connection).get_current_heads()
        connection.rollback()
        seen: set[str] = set()
        stack = list(heads)
        while stack:
            rev = stack.pop()
            if rev in seen:
                continue
            seen.add(rev)
            script = self.script.get_revision(rev)
            if script is not None:
                stack.extend(script._all_down_revisions)
        return seen

    def status(self) -> list[PhaseStatus]:
        with self._connect() as connection:
            applied = self.applied(connection)
        result = []
        for phase in PHASES:
            revs = self.revisions_of(phase)
            result.append(
                PhaseStatus(
                    phase,
                    [r for r in revs if r in applied],
                    [r for r in revs if r not in applied],
                )
            )
        return result

    def _connect(self):
        from sqlalchemy.exc import OperationalError

        try:
            return self._engine().connect()
        except OperationalError as err:
            raise InputError(f"cannot connect to the database: {err.orig}") from None

    # --- running -------------------------------------------------------------------------

    def upgrade(self, phase: str) -> list[str]:
        """Apply every pending revision of ``phase``; refuse if an earlier phase is pending."""
        statuses = {s.phase: s for s in self.status()}
        for earlier in PHASES[: PHASES.index(phase)]:
            pending = statuses[earlier].pending
            if pending:
                raise InputError(
                    f"cannot upgrade {phase}: {earlier} has pending revisions "
                    f"({', '.join(pending)}); run `expandcontract upgrade {earlier}` first"
                )
        pending = statuses[phase].pending
        if not pending:
            return []
        self._run(f"{phase}@head", "up")
        return pending

    def downgrade(self, phase: str) -> list[str]:
        """Undo the newest applied revision of ``phase``; refuse while a later phase of the
        same change is applied."""
        with self._connect() as connection:
            applied = self.applied(connection)
        done = [r for r in self.revisions_of(phase) if r in applied]
        if not done:
            return []
        target = done[-1]
        for later in PHASES[PHASES.index(phase) + 1 :]:
            blocking = [
                r for r in self.revisions_of(later) if r in applied and target in self._ancestors(r)
            ]
            if blocking:
                raise InputError(
                    f"cannot downgrade {phase}: {later} revision(s) {', '.join(blocking)} "
                    f"depend on {target}; run `expandcontract downgrade {later}` first"
                )
        self._run(f"{target}@-1", "down", target=target)
        return [target]

    def _ancestors(self, rev: str) -> set[str]:
        seen: set[str] = set()
        stack = [rev]
        while stack:
            current = stack.pop()
            script = self.script.get_revision(current)
            for down in script._all_down_revisions if script is not None else ():
                if down not in seen:
                    seen.add(down)
                    stack.append(down)
        return seen

    def _run(self, destination: str, direction: str, target: str | None = None) -> None:
        from sqlalchemy import text

        from expandcontract.alembic_integration.backfill import BatchSettings
        from expandcontract.alembic_integration.environment import downgrade_one, run_steps

        script = self.script
        settings = execution.Settings(
            lock_timeout=self.settings.lock_timeout, retries=self.settings.lock_retries
        )

        def steps(heads):
            if direction == "up":
                return script._upgrade_revs(destination, heads)
            return downgrade_one(script, target)  # exactly the newest revision of the phase

        def prepare(context):
            execution.install(context, settings, set_timeout=False)
            context._expandcontract_backfill = BatchSettings(
                self.settings.backfill_batch_size, self.settings.backfill_pause
            )

        with self._connect() as connection:
            connection.execute(text(f"SET lock_timeout = '{settings.lock_timeout}'"))
            connection.commit()
            run_steps(self.alembic, script, connection, steps, prepare, destination)
