"""The stairway: every revision up, down, compared, and up again, on a real PostgreSQL.

For each revision in dependency order (branches, merge points, several heads
and ``depends_on`` included), with everything before it applied:

1. snapshot the schema from the catalog; seed every table; record its rows;
2. upgrade the revision, tracing every statement;
3. downgrade it, tracing every statement;
4. compare the schema with the snapshot, exactly, and every row of every table
   and column that existed before;
5. upgrade it again.

A revision may declare itself knowingly irreversible for data, with a reason::

    expandcontract_irreversible = "the old free-text addresses cannot be rebuilt"

which excuses every data difference, or, better, naming what it excuses (the phase
revisions expandcontract writes do this), so that any other difference still fails::

    expandcontract_irreversible = {
        "why": "the backfilled values stay after the downgrade",
        "data": ["users.full_name"],
    }

and may give its own seed data as SQL, or a function of a psycopg connection::

    expandcontract_seed = "INSERT INTO users (email) VALUES ('a@example.com')"
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from expandcontract.catalog.snapshot import (
    Problem,
    Snapshot,
    compare,
    listing,
    moved,
    relations_of,
    table_of,
    take,
)
from expandcontract.errors import InputError
from expandcontract.lint.runner import display_path
from expandcontract.progress import Progress
from expandcontract.project import Project
from expandcontract.verify.trace import StatementTrace, StepWatch, Tracer


@dataclass
class RevisionReport:
    revision: str
    phase: str | None
    doc: str
    status: str = "ok"  # ok | failed | irreversible
    problems: list[Problem] = field(default_factory=list)
    statements: list[StatementTrace] = field(default_factory=list)
    reason: str | None = None
    path: str = ""  # the revision's file, for annotations

    def as_dict(self) -> dict:
        return {
            "revision": self.revision,
            "path": self.path,
            "phase": self.phase,
            "status": self.status,
            "problems": [p.as_dict() for p in self.problems],
            "statements": [s.as_dict() for s in self.statements],
            **({"irreversible": self.reason} if self.reason else {}),
        }


@dataclass
class VerifyReport:
    database: str
    revisions: list[RevisionReport] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    # applied first without checks (--since, --changed-since): the base the new ones start on
    base: list[str] = field(default_factory=list)
    # the tables the revisions ran on, and which of them held rows while they did
    tables: set[str] = field(default_factory=set)
    tables_with_rows: set[str] = field(default_factory=set)
    # --contract: the two-version contract of each declared change (checker.project)
    contract: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.unverified
            and all(r.status != "failed" for r in self.revisions)
            and all(c.ok for c in self.contract)
        )

    def text(self) -> str:
        from expandcontract.formats import render

        return render("verify", "text", self)

    def as_dict(self) -> dict:
        return {
            "revisions": [r.as_dict() for r in self.revisions],
            "database": self.database,
            "unverified": self.unverified,
            "base": self.base,
            "data_coverage": {
                "tables": len(self.tables),
                "with_rows": len(self.tables_with_rows),
                "empty": sorted(self.tables - self.tables_with_rows),
            },
            **({"contract": [c.as_dict() for c in self.contract]} if self.contract else {}),
            "ok": self.ok,
        }


def _dump(
    cursor, snapshot: Snapshot, only: set[str] | None = None
) -> dict[str, tuple[int, dict[str, str]]]:
    """Each table's (or each of ``only``'s) row count and, per column, a fingerprint of its
    sorted values, computed by the server in one round trip."""
    from psycopg import sql

    tables = [
        t for t in snapshot.tables() if snapshot.columns_of(t) and (only is None or t in only)
    ]
    if not tables:
        return {}
    parts = []
    for table in tables:
        prints = sql.SQL(", ").join(
            sql.SQL(
                "{}, md5(string_agg(coalesce({}::text, '<NULL>'), ',' ORDER BY {}::text))"
            ).format(sql.Literal(c), sql.Identifier(c), sql.Identifier(c))
            for c in snapshot.columns_of(table)
        )
        parts.append(
            sql.SQL("SELECT {}, count(*), json_build_object({}) FROM {}").format(
                sql.Literal(table), prints, sql.Identifier(*table.split(".", 1))
            )
        )
    cursor.execute(sql.SQL(" UNION ALL ").join(parts))
    return {table: (count, prints) for table, count, prints in cursor.fetchall()}


def _compare_data(before: dict, after: dict, revision: str) -> list[Problem]:
    problems = []
    for table, (count, prints) in before.items():
        if table not in after:
            continue  # the missing table is a schema problem already
        now_count, now_prints = after[table]
        if now_count != count:
            problems.append(
                Problem(
                    "data",
                    "error",
                    f"{table} has {now_count} rows after the round trip of {revision}, "
                    f"{count} before",
                    subject=table,
                )
            )
            continue
        for column, fingerprint in prints.items():
            if column in now_prints and now_prints[column] != fingerprint:
                problems.append(
                    Problem(
                        "data",
                        "error",
                        f"data of {table}.{column} is not restored by the downgrade of {revision}: "
                        f"its values differ ({count} rows)",
                        subject=f"{table}.{column}",
                    )
                )
    return problems


def _traced_step(step, tracer: Tracer, direction: str):
    """Tell the tracer which way the step runs, as it starts."""
    original = step.migration_fn

    def migration_fn(*args, **kwargs):
        tracer.direction = direction
        return original(*args, **kwargs)

    step.migration_fn = migration_fn
    return step


class _Mirror:
    """What verify knows of its database between steps: the schema snapshot and each
    table's data fingerprint. A refresh re-reads the definitions of only the relations
    the step locked for DDL or whose catalog listing moved, and the data of only the
    tables it may have written (see :class:`StepWatch`), so a step costs the same however
    long the history before it. Nothing else writes to this throwaway database."""

    def __init__(self, cursor, version_table: str) -> None:
        self.version_table = version_table
        self.listing = listing(cursor)
        self.snapshot = take(cursor, version_table)
        self.data = _dump(cursor, self.snapshot)
        self.seeded: set[int] = set()  # tables seeded since their definition last changed

    def oid(self, table: str) -> int | None:
        return self.snapshot.owners["relation"].get(table)

    def refresh(self, cursor, watch: StepWatch | None = None, written=()) -> Snapshot:
        """Catch up after a step ``watch`` saw (None: only our own seeding, which wrote
        ``written``)."""
        changed: set[int] = set()
        if watch is not None:
            now = listing(cursor)
            changed, other = moved(self.listing, now)
            changed |= {table_of(self.listing, o) for o in watch.defined}
            changed |= {table_of(now, o) for o in watch.defined}
            self.listing = now
            if watch.opaque:  # a statement we cannot place: read every definition
                self.snapshot = take(cursor, self.version_table)
                changed = set(self.snapshot.owners["relation"].values())
            elif changed or other:
                fresh = take(cursor, self.version_table, oids=changed, globals_=other)
                self.snapshot = self.snapshot.patched(fresh, changed, other)
            self.seeded -= changed
            written = watch.written(cursor.connection)
        tables = set(self.snapshot.tables())
        self.data = {t: v for t, v in self.data.items() if t in tables}
        if written is None:
            stale = tables
        else:
            touched = changed | set(written)
            stale = {t for t in tables if self.oid(t) in touched or t not in self.data}
        if stale:
            self.data.update(_dump(cursor, self.snapshot, stale))
        return self.snapshot

    def unseeded(self) -> list[str]:
        """Tables new or changed in definition since they were last seeded."""
        return [t for t in self.snapshot.tables() if self.oid(t) not in self.seeded]


class Verifier:
    def __init__(
        self, project: Project, seed_rows: int = 2, progress: Progress | None = None
    ) -> None:
        from expandcontract.ops import register

        register()

        self.project = project
        self.alembic = project.config
        self.script = project.load_revisions()
        self.history = project.history
        self.version_table = project.env.version_table
        self.seed_rows = seed_rows
        self.progress = progress or Progress("verifying", quiet=True)

    def phase(self, revision: str) -> str | None:
        meta = self.history.get(revision)
        return self.history.phase_of(meta) if meta else None

    def since(self, revision: str) -> set[str]:
        """The revisions after ``revision``: those it does not already contain."""
        from alembic.util import CommandError

        try:
            found = self.script.get_revision(revision)
        except CommandError as err:
            raise InputError(f"--since {revision}: {err}") from None
        if found is None:
            raise InputError(f"--since {revision}: no such revision")
        done = self.history.ancestors(found.revision) | {found.revision}
        return set(self.history.revisions) - done

    def changed_since(self, ref: str) -> set[str]:
        """The revisions whose files changed since the git ref, and all that build on them."""
        from expandcontract.lint.runner import changed_since

        changed = changed_since(ref)
        touched = {
            rev for rev, meta in self.history.revisions.items() if meta.path.resolve() in changed
        }
        return self.history.with_descendants(touched)

    def run(self, database, only: set[str] | None = None) -> VerifyReport:
        """The whole stairway in one Alembic run: its steps come from a generator, which
        Alembic consumes one step at a time, each committed before the next is asked for;
        snapshots, seeding and comparisons happen between steps."""
        from sqlalchemy.pool import NullPool

        from expandcontract.connections import connect, prepare_if_direct
        from expandcontract.connections import engine as new_engine
        from expandcontract.phases.environment import run_steps

        report = VerifyReport(database=database.description)
        order = self.history.topological()
        if only is not None:  # the rest is the base they start on, applied unchecked
            report.base = [r for r in order if r not in only]
            order = [r for r in order if r in only]
        # the name the tracer finds the migration's backend by: through PgBouncer in
        # transaction mode its statements may run on a different server connection each
        name = f"expandcontract-verify-{uuid.uuid4().hex[:12]}"
        engine = new_engine(
            database.sqlalchemy_url,
            poolclass=NullPool,
            connect_args={"application_name": name},
        )
        with (
            connect(database.conninfo, autocommit=True) as observer,
            engine.connect() as connection,
        ):
            prepare_if_direct(observer)  # catalog reads cost more to plan than to run
            tracer = Tracer(observer, self.version_table, name)
            watch = StepWatch()
            watch.install(engine)
            where = {"revision": None, "what": None}
            try:
                run_steps(
                    self.alembic,
                    self.script,
                    connection,
                    lambda heads: self._stairway(order, observer, tracer, watch, report, where),
                    prepare=tracer.install,
                    env=self.project.env,
                )
            except Exception as err:
                connection.rollback()
                if where["what"] == "unchecked upgrade":  # a base revision: report it too
                    report.revisions.append(
                        RevisionReport(where["revision"], self.phase(where["revision"]), "")
                    )
                result = report.revisions[-1]
                orig = getattr(err, "orig", None) or err
                text = str(orig).strip()
                message = text.splitlines()[0] if text else type(orig).__name__
                result.problems.append(
                    Problem(
                        "error",
                        "error",
                        f"the {where['what']} of {where['revision']} fails: "
                        f"{type(orig).__name__}: {message}",
                    )
                )
                result.statements += tracer.statements
                self._judge(result, self.script.get_revision(where["revision"]).module)
                failed = where["revision"]
                report.unverified = order[order.index(failed) + 1 :] if failed in order else order
        return report

    def _stairway(
        self, order, observer, tracer: Tracer, watch: StepWatch, report: VerifyReport, where: dict
    ):
        from expandcontract.phases.environment import downgrade_one, upgrade_one
        from expandcontract.verify.seed import conform, seed

        if report.base:
            self.progress.note(f"the base: {len(report.base)} revisions, upgraded without checks")
        for revision in report.base:  # the tracer is idle: its relations are empty
            where.update(revision=revision, what="unchecked upgrade")
            yield from upgrade_one(self.script, revision)
        mirror: _Mirror | None = None
        for index, revision in enumerate(order):
            script = self.script.get_revision(revision)
            result = RevisionReport(revision, self.phase(revision), script.doc or "")
            result.path = display_path(Path(script.path))
            report.revisions.append(result)
            where.update(revision=revision, what="snapshot and seeding before the upgrade")
            self.progress.step(index, len(order), f"{revision} {script.doc or ''}".strip())
            with observer.cursor() as cursor:
                if mirror is None:
                    mirror = _Mirror(cursor, self.version_table)
                else:  # what the last re-upgrade did
                    mirror.refresh(cursor, watch)
                fill = mirror.unseeded()
                notes = seed(observer, fill, self.seed_rows)
                mirror.seeded.update(mirror.oid(t) for t in fill)
                conformed = conform(observer, list(mirror.snapshot.tables()))
                notes += conformed
                written = {mirror.oid(t) for t in fill}
                if self._user_seed(observer, script.module, result):
                    before = mirror.refresh(cursor, StepWatch.everything())  # it may do anything
                elif conformed:  # ours changed rows of tables seeded before
                    before = mirror.refresh(cursor, StepWatch.everything())
                else:  # ours only inserted rows
                    before = mirror.refresh(cursor, written=written)
                data_before = dict(mirror.data)
            report.tables.update(data_before)
            report.tables_with_rows.update(t for t, (count, _) in data_before.items() if count)
            result.problems += [Problem("seed", "warning", note) for note in notes]
            tracer.statements = []
            tracer.touched = set()
            watch.reset()
            tracer.know(relations_of(mirror.listing))
            where.update(revision=revision, what="upgrade")
            (step,) = upgrade_one(self.script, revision)
            yield _traced_step(step, tracer, "up")
            where.update(what="downgrade")
            (step,) = downgrade_one(self.script, revision)
            yield _traced_step(step, tracer, "down")
            result.statements += tracer.statements
            tracer.statements = []
            watch.defined |= tracer.touched
            with observer.cursor() as cursor:
                after = mirror.refresh(cursor, watch)
                data_after = mirror.data
            result.problems += compare(before, after, revision)
            result.problems += _compare_data(data_before, data_after, revision)
            where.update(what="re-upgrade")
            tracer.relations = {}  # the re-upgrade is not traced
            tracer.touched = set()
            watch.reset()  # what it writes is read as the next revision starts
            (step,) = upgrade_one(self.script, revision)
            yield step
            self._judge(result, script.module)
        self.progress.step(len(order), len(order), "done")

    @staticmethod
    def _user_seed(observer, module, result: RevisionReport) -> bool:
        """Run the revision's own ``expandcontract_seed``; whether it has one."""
        seed = getattr(module, "expandcontract_seed", None)
        if seed is None:
            return False
        try:
            with observer.transaction():
                if callable(seed):
                    seed(observer)
                else:
                    observer.execute(seed)
        except Exception as err:
            result.problems.append(Problem("seed", "error", f"expandcontract_seed fails: {err}"))
        return True

    @staticmethod
    def _judge(result: RevisionReport, module) -> None:
        errors = [p for p in result.problems if p.severity == "error"]
        declared = getattr(module, "expandcontract_irreversible", None)
        reason, excused = _declaration(declared)
        if reason and errors and all(p.kind == "data" and excused(p) for p in errors):
            result.status, result.reason = "irreversible", reason
            # an excused loss is said, never counted as an error
            result.problems = [
                dataclasses.replace(p, severity="note") if p.severity == "error" else p
                for p in result.problems
            ]
        elif errors:
            result.status = "failed"


def _declaration(declared) -> tuple[str | None, Callable[[Problem], bool]]:
    """A revision's ``expandcontract_irreversible``: the reason, and which data differences
    it excuses. A string excuses any (a hand-written, knowingly lossy revision); a dict
    ``{"why": ..., "data": ["table.column", "table", ...]}`` only those it names."""
    if not declared:
        return None, lambda problem: False
    if not isinstance(declared, dict):
        return str(declared), lambda problem: True
    names: set[str] = set()
    for name in declared.get("data", ()):
        names |= {name, f"public.{name}"}

    def excused(problem: Problem) -> bool:
        subject = problem.subject or ""
        table = subject.rsplit(".", 1)[0] if subject.count(".") >= 2 else subject
        return subject in names or table in names

    return str(declared.get("why", "declared irreversible")), excused
