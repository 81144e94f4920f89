"""Alembic revisions as a lint source: SQL rendered offline, at the line of the ``op.*`` call.

Each revision module is imported on its own (never the project's ``env.py``,
with the project's ``prepend_sys_path`` applied), and its ``upgrade()`` and
``downgrade()`` are rendered by Alembic itself in offline mode for PostgreSQL.
Every chunk of SQL Alembic emits is recorded with the revision-file line and
column of the call that produced it, so the SQL engine's findings can be
reported on the Python source. Alembic's own transaction handling comes through
as SQL: a migration runs in a transaction, and ``autocommit_block()`` emits
``COMMIT`` ... ``BEGIN`` around its body.

What keeps a real revision lintable:

- an ``op.*`` call that raises is a finding at its line, and the rest of the
  function is still rendered;
- ``op.get_bind()`` gives a stand-in connection: what data-migration code
  executes through it is recorded and linted, and its reads return no rows;
- ``existing_type`` / ``existing_nullable`` tell the rules what the column is
  today; an index dropped just before its table is covered by the table's drop;
- whatever the revision prints goes to stderr, never into a report.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import io
import sys
import tokenize
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.errors import first_line
from expandcontract.lint.schema import Schema
from expandcontract.project import EnvOptions, History, Project, RevisionMeta, read_meta

if TYPE_CHECKING:
    from collections.abc import Callable

    from expandcontract.lint.cache import Cache
    from expandcontract.lint.context import Context
    from expandcontract.lint.engine import RuleSet
    from expandcontract.lint.finding import Finding

REVISION_ERROR = "EC005"
# Operations methods that return something the revision uses, rather than emit SQL
_PASS_THROUGH = frozenset(
    {"batch_alter_table", "f", "get_context", "inline_literal", "invoke", "run_async"}
)


@dataclass
class Chunk:
    sql: str
    line: int
    column: int
    op: str | None = None  # the op.* method that emitted it
    table: str | None = None  # the table that op names


@dataclass
class Rendered:
    chunks: list[Chunk] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # (table, column) -> the column's type before the revision, from existing_type
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)


class _Recorder:
    """Where in the revision file the code that is running now stands."""

    def __init__(self, path: Path) -> None:
        self.filename = str(path)
        self._positions: dict = {}  # code object -> its co_positions(), computed once

    def position(self) -> tuple[int, int]:
        frame = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if code.co_filename == self.filename:
                positions = self._positions.get(code)
                if positions is None:
                    positions = self._positions[code] = list(code.co_positions())
                index = frame.f_lasti // 2
                column = 1
                if index < len(positions) and positions[index][2] is not None:
                    column = positions[index][2] + 1
                return frame.f_lineno, column
            frame = frame.f_back
        return 1, 1


class _NoRows:
    """The result of a statement run through the offline bind: empty."""

    rowcount = 0

    def __iter__(self):
        return iter(())

    def fetchall(self) -> list:
        return []

    def fetchone(self):
        return None

    first = scalar = scalar_one_or_none = one_or_none = fetchone
    all = fetchmany = fetchall

    def scalars(self, *_args) -> _NoRows:
        return self

    def one(self):
        raise LookupError(
            "a read through op.get_bind() needs a row, and linting runs without a database"
        )

    scalar_one = one

    mappings = columns = unique = scalars


class OfflineBind:
    """``op.get_bind()`` while linting: statements executed through it are recorded and
    linted; reads return no rows."""

    def __init__(self, dialect, record) -> None:
        self.dialect = dialect
        self._record = record
        self.used = False

    def execute(self, statement, *_args, **_kwargs) -> _NoRows:
        self.used = True
        if isinstance(statement, str):
            sql = statement
        else:
            sql = str(statement.compile(dialect=self.dialect))
        self._record(sql)
        return _NoRows()

    exec_driver_sql = execute

    def begin(self):
        return contextlib.nullcontext(self)

    begin_nested = begin

    def commit(self) -> None:
        pass

    rollback = close = commit

    def __getattr__(self, name: str):
        raise AttributeError(
            f"op.get_bind().{name} is not available when linting offline (the revision is "
            "rendered without a database)"
        )


class _TolerantOps:
    """Stands in for the ``op`` proxy: an op.* call that raises becomes a finding at its line
    and the function goes on; chunks are tagged with the op and table that emitted them."""

    def __init__(self, operations, recorder: _Recorder, rendered: Rendered, bind) -> None:
        self._ops = operations
        self._recorder = recorder
        self._rendered = rendered
        self._bind = bind
        self.current: tuple[str, str | None] | None = None

    def get_bind(self):
        return self._bind

    def __getattr__(self, name: str):
        attr = getattr(self._ops, name)
        if name.startswith("_") or name in _PASS_THROUGH or not callable(attr):
            return attr

        def call(*args, **kwargs):
            kwargs = self._effective(name, args, kwargs)
            self.current = (name, _table_of(name, args, kwargs))
            try:
                return attr(*args, **kwargs)
            except Exception as err:
                line, _ = self._recorder.position()
                self._rendered.errors.append(
                    (line, f"op.{name}() failed: {type(err).__name__}: {first_line(err)}")
                )
                return None
            finally:
                self.current = None

        return call

    def _effective(self, name: str, args: tuple, kwargs: dict) -> dict:
        """What an ``alter_column`` really changes, given its ``existing_*`` arguments."""
        if name != "alter_column":
            return kwargs
        nullable = kwargs.get("nullable")
        if nullable is not None and kwargs.get("existing_nullable") == nullable:
            kwargs = {**kwargs, "nullable": None}  # no change: Alembic would still say so
        old, new = kwargs.get("existing_type"), kwargs.get("type_")
        table = _table_of(name, args, kwargs)
        column = args[1] if len(args) > 1 else kwargs.get("column_name")
        if old is not None and new is not None and table and column:
            try:
                old_sql = _type_sql(old, self._ops.migration_context.dialect)
            except Exception:
                return kwargs
            self._rendered.column_types[(table, column)] = old_sql
        return kwargs


def _type_sql(type_, dialect) -> str:
    if isinstance(type_, type):
        type_ = type_()
    return type_.compile(dialect=dialect)


def _table_of(name: str, args: tuple, kwargs: dict) -> str | None:
    if name in ("drop_index", "create_index"):
        table = kwargs.get("table_name") or (args[1] if len(args) > 1 else None)
    else:
        table = kwargs.get("table_name") or (args[0] if args else None)
    if not isinstance(table, str):
        return None
    schema = kwargs.get("schema")
    return f"{schema}.{table}" if schema and schema != "public" else table


class RenderTimeout(BaseException):
    """The revision's own code ran past the time limit (a BaseException, so that the
    revision's ``except Exception`` cannot swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Interrupt the revision's code after ``seconds`` (main thread only; 0: no limit)."""
    import signal
    import threading

    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise RenderTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _import(path: Path):
    name = f"_expandcontract_revision_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _error_line(err: BaseException, path: Path) -> int:
    if isinstance(err, SyntaxError) and err.filename == str(path):
        return err.lineno or 1
    lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
    return (lines[-1] if lines else 1) or 1


def _functions(module, name: str) -> list:
    """``upgrade`` itself, or, where it takes arguments (``alembic init -t multidb``:
    ``upgrade(engine_name)``), every ``upgrade_<engine>`` the module defines."""
    fn = getattr(module, name, None)
    if fn is None:
        return []
    try:
        required = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        required = []
    if not required:
        return [fn]
    prefix = f"{name}_"
    return [
        getattr(module, n)
        for n in sorted(vars(module))
        if n.startswith(prefix) and callable(getattr(module, n))
    ] or [fn]


def render(module, function: str, path: Path) -> Rendered:
    """Run ``module.<function>()`` against an offline PostgreSQL context; record every chunk."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    result = Rendered()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": io.StringIO(), "literal_binds": True},
    )
    recorder = _Recorder(path)
    tolerant: _TolerantOps

    def record(text: str) -> None:
        line, column = recorder.position()
        op, table = tolerant.current or (None, None)
        result.chunks.append(Chunk(text, line, column, op, table))

    context.impl.static_output = record  # type: ignore[method-assign]
    operations = Operations(context)
    from sqlalchemy.dialects import postgresql

    bind = OfflineBind(postgresql.dialect(paramstyle="named"), record)
    tolerant = _TolerantOps(operations, recorder, result, bind)
    _, modules = Operations._setups[Operations]
    for fn in _functions(module, function):
        operations._install_proxy()
        for namespace, _ in modules:
            namespace["_proxy"] = tolerant
        try:
            fn()
        except RenderTimeout:
            raise
        except Exception as err:  # the revision's own code failed: report it, go on
            note = (
                " (data-migration code runs against an offline stand-in for op.get_bind() "
                "whose reads return no rows)"
                if bind.used
                else ""
            )
            result.errors.append(
                (_error_line(err, path), f"{type(err).__name__}: {first_line(err)}{note}")
            )
        finally:
            operations._remove_proxy()
    result.chunks = _without_covered_drops(result.chunks)
    return result


def _without_covered_drops(chunks: list[Chunk]) -> list[Chunk]:
    """Leave out an index drop that a later drop of its table in the same function covers:
    dropping the table takes the same lock and removes the index anyway."""
    dropped_later: set[str] = set()
    kept: list[Chunk] = []
    for chunk in reversed(chunks):
        if chunk.op == "drop_table" and chunk.table:
            dropped_later.add(chunk.table)
        elif chunk.op == "drop_index" and chunk.table in dropped_later:
            continue
        kept.append(chunk)
    kept.reverse()
    return kept


def _python_comments(path: Path) -> list[tuple[int, int, str]]:
    comments = []
    try:
        with path.open("rb") as handle:
            for tok in tokenize.tokenize(handle.readline):
                if tok.type == tokenize.COMMENT:
                    comments.append((tok.start[0], tok.start[1] + 1, tok.string.lstrip("#")))
    except (tokenize.TokenError, SyntaxError):
        pass
    return comments


@dataclass
class RevisionResult:
    findings: list[Finding]
    statements: int
    # constraints left NOT VALID in the transaction still open at the end of upgrade():
    # (table, name) -> the revision that added them
    open_not_valid: dict[tuple, str] = field(default_factory=dict)
    # the schema its upgrade() leaves, for the revisions after it
    schema: Schema | None = None


def lint_revision(
    path: Path,
    display: str,
    ruleset: RuleSet,
    phase: str | None = None,
    revision: str | None = None,
    open_not_valid: dict[tuple, str] | None = None,
    schema: Schema | None = None,
) -> RevisionResult:
    """Lint one revision file: ``upgrade()`` and ``downgrade()``, each as its own unit.

    ``phase`` is the phase branch the revision is on (None: unphased);
    ``open_not_valid`` carries the NOT VALID constraints its parent revision left in a
    transaction this revision shares.
    """
    from expandcontract.lint.context import Context
    from expandcontract.lint.engine import Collector

    path = path.resolve()  # code objects carry this exact name: positions depend on it
    with (
        contextlib.redirect_stdout(sys.stderr),  # a printing revision must not spoil reports
        _time_limit(ruleset.revision_timeout),
    ):
        try:
            module = _import(path)
            units = [
                (render(module, "upgrade", path), "up"),
                (render(module, "downgrade", path), "down"),
            ]
        except BaseException as err:
            if isinstance(err, KeyboardInterrupt):
                raise
            what = (
                f"did not finish within {ruleset.revision_timeout:g} s (an endless loop?)"
                if isinstance(err, RenderTimeout)
                else f"does not import: {type(err).__name__}: {first_line(err)}"
            )
            collector = Collector(display, ruleset)
            collector.add(
                -1,
                _error_line(err, path),
                1,
                REVISION_ERROR,
                f"revision {what}",
                "Fix the error; the other revisions are still linted.",
            )
            return RevisionResult([f for _, f in collector.raw], 0)
    # each suppression comment goes to the function whose op.* call it covers
    lines_of = [{c.line for c in rendered.chunks} for rendered, _ in units]
    shares: list[list[tuple[int, int, str]]] = [[], []]
    for comment in _python_comments(path):
        owner = next(
            (i for i, lines in enumerate(lines_of) if {comment[0], comment[0] + 1} & lines), 0
        )
        shares[owner].append(comment)
    findings: list[Finding] = []
    statements = 0
    carried: dict[tuple, str] = {}
    after = None  # the schema as upgrade() leaves it: where downgrade() starts
    for (rendered, direction), comments in zip(units, shares, strict=True):
        ctx = Context(pg_version=ruleset.pg_version, assume_in_transaction=True)
        ctx.phase, ctx.direction, ctx.revision = phase, direction, True
        start = schema if direction == "up" else after
        if start is not None:  # what the revisions before it left
            ctx.column_types.update(start.column_types)
            ctx.partitioned |= start.partitioned
        ctx.column_types.update(rendered.column_types)  # the author's existing_type wins
        if direction == "up" and open_not_valid:
            ctx.not_valid_pending.update(open_not_valid)
            ctx.not_valid_origin.update(open_not_valid)
        unit, count = _lint_unit(rendered, display, ruleset, ctx, comments)
        findings.extend(unit)
        statements += count
        if direction == "up":
            after = ctx.schema()
        if direction == "up" and ctx.in_transaction:
            carried = {
                key: ctx.not_valid_origin.get(key, revision or display)
                for key in ctx.not_valid_pending
            }
    from expandcontract.lint.finding import Finding

    seen: set[tuple] = set()
    unique = []
    for finding in sorted(findings, key=Finding.sort_key):
        key = (finding.line, finding.column, finding.code, finding.message)
        if key not in seen:  # one comment may go unused in both functions
            seen.add(key)
            unique.append(finding)
    return RevisionResult(unique, statements, carried, after)


def _lint_unit(
    rendered: Rendered,
    display: str,
    ruleset: RuleSet,
    ctx: Context,
    comments: list[tuple[int, int, str]],
) -> tuple[list[Finding], int]:
    from expandcontract.lint.engine import (
        EMPTY_FILE,
        PARSE_ERROR,
        UNUSED_SUPPRESSION,
        Collector,
        apply_suppressions,
        judge,
    )
    from expandcontract.lint.finding import Finding
    from expandcontract.lint.suppress import parse_pragma

    # One synthetic script, each chunk on its own lines, mapped back to the Python source.
    text_parts: list[str] = []
    origin: dict[int, tuple[int, int]] = {}
    first_at: dict[int, int] = {}  # Python line -> the first synthetic line it produced
    line = 1
    for chunk in rendered.chunks:
        sql = chunk.sql.strip()
        for offset in range(sql.count("\n") + 1):
            origin[line + offset] = (chunk.line, chunk.column)
        first_at.setdefault(chunk.line, line)
        text_parts.append(sql if sql.rstrip().endswith(";") else sql + ";")
        line += sql.count("\n") + 1
    script = ruleset.target.sql.split_script("\n".join(text_parts))
    collector = Collector(display, ruleset)
    direction = ctx.direction
    judge(script, ctx, collector)
    for number, (err_line, message) in enumerate(rendered.errors):
        synthetic = -1 - number  # below every real line: mapped back through origin
        collector.add(
            -1,
            synthetic,
            0,
            REVISION_ERROR,
            f"{direction}grade() failed: {message}",
            "Fix the error; the rest of the revision is still linted.",
        )
        origin[synthetic] = (err_line, 1)

    # Python suppressions: on the op.* line or the line above it.
    suppressions = []
    for py_line, py_col, text in comments:
        sup = parse_pragma(text, py_line, py_col, ruleset.lookup)
        if sup is None:
            continue
        sup.report_at = (py_line, py_col)
        candidates = [first_at[n] for n in (py_line, py_line + 1) if n in first_at]
        target = min(candidates) if candidates else None
        if sup.file_level:
            suppressions.append(sup)
        elif target is not None:
            sup.line = target
            suppressions.append(sup)
        else:
            suppressions.append(sup)  # attached to nothing: reported as unused
            sup.line = 10**9
    collector.raw = [(i, f) for i, f in collector.raw if f.code != EMPTY_FILE]
    kept = apply_suppressions(
        collector, suppressions, [(s.line, s.end_line) for s in script.statements]
    )
    mapped = []
    for f in kept:
        if f.code == UNUSED_SUPPRESSION:
            src_line, src_col = f.line, f.column  # already at the comment in the Python file
        elif f.code in (PARSE_ERROR, REVISION_ERROR) or f.line in origin:
            src_line, src_col = origin.get(f.line, (f.line, f.column))
        else:
            src_line, src_col = f.line, f.column
        mapped.append(
            Finding(f.path, src_line, src_col, f.code, f.rule, f.severity, f.message, f.hint)
        )
    return mapped, len(script.statements)


@dataclass
class _Scope:
    """What linting a revision needs to know of the project it belongs to."""

    history: History
    shares_transaction: bool


class Revisions:
    """Alembic revision files as a lint source: each judged after its parents, starting
    from the schema they left and the NOT VALID constraints they left open in a
    transaction it shares."""

    def __init__(self, cache: Cache, rules: Callable[[], RuleSet], start: Schema | None) -> None:
        self.cache = cache
        self.rules = rules
        self.start = start
        self.scopes: dict[Path, _Scope] = {}
        self.open_not_valid: dict[str, dict] = {}  # revision -> NOT VALID constraints left open
        self.schemas: dict[str, Schema] = {}  # revision -> the schema its upgrade leaves
        self._metas: dict[Path, RevisionMeta] = {}  # read once: ordering and linting use it

    def _meta(self, file: Path) -> RevisionMeta:
        meta = self._metas.get(file)
        if meta is None:
            meta = self._metas[file] = read_meta(file)
        return meta

    def depth(self, file: Path) -> int:
        """How many revisions come before this one in its history (parents go first)."""
        meta = self._meta(file)
        return self._scope_of(file).history.depth(meta.revision) if meta.revision else 0

    def lint(self, file: Path, name: str) -> tuple[list[Finding], int]:
        from expandcontract.lint.finding import Finding

        scope = self._scope_of(file)
        meta = self._meta(file)
        inherited = None
        if len(meta.down_revisions) == 1 and scope.shares_transaction:
            inherited = self.open_not_valid.get(meta.down_revisions[0])
        phase = scope.history.phase_of(meta)
        # the schema its parents left (merged at a merge point), else the start
        parents = [self.schemas[p] for p in meta.down_revisions if p in self.schemas]
        before = Schema.merged(parents if parents else [self.start] if self.start else [])
        context = repr((phase, meta.revision, sorted((inherited or {}).items()), before.key()))
        try:
            key = self.cache.file_key("revision", name, context, file.read_bytes())
        except OSError:
            key = None  # unreadable: linting it says so
        entry = self.cache.get(key)
        if entry is not None and not self.cache.unchanged(entry["imports"]):
            entry = None  # the application code it imported has changed
        if entry is None:
            result = lint_revision(
                file, name, self.rules(), phase, meta.revision, inherited, before
            )
            entry = {
                "findings": [f.as_dict() for f in result.findings],
                "statements": result.statements,
                "open": [[list(k), v] for k, v in result.open_not_valid.items()],
                "imports": self.cache.app_modules(),
                "schema": (result.schema or before).as_json(),
            }
            self.cache.put(key, entry)
        if meta.revision:
            self.open_not_valid[meta.revision] = {tuple(k): v for k, v in entry["open"]}
            self.schemas[meta.revision] = Schema.from_json(entry["schema"])
        return [Finding(**f) for f in entry["findings"]], entry["statements"]

    def _scope_of(self, file: Path) -> _Scope:
        """The scope of a revision file: its Alembic project when one above it claims its
        folder (history across every version location, ``prepend_sys_path`` applied), else
        its own folder."""
        directory = file.parent.resolve()
        scope = self.scopes.get(directory)
        if scope is not None:
            return scope
        project = Project.containing(directory)
        if project is not None:
            project.activate()
            scope = _Scope(project.history, project.shares_transaction)
            for location in project.version_locations:
                self.scopes.setdefault(location, scope)
        else:
            env = EnvOptions.read(directory.parent / "env.py")
            scope = _Scope(History([directory]), not env.transaction_per_migration)
        self.scopes[directory] = scope
        return scope
