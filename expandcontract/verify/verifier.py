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

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from expandcontract.errors import InputError
from expandcontract.lint.runner import display_path
from expandcontract.project import Project
from expandcontract.verify.snapshot import Problem, Snapshot, compare, take
from expandcontract.verify.trace import StatementTrace, Tracer


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

    @property
    def ok(self) -> bool:
        return not self.unverified and all(r.status != "failed" for r in self.revisions)

    def text(self) -> str:
        from expandcontract.verify.render import render

        return render(self, "text")

    def as_dict(self) -> dict:
        return {
            "revisions": [r.as_dict() for r in self.revisions],
            "database": self.database,
            "unverified": self.unverified,
            "base": self.base,
            "ok": self.ok,
        }


def _dump(cursor, snapshot: Snapshot) -> dict[str, tuple[int, dict[str, str]]]:
    """Each table's row count and, per column, a fingerprint of its sorted values, computed
    by the server in one round trip."""
    from psycopg import sql

    tables = [t for t in snapshot.tables() if snapshot.columns_of(t)]
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


class Verifier:
    def __init__(
        self, project: Project, seed_rows: int = 2, progress: Callable[[str], None] | None = None
    ) -> None:
        import expandcontract.alembic_integration.operations  # noqa: F401  (op.* ops)

        self.project = project
        self.alembic = project.config
        self.script = project.load_revisions()
        self.history = project.history
        self.version_table = project.env.version_table
        self.seed_rows = seed_rows
        self.progress = progress or (lambda message: None)

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

        from expandcontract.alembic_integration.environment import run_steps
        from expandcontract.connections import connect
        from expandcontract.connections import engine as new_engine

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
            tracer = Tracer(observer, self.version_table, name)
            where = {"revision": None, "what": None}
            try:
                run_steps(
                    self.alembic,
                    self.script,
                    connection,
                    lambda heads: self._stairway(order, observer, tracer, report, where),
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

    def _stairway(self, order, observer, tracer: Tracer, report: VerifyReport, where: dict):
        from expandcontract.alembic_integration.environment import downgrade_one, upgrade_one
        from expandcontract.verify.seed import seed

        if report.base:
            self.progress(f"the base: {len(report.base)} revisions, upgraded without checks")
        for revision in report.base:  # the tracer is idle: its relations are empty
            where.update(revision=revision, what="unchecked upgrade")
            yield from upgrade_one(self.script, revision)
        for index, revision in enumerate(order):
            script = self.script.get_revision(revision)
            result = RevisionReport(revision, self.phase(revision), script.doc or "")
            result.path = display_path(Path(script.path))
            report.revisions.append(result)
            self.progress(f"{revision} ({index + 1}/{len(order)}) {script.doc or ''}".strip())
            with observer.cursor() as cursor:
                before = take(cursor, self.version_table)
                notes = seed(observer, before.tables(), self.seed_rows)
                self._user_seed(observer, script.module, result)
                data_before = _dump(cursor, before)
            result.problems += [Problem("seed", "warning", note) for note in notes]
            tracer.statements = []
            tracer.snapshot_relations()
            where.update(revision=revision, what="upgrade")
            (step,) = upgrade_one(self.script, revision)
            yield _traced_step(step, tracer, "up")
            where.update(what="downgrade")
            (step,) = downgrade_one(self.script, revision)
            yield _traced_step(step, tracer, "down")
            result.statements += tracer.statements
            tracer.statements = []
            with observer.cursor() as cursor:
                after = take(cursor, self.version_table)
                data_after = _dump(cursor, after)
            result.problems += compare(before, after, revision)
            result.problems += _compare_data(data_before, data_after, revision)
            where.update(what="re-upgrade")
            tracer.relations = {}  # the re-upgrade is not traced
            (step,) = upgrade_one(self.script, revision)
            yield step
            self._judge(result, script.module)

    @staticmethod
    def _user_seed(observer, module, result: RevisionReport) -> None:
        seed = getattr(module, "expandcontract_seed", None)
        if seed is None:
            return
        try:
            with observer.transaction():
                if callable(seed):
                    seed(observer)
                else:
                    observer.execute(seed)
        except Exception as err:
            result.problems.append(Problem("seed", "error", f"expandcontract_seed fails: {err}"))

    @staticmethod
    def _judge(result: RevisionReport, module) -> None:
        errors = [p for p in result.problems if p.severity == "error"]
        declared = getattr(module, "expandcontract_irreversible", None)
        reason, excused = _declaration(declared)
        if reason and errors and all(p.kind == "data" and excused(p) for p in errors):
            result.status, result.reason = "irreversible", reason
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
