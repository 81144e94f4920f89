"""Randomized interleavings of both versions' writes and the phases, on real PostgreSQL.

:func:`check` runs a Hypothesis state machine over one :class:`Scenario`: every
example starts from a fresh copy of the scenario's database at its base revision
and takes steps drawn at random: an insert, update, delete or unrelated update by
either version (wherever the contract lets it run), a phase up or down (through
the same runner ``expandcontract upgrade`` uses), the backfill running while both
versions write, or a phase killed half-way and run again. After every step, every
row is read the way each running version reads it and compared with the model.
A failure shrinks to the shortest list of steps that shows it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from expandcontract.catalog import activity
from expandcontract.checker.model import DEFAULT, NULL, OMIT, UNFILLED, Model, Oracle


@dataclass
class Scenario:
    """One change to check: its Alembic project (at its base revision on ``template``),
    and how to model it."""

    name: str
    project: Path | object  # the alembic.ini, or a loaded Project
    server: str  # admin conninfo of the server the databases live on
    template: str  # a database at the base revision, with the scenario's rows
    model: Callable[[Oracle], Model]  # a fresh model for a fresh copy
    values: dict[str, object]  # version -> a Hypothesis strategy of values it writes
    first_id: int = 1_000_000
    inserts: bool = True  # rows can be inserted (an integer key, no other required value)
    # the change's revision on each phase, in a project with more than this change
    revisions: dict[str, str] | None = None


@dataclass
class Violation(AssertionError):
    """A read that differs from the contract, or a step that did what it must not."""

    message: str
    steps: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message + ("\n  after: " + "\n    ".join(self.steps) if self.steps else "")


def _fresh(scenario: Scenario) -> tuple[str, str]:
    """A new database copied from the scenario's template: (its name, its conninfo)."""
    import psycopg

    name = f"ec_check_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(scenario.server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{scenario.template}"')
    return name, psycopg.conninfo.make_conninfo(scenario.server, dbname=name)


def _drop(scenario: Scenario, name: str) -> None:
    import psycopg

    with psycopg.connect(scenario.server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine_for(scenario: Scenario):
    """The state machine class for ``scenario``."""
    import psycopg
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        initialize,
        invariant,
        precondition,
        rule,
    )

    from expandcontract.config import Config
    from expandcontract.phases.runner import PhaseRunner
    from expandcontract.project import Project
    from expandcontract.urls import sqlalchemy_url

    project = (
        scenario.project
        if isinstance(scenario.project, Project)
        else Project.load(scenario.project)
    )
    settings = Config(
        backfill_batch_size=3, backfill_batch_time=0, backfill_pause=0.001, lock_timeout="5s"
    )

    class ContractMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.database, conninfo = _fresh(scenario)
            self.app_name = f"ec_runner_{uuid.uuid4().hex[:8]}"
            url = sqlalchemy_url(conninfo)
            sep = "&" if "?" in url else "?"
            self.runner = PhaseRunner(
                project, f"{url}{sep}application_name={self.app_name}", settings
            )
            self.conn = psycopg.connect(conninfo, autocommit=True, prepare_threshold=None)
            self.model = scenario.model(Oracle(self.conn))
            for row, value in self.conn.execute(self.model.seed_sql()):
                self.model.seed(row, value)
            self.next_id = scenario.first_id
            self.steps: list[str] = []

        def teardown(self) -> None:
            self.conn.close()
            _drop(scenario, self.database)

        @initialize(data=st.data())
        def start_somewhere(self, data) -> None:
            """Begin some phases in, the new version writing between them: most of what the
            contract says happens between two phases, not before the first."""
            for _ in range(data.draw(st.integers(0, len(self.model.phases)))):
                writes = data.draw(st.integers(0, 2)) if self.model.running() else 0
                for _ in range(writes if scenario.inserts else 0):
                    self.insert(data)
                for _ in range(writes if self.model.rows else 0):
                    self.update(data)
                self.upgrade()

        # --- the applications ------------------------------------------------------------

        def _write(self, version: str, action: str, row: int, value) -> None:
            write = self.model.write(version, action, row, value)
            self.steps.append(f"{version} {action} {row} {value!r}")
            try:
                with self.conn.transaction():
                    self.conn.execute(write.sql, write.params)
                succeeded, error = True, None
            except psycopg.Error as err:
                succeeded, error = False, str(err).splitlines()[0]
            if write.fails and succeeded:
                raise Violation(
                    f"{version}'s {action} of {value!r} succeeded: it must fail", self.steps
                )
            if not write.fails and not succeeded:
                raise Violation(f"{version}'s {action} of {value!r} failed: {error}", self.steps)
            if succeeded and write.apply is not None:
                write.apply()

        @precondition(lambda self: scenario.inserts and bool(self.model.running()))
        @rule(data=st.data())
        def insert(self, data) -> None:
            version = data.draw(st.sampled_from(sorted(self.model.running())))
            value = data.draw(scenario.values[version])
            self.next_id += 1
            self._write(version, "insert", self.next_id, value)

        @precondition(lambda self: bool(self.model.rows) and bool(self.model.running()))
        @rule(data=st.data())
        def update(self, data) -> None:
            version = data.draw(st.sampled_from(sorted(self.model.running())))
            row = data.draw(st.sampled_from(sorted(self.model.rows)))
            action = data.draw(st.sampled_from(["update", "update", "touch", "delete"]))
            value = data.draw(scenario.values[version]) if action == "update" else None
            if action == "update" and value == OMIT:
                value = DEFAULT
            self._write(version, action, row, value)

        # --- the phases ------------------------------------------------------------------

        def _run(self, direction: str, phase: str) -> str | None:
            """Run one phase each way through the runner; the error's first line, if any."""
            try:
                if direction == "up":
                    to = scenario.revisions.get(phase) if scenario.revisions else None
                    self.runner.upgrade(phase, to=to)
                else:
                    self.runner.downgrade(phase)
            except Exception as err:
                orig = getattr(err, "orig", None) or err
                return f"{type(orig).__name__}: {str(orig).strip().splitlines()[0]}"
            return None

        def _phase(self, direction: str, run: Callable[[str], str | None]) -> None:
            model = self.model
            phase = (
                model.phases[model.applied]
                if direction == "up"
                else model.phases[model.applied - 1]
            )
            self.steps.append(f"{phase} {direction}")
            allowed = (
                model.step(phase, direction) if direction == "up" else model.step(phase, "down")
            )
            error = run(phase)
            if allowed and error:
                raise Violation(f"{direction}grade {phase} failed: {error}", self.steps)
            if not allowed:
                if not error:
                    raise Violation(f"{direction}grade {phase} succeeded: it must fail", self.steps)
                return
            model.applied += 1 if direction == "up" else -1

        @precondition(lambda self: self.model.applied < len(self.model.phases))
        @rule()
        def upgrade(self) -> None:
            self._phase("up", lambda phase: self._run("up", phase))

        @precondition(lambda self: self.model.applied > 0)
        @rule()
        def downgrade(self) -> None:
            self._phase("down", lambda phase: self._run("down", phase))

        @precondition(
            lambda self: (
                self.model.applied < len(self.model.phases)
                and self.model.phases[self.model.applied] == "migrate"
            )
        )
        @rule(data=st.data(), count=st.integers(1, 8))
        def migrate_while_writing(self, data, count: int) -> None:
            """The backfill runs while both versions insert and update."""
            writes = []
            for _ in range(count if self.model.running() else 0):
                version = data.draw(st.sampled_from(sorted(self.model.running())))
                writes.append((version, data.draw(scenario.values[version])))

            def run(phase: str) -> str | None:
                outcome: list = []
                thread = threading.Thread(target=lambda: outcome.append(self._run("up", phase)))
                thread.start()
                for version, value in writes:
                    rows = sorted(self.model.rows)
                    if rows and value not in (OMIT,):
                        self._write(version, "update", rows[len(rows) // 2], value)
                    if scenario.inserts:
                        self.next_id += 1
                        self._write(version, "insert", self.next_id, value)
                thread.join()
                return outcome[0]

            self._phase("up", run)

        @precondition(lambda self: self.model.applied < len(self.model.phases))
        @rule(delay=st.sampled_from([0.0, 0.01, 0.05, 0.2]))
        def killed_and_rerun(self, delay: float) -> None:
            """The runner's connections are killed after ``delay``; a rerun finishes it."""

            def run(phase: str) -> str | None:
                thread = threading.Thread(target=lambda: self._run("up", phase))
                thread.start()
                time.sleep(delay)
                self.conn.execute(activity.TERMINATE_APPLICATION, (self.app_name,))
                thread.join()
                return self._run("up", phase)

            self._phase("up", run)

        # --- what each version reads -----------------------------------------------------

        @invariant()
        def reads(self) -> None:
            for version in sorted(self.model.running()):
                got = dict(self.conn.execute(self.model.read_sql(version)).fetchall())
                want = self.model.expected(version)
                if set(got) != set(want):
                    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
                    raise Violation(
                        f"{version} reads rows {extra} it should not, misses {missing}", self.steps
                    )
                for row, value in want.items():
                    if value == UNFILLED:
                        if got[row] is not None:
                            raise Violation(
                                f"{version} reads {got[row]!r} in row {row}, not yet backfilled",
                                self.steps,
                            )
                    elif got[row] != value:
                        raise Violation(
                            f"{version} reads {got[row]!r} in row {row}; the contract says "
                            f"{value!r} ({self.model.state})",
                            self.steps,
                        )

    ContractMachine.__name__ = f"Contract_{scenario.name}"
    return ContractMachine


def check(
    scenario: Scenario,
    examples: int = 5,
    steps: int = 25,
    derandomize: bool = False,
    shrink_seconds: int = 120,
) -> None:
    """Run the checker; raises :class:`Violation` (shrunk, for at most ``shrink_seconds``:
    every replay copies a database) when the contract does not hold. Hypothesis' own
    notes go to stderr: stdout carries reports."""
    import contextlib
    import sys

    from hypothesis import HealthCheck, settings
    from hypothesis.internal.conjecture import engine
    from hypothesis.stateful import run_state_machine_as_test

    # Hypothesis stops shrinking after five minutes; a database per replay makes that long
    if hasattr(engine, "MAX_SHRINKING_SECONDS"):
        engine.MAX_SHRINKING_SECONDS = shrink_seconds
    options = settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    with contextlib.redirect_stdout(sys.stderr):
        run_state_machine_as_test(machine_for(scenario), settings=options)


__all__ = ["DEFAULT", "NULL", "OMIT", "Scenario", "Violation", "check"]
