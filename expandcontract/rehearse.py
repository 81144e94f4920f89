"""Rehearse a change under live traffic: the phases, and the naive one-step migration.

On a throwaway database (the backends of ``verify``) with everything before the
change applied and the tables seeded, a workload of the old and the new
application version keeps reading and writing while each phase is applied and
then undone, in reverse; the report gives, per phase and direction, the queries,
the failed ones (with their errors), latency percentiles, the longest time any
query waited on a lock, throughput as a share of the baseline, and how long the
phase itself took. ``--naive`` runs an ordinary one-step revision of the same
change under the same load, the way it would run without expandcontract.

The workload file is plain Python, with SQLAlchemy connections::

    def seed(connection, rows):   # optional: fill the tables (default: from column types)
        ...
    def old_app(connection, i):   # one unit of the old version's reads and writes
        ...
    def new_app(connection, i):   # the same for the new version
        ...
    def check(connection):        # optional: rows off the two-version contract (a count)
        ...
    def naive_new_app(connection, i):  # optional: the new version against the naive schema
        ...
    WORKERS = 4                   # optional: concurrent connections
"""

from __future__ import annotations

import contextlib
import importlib.util
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from expandcontract.catalog import activity
from expandcontract.errors import InputError
from expandcontract.phases import PHASES, VERSIONS_RUNNING
from expandcontract.project import Project

# which versions run while a phase is applied, and once it is
DURING = {phase: set(versions) for phase, versions in VERSIONS_RUNNING.items()}
AFTER = DURING
# undoing a phase: the state returns to the previous phase's
# undoing a phase (a rollback): contract is undone before the old version comes back
DURING_DOWN = {
    "contract": {"new"},
    "switch": {"old", "new"},
    "migrate": {"old"},
    "expand": {"old"},
}
AFTER_DOWN = {"contract": {"old", "new"}, "switch": {"old"}, "migrate": {"old"}, "expand": {"old"}}


@dataclass
class Sample:
    t: float
    app: str
    ms: float
    error: str | None = None


@dataclass
class Window:
    phase: str
    direction: str
    start: float
    phase_end: float = 0.0
    end: float = 0.0
    error: str | None = None
    violations: int | None = None  # rows the workload's check() found off the contract


@dataclass
class PhaseReport:
    phase: str
    direction: str
    queries: int
    failed: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    max_lock_wait_ms: float
    throughput_ratio: float
    seconds: float
    errors: list[str] = field(default_factory=list)
    deadlocks: int = 0  # failed queries the deadlock detector killed
    # rows whose value differs from what the two-version contract says, as the workload's
    # check(connection) counts them at the end of the window (None: it has none)
    contract_violations: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RehearsalReport:
    database: str
    rows: int
    baseline: PhaseReport | None = None
    phases: list[PhaseReport] = field(default_factory=list)
    naive: PhaseReport | None = None
    naive_downgrade: PhaseReport | None = None
    interrupted: str | None = None
    samples: list[Sample] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)

    @property
    def off_contract(self) -> int:
        """Rows the workload's check found off the two-version contract, over every phase."""
        return sum(p.contract_violations or 0 for p in self.phases)

    @property
    def failed(self) -> int:
        return sum(p.failed for p in self.phases)

    def as_dict(self) -> dict:
        return {
            "phases": [p.as_dict() for p in self.phases],
            "naive": self.naive.as_dict() if self.naive else None,
            "naive_downgrade": self.naive_downgrade.as_dict() if self.naive_downgrade else None,
            "baseline": self.baseline.as_dict() if self.baseline else None,
            "rows": self.rows,
            "database": self.database,
            "interrupted": self.interrupted,
        }


def load_workload(path: Path):
    if not path.is_file():
        raise InputError(f"{path}: no such workload file")
    spec = importlib.util.spec_from_file_location("expandcontract_workload", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        raise InputError(
            f"{path}: the workload does not load: {type(err).__name__}: {err}"
        ) from None
    for name in ("old_app", "new_app"):
        if not callable(getattr(module, name, None)):
            raise InputError(f"{path}: the workload must define {name}(connection, i)")
    workers = getattr(module, "WORKERS", 4)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 64:
        raise InputError(f"{path}: WORKERS must be a whole number from 1 to 64, not {workers!r}")
    return module


class Load:
    """Worker threads running the active app versions' units of work, timing each."""

    def __init__(self, engine, workload, workers: int) -> None:
        self.engine, self.workload, self.workers = engine, workload, workers
        self.samples: list[Sample] = []
        self.apps: tuple[str, ...] = ("old",)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(workers)
        ]
        self._lock = threading.Lock()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def set_apps(self, apps: set[str]) -> None:
        self.apps = tuple(sorted(apps, reverse=True))  # "old" before "new"

    def stop(self) -> None:
        """Stop the workers; one stuck in a unit of work that never returns is left behind
        (a daemon thread) after a few seconds, not waited for."""
        self._stop.set()
        deadline = time.monotonic() + 5
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _run(self, worker: int) -> None:
        i = worker
        while not self._stop.is_set():
            apps = self.apps
            app = apps[i % len(apps)]
            fn = self.workload.old_app if app == "old" else self.workload.new_app
            started = time.perf_counter()
            error = None
            try:
                with self.engine.begin() as connection:
                    fn(connection, i)
            except BaseException as err:  # a failed query is the measurement, not a crash;
                # so is a workload that calls sys.exit() or raises KeyboardInterrupt itself
                orig = getattr(err, "orig", None) or err
                text = str(orig).strip()
                error = f"{type(orig).__name__}: {text.splitlines()[0][:200] if text else ''}"
            elapsed = (time.perf_counter() - started) * 1000
            with self._lock:
                self.samples.append(Sample(time.monotonic(), app, elapsed, error))
            i += self.workers
            if error:
                time.sleep(0.01)  # a broken app retries, but does not spin


class _Swapped:
    """The workload with another new-version unit of work."""

    def __init__(self, workload, new_app) -> None:
        self.old_app, self.new_app = workload.old_app, new_app


class LockMonitor:
    """Polls pg_stat_activity for queries waiting on a lock in the database."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.waits: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        import psycopg

        from expandcontract.connections import connect

        with (
            contextlib.suppress(psycopg.Error),
            connect(self.conninfo, autocommit=True) as conn,
        ):
            while not self._stop.is_set():
                row = conn.execute(activity.LOCK_WAIT).fetchone()
                self.waits.append((time.monotonic(), float(row[0]) * 1000))
                self._stop.wait(0.01)


def summarize(
    label: str,
    direction: str,
    samples: list[Sample],
    waits,
    start: float,
    end: float,
    phase_seconds: float,
    baseline_rate: float | None,
) -> PhaseReport:
    window = [s for s in samples if start <= s.t <= end]
    latencies = sorted(s.ms for s in window)
    failed = [s for s in window if s.error]

    def pct(q: float) -> float:
        if not latencies:
            return 0.0
        if len(latencies) < 2:
            return latencies[0]
        return statistics.quantiles(latencies, n=100, method="inclusive")[int(q) - 1]

    rate = len(window) / max(end - start, 1e-6)
    errors = sorted({s.error for s in failed if s.error})[:5]
    return PhaseReport(
        phase=label,
        direction=direction,
        queries=len(window),
        failed=len(failed),
        p50_ms=round(pct(50), 2),
        p95_ms=round(pct(95), 2),
        p99_ms=round(pct(99), 2),
        max_ms=round(latencies[-1], 2) if latencies else 0.0,
        max_lock_wait_ms=round(max((w for t, w in waits if start <= t <= end), default=0.0), 1),
        throughput_ratio=round(rate / baseline_rate, 3) if baseline_rate else 1.0,
        seconds=round(phase_seconds, 3),
        errors=errors,
        deadlocks=sum(1 for s in failed if "deadlock detected" in (s.error or "")),
    )


class Rehearsal:
    def __init__(
        self,
        project: Project,
        workload_path: Path,
        rows: int,
        duration: float,
        naive: Path | None,
        settings,
        progress=None,
    ) -> None:
        from expandcontract.ops import register

        register()

        self.project = project
        self.alembic = project.config
        self.script = project.load_revisions()
        self.history = project.history
        self.workload = load_workload(workload_path)
        if naive is not None and not naive.is_file():
            raise InputError(f"{naive}: no such naive revision file")
        self.naive = naive
        self.rows, self.duration, self.settings = rows, duration, settings
        self.progress = progress or (lambda message: None)
        # every revision on the phase branches: the changes to rehearse, parents first
        self.change: dict[str, list[str]] = {}
        for phase in PHASES:
            revs = self.history.revisions_of(phase)
            if revs:
                self.change[phase] = sorted(revs, key=lambda r: len(self.history.ancestors(r)))
        if not self.change:
            raise InputError(
                f"{project.source}: no phase revisions to rehearse "
                "(write them with `expandcontract new`)"
            )

    def run(self, database) -> RehearsalReport:

        from expandcontract.connections import engine as new_engine
        from expandcontract.ops import execution
        from expandcontract.phases.environment import (
            downgrade_one,
            run_steps,
            upgrade_one,
        )

        report = RehearsalReport(database=database.description, rows=self.rows)
        workers = int(getattr(self.workload, "WORKERS", 4))
        engine = new_engine(database.sqlalchemy_url, pool_size=workers + 2)
        migrator = new_engine(database.sqlalchemy_url, pool_size=1)
        change = {r for revs in self.change.values() for r in revs}
        base = [r for r in self.history.topological() if r not in change]
        settings = execution.Settings(self.settings.lock_timeout, self.settings.lock_retries)

        def prepare(context):
            execution.install(context, settings)
            execution.use_backfill_settings(context, self.settings.batch_settings())

        def step(connection, steps, safe=True):
            run_steps(
                self.alembic,
                self.script,
                connection,
                lambda heads: steps,
                prepare if safe else None,
                env=self.project.env,
            )

        self.progress(f"building the schema before the change ({len(base)} revisions)")
        try:
            with migrator.connect() as connection:
                step(connection, [s for r in base for s in upgrade_one(self.script, r)], safe=False)
                self.progress(f"seeding {self.rows:,} rows")
                self._seed(connection)
                connection.commit()
        except Exception as err:
            orig = getattr(err, "orig", None) or err
            report.interrupted = (
                f"preparing the database failed: {type(orig).__name__}: {orig}"
            ).splitlines()[0]
            engine.dispose()
            migrator.dispose()
            return report

        load = Load(engine, self.workload, workers)
        monitor = LockMonitor(database.conninfo)
        monitor.start()
        load.start()
        windows: list[Window] = []
        try:
            self.progress(f"baseline: {self.duration}s of the old version's load")
            baseline = Window("baseline", "up", time.monotonic())
            time.sleep(self.duration)
            baseline.phase_end = baseline.end = time.monotonic()
            windows.append(baseline)
            if not load.samples:  # nothing came back: a measurement of nothing is no pass
                report.interrupted = (
                    f"the workload completed no unit of work in the {self.duration}s baseline "
                    f"({workers} workers): does old_app(connection, i) return?"
                )
                return self._finish(report, windows, load, monitor, engine, migrator)
            broken = [s for s in load.samples if s.error]
            if broken:  # nothing to measure against: the workload fails on its own
                report.interrupted = (
                    f"the workload fails before any migration ran ({len(broken)} failures, "
                    f"e.g. {broken[0].error}); fix the workload first"
                )
                return self._finish(report, windows, load, monitor, engine, migrator)
            plan = [(p, "up") for p in PHASES if p in self.change]
            plan += [(p, "down") for p in reversed(PHASES) if p in self.change]
            with migrator.connect() as connection:
                for phase, direction in plan:
                    up = direction == "up"
                    revisions = self.change[phase] if up else list(reversed(self.change[phase]))
                    load.set_apps((DURING if up else DURING_DOWN)[phase])
                    self.progress(
                        f"{'applying' if up else 'undoing'} {phase} ({', '.join(revisions)})"
                    )
                    window = Window(phase, direction, time.monotonic())
                    windows.append(window)
                    one = upgrade_one if up else downgrade_one
                    try:
                        step(connection, [s for r in revisions for s in one(self.script, r)])
                    except Exception as err:
                        from expandcontract.ops.execution import interrupted

                        window.phase_end = window.end = time.monotonic()
                        if interrupted(err):
                            report.interrupted = "interrupted (Ctrl-C)"
                            break
                        orig = getattr(err, "orig", None) or err
                        window.error = f"{type(orig).__name__}: {orig}".splitlines()[0]
                        report.interrupted = f"{phase} {direction}grade failed: {window.error}"
                        with contextlib.suppress(Exception):
                            connection.rollback()
                        break
                    window.phase_end = time.monotonic()
                    load.set_apps((AFTER if up else AFTER_DOWN)[phase])
                    time.sleep(self.duration)
                    window.end = time.monotonic()
                    window.violations = self._check(engine)
                if self.naive is not None and report.interrupted is None:
                    self._naive(connection, load, windows)
        except KeyboardInterrupt:
            report.interrupted = "interrupted (Ctrl-C)"
        except Exception as err:  # the database went away, or the like: report what we have
            orig = getattr(err, "orig", None) or err
            report.interrupted = f"stopped: {type(orig).__name__}: {orig}".splitlines()[0]
        return self._finish(report, windows, load, monitor, engine, migrator)

    def _check(self, engine) -> int | None:
        """The workload's ``check(connection)``: how many rows differ from what each version
        should read (the two-version contract), in one snapshot while the load goes on."""
        check = getattr(self.workload, "check", None)
        if check is None:
            return None
        with engine.connect() as connection:
            connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ")
            found = int(check(connection))
            connection.rollback()
        return found

    def _finish(self, report, windows, load, monitor, engine, migrator) -> RehearsalReport:
        load.stop()
        monitor.stop()
        engine.dispose()
        migrator.dispose()
        self._summaries(report, windows, load.samples, monitor.waits)
        silent = [p for p in report.phases if p.queries == 0]
        if silent and report.interrupted is None:
            where = ", ".join(f"{p.phase} {p.direction}" for p in silent)
            report.interrupted = (
                f"no unit of work completed during {where}: the workload hung or stopped, "
                "so those phases measured nothing"
            )
        return report

    def _naive(self, connection, load: Load, windows: list[Window]) -> None:
        """The one-step revision as an ordinary deploy runs it: no lock_timeout, no retry,
        the old version running until it is applied and the new one from then on."""
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext
        from sqlalchemy import text

        # the new version's queries for the naive schema, where they differ from the phased one
        naive_new = getattr(self.workload, "naive_new_app", None)
        if callable(naive_new):
            load.workload = _Swapped(self.workload, naive_new)
        spec = importlib.util.spec_from_file_location("expandcontract_naive", self.naive)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        # a deploy: the old version runs while the migration does, then old and new side by
        # side while the new one rolls out (blue-green, canary); the rollback likewise
        for direction, fn, during, after in (
            ("up", module.upgrade, {"old"}, {"old", "new"}),
            ("down", module.downgrade, {"old", "new"}, {"old"}),
        ):
            self.progress(f"naive {direction}grade ({self.naive.name})")
            load.set_apps(during)
            window = Window("naive", direction, time.monotonic())
            windows.append(window)
            try:
                # as an ordinary deploy runs it: no lock_timeout (for this transaction only)
                connection.execute(text("SELECT set_config('lock_timeout', '0', true)"))
                context = MigrationContext.configure(connection)
                with Operations.context(context):
                    fn()
                connection.commit()
            except Exception as err:
                connection.rollback()
                orig = getattr(err, "orig", None) or err
                window.error = f"{type(orig).__name__}: {orig}".splitlines()[0]
            window.phase_end = time.monotonic()
            load.set_apps(after)
            time.sleep(self.duration)
            window.end = time.monotonic()

    def _seed(self, connection) -> None:
        seed = getattr(self.workload, "seed", None)
        if callable(seed):
            seed(connection, self.rows)
            return
        from expandcontract.verify.seed import seed as generic

        raw = connection.connection.driver_connection
        connection.commit()
        with raw.cursor() as cursor:
            from expandcontract.catalog.snapshot import take

            tables = take(cursor).tables()
        generic(raw, tables, self.rows)

    @staticmethod
    def _summaries(report: RehearsalReport, windows: list[Window], samples, waits) -> None:
        report.samples, report.windows = samples, windows
        if not windows:
            return
        baseline = windows[0]
        rate = len([s for s in samples if baseline.start <= s.t <= baseline.end]) / max(
            baseline.end - baseline.start, 1e-6
        )
        for window in windows:
            end = window.end or time.monotonic()
            summary = summarize(
                window.phase,
                window.direction,
                samples,
                waits,
                window.start,
                end,
                (window.phase_end or end) - window.start,
                rate,
            )
            if window.error:
                summary.errors.insert(0, f"the migration itself failed: {window.error}")
            summary.contract_violations = window.violations
            if window.phase == "baseline":
                report.baseline = summary
            elif window.phase == "naive":
                if window.direction == "up":
                    report.naive = summary
                else:
                    report.naive_downgrade = summary
            else:
                report.phases.append(summary)


PLOT_HINT = (
    "--plot needs matplotlib: pip install matplotlib (from a clone: pip install -e '.[plot]')"
)


def require_plot() -> None:
    """Refuse ``--plot`` before a long run, not after it, when matplotlib is missing."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        raise InputError(PLOT_HINT)


def plot(report: RehearsalReport, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(PLOT_HINT) from None
    if not report.samples:
        raise InputError("--plot: no samples were recorded")
    t0 = report.samples[0].t
    fig, ax = plt.subplots(figsize=(11, 4.5))
    for app, color in (("old", "tab:blue"), ("new", "tab:green")):
        ok = [s for s in report.samples if s.app == app and not s.error]
        ax.scatter(
            [s.t - t0 for s in ok], [s.ms for s in ok], s=2, color=color, label=f"{app} version"
        )
    failed = [s for s in report.samples if s.error]
    if failed:
        ax.scatter(
            [s.t - t0 for s in failed],
            [s.ms for s in failed],
            s=8,
            color="red",
            marker="x",
            label="failed query",
        )
    for window in report.windows:
        ax.axvline(window.start - t0, color="grey", linewidth=0.6)
        ax.text(
            window.start - t0,
            1.01,
            f"{window.phase} {window.direction}",
            rotation=60,
            fontsize=7,
            transform=ax.get_xaxis_transform(),
        )
    ax.set_yscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("query latency (ms)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
