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
import functools
import importlib.util
import inspect
import io
import re
import sys
import tokenize
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.alembic_integration import internals
from expandcontract.errors import first_line
from expandcontract.lint.schema import Schema
from expandcontract.lint.sources.rendering import Chunk, Recorder, Rendered, literal
from expandcontract.project import EnvOptions, History, Project, RevisionMeta, read_meta
from expandcontract.sql.target import DEFAULT_VERSION

if TYPE_CHECKING:
    from collections.abc import Callable

    from expandcontract.lint.cache import Cache
    from expandcontract.lint.context import Context
    from expandcontract.lint.engine import RuleSet
    from expandcontract.lint.finding import Finding

REVISION_ERROR = "EC005"
# Operations methods that return something the revision uses, rather than emit SQL
_PASS_THROUGH = frozenset({"f", "get_context", "inlineliteral", "invoke", "run_async"})


class _TolerantOps:
    """Stands in for the ``op`` proxy: an op.* call that raises becomes a finding at its line
    and the function goes on; chunks are tagged with the op and table that emitted them."""

    def __init__(self, operations, recorder: Recorder, rendered: Rendered, bind) -> None:
        self._ops = operations
        self._recorder = recorder
        self._rendered = rendered
        self._bind = bind
        self.current: tuple[str, str | None] | None = None
        # a batch operation being flushed: the position of its own call in the revision
        self.pinned: tuple[int, int] | None = None

    def get_bind(self):
        return self._bind

    def __getattr__(self, name: str):
        attr = getattr(self._ops, name)
        if name.startswith("_") or name in _PASS_THROUGH or not callable(attr):
            return attr

        def call(*args, **kwargs):
            kwargs = self._effective(name, args, kwargs)
            self._note_index(name, args, kwargs)
            self.current = (name, _table_of(name, args, kwargs))
            try:
                result = attr(*args, **kwargs)
            except Exception as err:
                line, _ = self._recorder.position()
                self._fail(line, name, err, args, kwargs)
                return None
            finally:
                self.current = None
            if name == "create_table" and hasattr(result, "indexes"):  # index=True, Index()
                self._note_indexes(result.indexes)
            self._learn(name, args, kwargs)
            return result

        return call

    def _learn(self, name: str, args: tuple, kwargs: dict) -> None:
        """Keep the catalog the bind answers from current with what the function has done
        so far (a table it created is there to reflect a few lines later)."""
        known = self._bind.dialect.known
        table = _table_of(name, args, kwargs)
        if name == "create_table" and table:
            dialect = self._ops.migration_context.dialect
            for column in (*args[1:], *kwargs.get("columns", ())):
                if getattr(column, "name", None) and getattr(column, "type", None) is not None:
                    with contextlib.suppress(Exception):
                        known.column_types[(table, column.name)] = _type_sql(column.type, dialect)
        elif name == "add_column" and table and len(args) > 1:
            column = args[1]
            with contextlib.suppress(Exception):
                known.column_types[(table, column.name)] = _type_sql(
                    column.type, self._ops.migration_context.dialect
                )
        elif name == "drop_table" and table:
            known.column_types = {k: v for k, v in known.column_types.items() if k[0] != table}
        elif name == "drop_column" and table and len(args) > 1:
            known.column_types.pop((table, args[1]), None)
        elif name == "create_index" and table:
            index = args[0] if args else kwargs.get("index_name")
            if isinstance(index, str):
                known.indexes[index] = (table, self._rendered.index_columns.get(index, ()))
        elif name == "drop_index":
            known.indexes.pop(args[0] if args else kwargs.get("index_name"), None)

    def _fail(self, line: int, name: str, err: Exception, args=(), kwargs=None) -> None:
        unnamed = (args[0] if args else (kwargs or {}).get("constraint_name")) is None
        if name == "drop_constraint" and unnamed:  # what autogenerate leaves for unnamed ones
            message = (
                "op.drop_constraint(None, ...) names no constraint: Alembic cannot emit it, "
                "so this function fails wherever it runs; give the constraint's name"
            )
        else:
            message = f"op.{name}() failed: {type(err).__name__}: {first_line(err)}"
        self._rendered.errors.append((line, message))

    @contextlib.contextmanager
    def batch_alter_table(self, table_name: str, schema: str | None = None, *args, **kwargs):
        """Alembic's batch, whose operations are applied when the ``with`` block ends: each
        is rendered at the line of its own call, and one that raises is a finding there."""
        with self._ops.batch_alter_table(table_name, schema, *args, **kwargs) as batch_op:
            impl = batch_op.impl
            positions: list[tuple[int, int]] = []
            recorder = self._recorder

            class Positioned(list):
                def append(self, item) -> None:
                    positions.append(recorder.position())
                    super().append(item)

            impl.batch = Positioned()
            original = impl.flush
            table = f"{schema}.{table_name}" if schema and schema != "public" else table_name

            def flush() -> None:
                if internals.batch_recreates(impl):  # a table copy: Alembic's own way, at the with
                    return original()
                for (opname, arg, kw), position in zip(impl.batch, positions, strict=True):
                    self.pinned, self.current = position, (opname, table)
                    try:
                        kw = self._effective(opname, arg, kw)
                        self._note_index(opname, arg, kw)
                        getattr(impl.operations.impl, opname)(*arg, **kw)
                    except Exception as err:
                        named = (getattr(arg[0], "name", ""),) if arg else ()
                        self._fail(position[0], opname, err, named, kw)
                    finally:
                        self.pinned = self.current = None
                return None

            impl.flush = flush
            yield batch_op

    def _note_index(self, name: str, args: tuple, kwargs: dict) -> None:
        """The columns an index is on, from the op's own arguments (``op.create_index``'s
        names, or the ``Index`` a batch or ``create_table`` hands over)."""
        if name == "create_index" and args and hasattr(args[0], "expressions"):
            self._note_indexes([args[0]])
            return
        if name != "create_index" or (len(args) < 3 and "columns" not in kwargs):
            return
        index = args[0] if args else kwargs.get("index_name")
        columns = kwargs.get("columns", args[2] if len(args) > 2 else ())
        if isinstance(columns, str):
            columns = [columns]
        names = tuple(c for c in columns if isinstance(c, str) and c.isidentifier())
        if isinstance(index, str) and len(names) == len(columns):
            table = _table_of(name, args, kwargs)
            where = kwargs.get("postgresql_where")
            self._rendered.index_columns[index] = names + self._columns_in(where, table)

    def _columns_in(self, predicate, table: str | None) -> tuple[str, ...]:
        """The table's columns a partial index's predicate names: dropping one of them
        drops the index too."""
        if predicate is None or table is None:
            return ()
        try:
            text = str(predicate)
        except Exception:
            return ()
        known = {c for t, c in self._bind.dialect.known.column_types if t == table}
        return tuple(w for w in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", text)) if w in known)

    def _note_indexes(self, indexes) -> None:
        for index in indexes:
            columns = tuple(getattr(e, "name", None) for e in index.expressions)
            if isinstance(index.name, str) and columns and all(columns):
                self._rendered.index_columns[index.name] = columns

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


def render(
    module,
    function: str,
    path: Path,
    config=None,
    schema: Schema | None = None,
    pg_version: int = DEFAULT_VERSION,
) -> Rendered:
    """Run ``module.<function>()`` against an offline PostgreSQL context; record every chunk.

    ``config``: the project's Alembic ``Config`` (``op.get_context().config``; an empty one
    when there is no project); ``schema``: what the revisions before it built, which the
    stand-in database's catalog reads answer from."""
    from alembic.config import Config
    from alembic.operations import Operations
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext

    from expandcontract.lint.sources.offline import offline_connection

    result = Rendered()
    environment = EnvironmentContext(config if config is not None else Config(), None)
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={
            "as_sql": True,
            "output_buffer": io.StringIO(),
            "literal_binds": True,
            # our operations render a preview of what they would run (see needs_database)
            "expandcontract_render": True,
        },
        environment_context=environment,
    )
    from sqlalchemy.types import NullType

    # a value of no known type (``sa.column("id")`` in bulk_insert): written as its literal
    context.dialect.colspecs = {**context.dialect.colspecs, NullType: _anyliteral_type()}
    recorder = Recorder(path)
    tolerant: _TolerantOps
    used = False

    def record(text: str) -> None:
        line, column = tolerant.pinned or recorder.position()
        op, table = tolerant.current or (None, None)
        result.chunks.append(Chunk(text, line, column, op, table))

    def record_bind(text: str) -> None:
        nonlocal used
        used = True
        record(text)

    context.impl.static_output = record  # type: ignore[method-assign]
    operations = Operations(context)
    known = Schema.merged([schema] if schema is not None else [])  # a copy, kept current
    with offline_connection(record_bind, known, pg_version) as bind:
        # plugins' operations (alembic-postgresql-enum, alembic-utils) ask the context
        context.connection = context.impl.connection = bind
        operations.get_bind = lambda: bind  # type: ignore[method-assign]
        tolerant = _TolerantOps(operations, recorder, result, bind)
        for fn in _functions(module, function):
            try:
                with internals.module_proxies(operations, environment, tolerant):
                    fn()
            except RenderTimeout:
                raise
            except Exception as err:  # the revision's own code failed: report it, go on
                deliberate = _deliberate_raise(err, path)
                if deliberate is not None and function == "downgrade":
                    result.irreversible = deliberate
                    continue
                note = (
                    " (data-migration code runs against an offline stand-in database "
                    "whose reads return no rows)"
                    if used
                    else ""
                )
                result.aborted = True
                result.errors.append(
                    (_error_line(err, path), f"{type(err).__name__}: {first_line(err)}{note}")
                )
    return result


@functools.cache
def _anyliteral_type():
    from sqlalchemy.types import NullType

    class AnyLiteral(NullType):
        """Rendering offline, a bound value whose type nobody gave is written as the
        literal PostgreSQL would read for it (Alembic's ``--sql`` mode refuses it)."""

        cache_ok = True

        def literal_processor(self, dialect):
            return literal

    return AnyLiteral


def _deliberate_raise(err: BaseException, path: Path) -> str | None:
    """The message of an exception the revision raised itself, with a ``raise`` statement
    of its own (a downgrade that refuses to run), else None."""
    frames = traceback.extract_tb(err.__traceback__)
    if not frames or frames[-1].filename != str(path):
        return None
    line = (frames[-1].line or "").strip()
    if not line.startswith("raise"):
        return None
    return f"{type(err).__name__}: {first_line(err)}" if str(err) else type(err).__name__


def _without_redundant(
    chunks: list[Chunk],
    sql,
    indexes: dict[str, tuple[str, tuple[str, ...]]],
    index_columns: dict[str, tuple[str, ...]],
) -> list[Chunk]:
    """Leave out the statements a later one in the same function makes moot:

    - an index drop, when its table is dropped later, or one of its columns (PostgreSQL
      drops the index with either, under the same lock);
    - the rename and the drop of an enum type swapped for a new one of the same name
      (``ALTER TYPE e RENAME TO e_old``, ``CREATE TYPE e``, the columns moved over with
      ``ALTER COLUMN ... TYPE e USING``, ``DROP TYPE e_old``): the running version never
      sees the old type go, and the real cost, the column rewrite, is judged on its own.

    ``indexes``: index -> (table, columns), as the revisions before it left them;
    ``index_columns``: the columns of the indexes this function creates."""
    if not any("DROP" in chunk.sql.upper() for chunk in chunks):
        return chunks
    # every statement that may matter, in order: (chunk index, statement, its ops)
    steps: list[tuple[int, object, list]] = []
    for number, chunk in enumerate(chunks):
        upper = chunk.sql.upper()
        if not any(word in upper for word in ("DROP", "RENAME", "CREATE")):
            continue
        for stmt in sql.split_script(chunk.sql).statements:
            try:
                ops = stmt.ops if stmt.ops is not None else sql.analyze(stmt)
            except Exception:  # reported when the unit is judged
                ops = []
            # the statement table's own row (kind "statement") rides along: not an action
            steps.append((number, stmt, [o for o in ops if o.kind != "statement"]))
    known = dict(indexes)
    # (step, its table where known, its columns where known, the index) per DROP INDEX
    drops: list[tuple[int, str | None, tuple[str, ...], str]] = []
    moot: set[int] = set()
    for step, (number, _, ops) in enumerate(steps):
        for op in ops:
            if op.kind == "create_index" and op.table and op.name:
                known[op.name] = (op.table, index_columns.get(op.name, ()))
            elif op.kind == "drop_index" and len(ops) == 1 and op.name:
                chunk = chunks[number]
                table, columns = known.get(op.name, (None, ()))
                if chunk.op == "drop_index" and chunk.table:
                    table = chunk.table
                drops.append((step, table, columns, op.name))
            elif op.kind == "rename_object" and op.value == "type" and op.new_name:
                moot |= _enum_swap(steps, step, op.name, op.new_name)
    for step, table, columns, name in drops:
        later = [op for _, _, ops in steps[step + 1 :] for op in ops]
        if any(
            (op.kind == "drop_table" and table is not None and op.table == table)
            or (
                op.kind == "drop_column"
                and op.table is not None
                and table in (op.table, None)
                and (
                    op.column in columns or (not columns and _named_for(name, op.table, op.column))
                )
            )
            for op in later
        ):
            moot.add(step)
    if not moot:
        return chunks
    dropped: dict[int, set[int]] = {}
    for step in moot:
        dropped.setdefault(steps[step][0], set()).add(id(steps[step][1]))
    kept = []
    for number, chunk in enumerate(chunks):
        if number not in dropped:
            kept.append(chunk)
            continue
        rest = [
            stmt.text for n, stmt, _ in steps if n == number and id(stmt) not in dropped[number]
        ]
        if rest:
            kept.append(Chunk(";\n".join(rest), chunk.line, chunk.column, chunk.op, chunk.table))
    return kept


def _named_for(index: str, table: str, column: str | None) -> bool:
    """Whether an index whose columns are not known is, by the usual naming conventions,
    the index of ``column`` alone: ``ix_<table>_<column>`` (SQLAlchemy's), with ``__``,
    ``idx_`` or ``_idx`` / ``_key`` forms."""
    rest = index.lower()
    for prefix in ("ix_", "idx_", "ix", "idx"):
        if rest.startswith(prefix):
            rest = rest[len(prefix) :]
            break
    for suffix in ("_idx", "_key", "_index"):
        rest = rest.removesuffix(suffix)
    bare = table.rsplit(".", 1)[-1].lower()
    if not rest.lstrip("_").startswith(bare):
        return False
    return column is not None and rest.lstrip("_")[len(bare) :].lstrip("_") == column.lower()


def _enum_swap(steps: list, start: int, name: str | None, renamed: str) -> set[int]:
    """The rename at ``start`` and the later drop of the renamed type, when a type of the
    old name is created in between (an enum swapped for one with other values)."""
    created = False
    for step in range(start + 1, len(steps)):
        for op in steps[step][2]:
            if op.kind == "create_object" and op.value == "type" and op.name == name:
                created = True
            elif (
                created
                and op.kind == "drop_object"
                and op.value == "type"
                and op.name == renamed
                and len(steps[step][2]) == 1
            ):
                return {start, step}
    return set()


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
    # its downgrade() raises on purpose: what it says
    irreversible: str | None = None
    # the functions ("up", "down") that stopped part way offline
    aborted: list[str] = field(default_factory=list)


def lint_revision(
    path: Path,
    display: str,
    ruleset: RuleSet,
    phase: str | None = None,
    revision: str | None = None,
    open_not_valid: dict[tuple, str] | None = None,
    schema: Schema | None = None,
    config=None,
    env_py: Path | None = None,
    executed: dict[str, Rendered] | None = None,
) -> RevisionResult:
    """Lint one revision file: ``upgrade()`` and ``downgrade()``, each as its own unit.

    ``phase`` is the phase branch the revision is on (None: unphased);
    ``open_not_valid`` carries the NOT VALID constraints its parent revision left in a
    transaction this revision shares; ``schema`` is what the revisions before it built;
    ``config`` the project's Alembic Config; ``env_py`` the project's env.py, whose
    top-level imports run first (once), as they do before Alembic loads a revision;
    ``executed``: direction -> the statements that function really ran (``--execute``),
    judged instead of its offline rendering.
    """
    from expandcontract.lint.context import Context
    from expandcontract.lint.finding import Finding

    path = path.resolve()  # code objects carry this exact name: positions depend on it
    spans = _function_spans(path)
    comments = _python_comments(path)
    findings: list[Finding] = []
    statements = 0
    carried: dict[tuple, str] = {}
    start = schema
    module = None
    irreversible = None
    after = None
    taken: list = []
    aborted: list[str] = []
    for function, direction in (("upgrade", "up"), ("downgrade", "down")):
        with (
            contextlib.redirect_stdout(sys.stderr),  # a printing revision must not spoil reports
            _time_limit(ruleset.revision_timeout),
        ):
            try:
                if module is None:
                    if env_py is not None:
                        replay_env_imports(env_py)
                    module = _import(path)
                if executed and direction in executed:
                    rendered = executed[direction]
                else:
                    rendered = render(
                        module, function, path, config, start, pg_version=ruleset.pg_version
                    )
            except BaseException as err:
                if isinstance(err, KeyboardInterrupt):
                    raise
                return _broken(err, path, display, ruleset, module is None, findings)
        irreversible = irreversible or rendered.irreversible
        if rendered.aborted:
            aborted.append(direction)
        lines = {c.line for c in rendered.chunks}
        if direction == "up":  # its own comments, and those on the lines it rendered
            mine = [
                c
                for c in comments
                if spans.get(c[0]) == "upgrade"
                or (spans.get(c[0]) is None and {c[0], c[0] + 1} & lines)
            ]
        else:
            mine = [c for c in comments if c not in taken]
        taken = mine
        ctx = Context(pg_version=ruleset.pg_version, assume_in_transaction=True)
        ctx.phase, ctx.direction, ctx.revision = phase, direction, True
        if start is not None:  # what the revisions before it left
            ctx.start_from(start)
        ctx.column_types.update(rendered.column_types)  # the author's existing_type wins
        ctx.index_columns.update(rendered.index_columns)
        if direction == "up" and open_not_valid:
            ctx.not_valid_pending.update(open_not_valid)
            ctx.not_valid_origin.update(open_not_valid)
        unit, count = _lint_unit(rendered, display, ruleset, ctx, mine)
        findings.extend(unit)
        statements += count
        if direction == "up":
            start = after = ctx.schema()  # where downgrade() starts
            if ctx.in_transaction:
                carried = {
                    key: ctx.not_valid_origin.get(key, revision or display)
                    for key in ctx.not_valid_pending
                }

    seen: set[tuple] = set()
    unique = []
    for finding in sorted(findings, key=Finding.sort_key):
        key = (finding.line, finding.column, finding.code, finding.message)
        if key not in seen:  # one comment may go unused in both functions
            seen.add(key)
            unique.append(finding)
    return RevisionResult(unique, statements, carried, after, irreversible, aborted)


def _broken(
    err: BaseException,
    path: Path,
    display: str,
    ruleset: RuleSet,
    importing: bool,
    findings: list[Finding],
) -> RevisionResult:
    """The result of a revision whose import (or whose code, past the time limit) failed."""
    from expandcontract.lint.engine import Collector

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
    return RevisionResult([*findings, *(f for _, f in collector.raw)], 0)


def _function_spans(path: Path) -> dict[int, str]:
    """Line -> ``upgrade`` or ``downgrade``, for the lines of the module's functions of
    those names (``upgrade_<engine>`` too)."""
    import ast

    spans: dict[int, str] = {}
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return spans
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            kind = node.name.split("_", 1)[0]
            if kind in ("upgrade", "downgrade"):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                for line in range(first, (node.end_lineno or node.lineno) + 1):
                    spans[line] = kind
    return spans


_REPLAYED: set[Path] = set()


def replay_env_imports(env_py: Path) -> None:
    """Run the top-level imports of the project's env.py, once per process: what Alembic
    has imported before it loads a revision (the application's models, plugins that
    register operations, such as alembic-postgresql-enum). One that fails is skipped:
    the revision's own import says what is missing, if anything is."""
    import ast

    env_py = env_py.resolve()
    if env_py in _REPLAYED:
        return
    _REPLAYED.add(env_py)
    try:
        tree = ast.parse(env_py.read_bytes(), str(env_py))
    except (OSError, SyntaxError, ValueError):
        return
    for node in tree.body:
        if not isinstance(node, ast.Import | ast.ImportFrom) or (
            isinstance(node, ast.ImportFrom) and node.level
        ):
            continue
        code = compile(ast.Module([node], []), str(env_py), "exec")
        with contextlib.suppress(Exception):
            exec(code, {"__name__": "_expandcontract_env", "__file__": str(env_py)})


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
    chunks = _without_redundant(
        rendered.chunks, ruleset.target.sql, ctx.indexes, rendered.index_columns
    )
    for chunk in chunks:
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


# what a revision's cache entry must hold to be used
_REVISION_ENTRY = {
    "findings": list,
    "statements": int,
    "open": list,
    "imports": list,
    "schema": dict,
}


@dataclass
class _Scope:
    """What linting a revision needs to know of the project it belongs to."""

    history: History
    shares_transaction: bool
    config: object = None  # the project's Alembic Config (None: an empty one)
    env_py: Path | None = None  # whose top-level imports run before the revisions


class Revisions:
    """Alembic revision files as a lint source: each judged after its parents, starting
    from the schema they left and the NOT VALID constraints they left open in a
    transaction it shares."""

    def __init__(
        self,
        cache: Cache,
        rules: Callable[[], RuleSet],
        start: Schema | None,
        name: str = "alembic",
    ) -> None:
        self.name = name  # the ini section projects are read from
        self.cache = cache
        self.rules = rules
        self.start = start
        self.scopes: dict[Path, _Scope] = {}
        self.open_not_valid: dict[str, dict] = {}  # revision -> NOT VALID constraints left open
        self.schemas: dict[str, Schema] = {}  # revision -> the schema its upgrade leaves
        self._metas: dict[Path, RevisionMeta] = {}  # read once: ordering and linting use it
        # revisions whose functions stopped part way offline: file -> (display name, args)
        self.aborted: dict[Path, tuple[str, list[str], tuple]] = {}

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
        entry = self.cache.get(key, _REVISION_ENTRY)
        if entry is not None and not self.cache.unchanged(entry["imports"]):
            entry = None  # the application code it imported has changed
        if entry is not None:
            try:
                found = [Finding(**f) for f in entry["findings"]]
                left = Schema.from_json(entry["schema"])
                still_open = {tuple(k): v for k, v in entry["open"]}
            except (KeyError, TypeError, ValueError):
                entry = None  # a malformed entry: a miss
        args = (phase, meta.revision, inherited, before, scope.config, scope.env_py)
        if entry is None:
            result = lint_revision(file, name, self.rules(), *args)
            entry = {
                "findings": [f.as_dict() for f in result.findings],
                "statements": result.statements,
                "open": [[list(k), v] for k, v in result.open_not_valid.items()],
                "imports": self.cache.app_modules(),
                "schema": (result.schema or before).as_json(),
                "aborted": result.aborted,
            }
            self.cache.put(key, entry)
            found = result.findings
            left = result.schema or before
            still_open = dict(result.open_not_valid)
        if entry.get("aborted") and meta.revision:
            self.aborted[file] = (name, entry["aborted"], args)
        if meta.revision:
            self.open_not_valid[meta.revision] = still_open
            self.schemas[meta.revision] = left
        return found, entry["statements"]

    def execute(self, where: str) -> dict[str, tuple[list[Finding], int]]:
        """``lint --execute``: run the revisions that stopped part way offline on a
        throwaway database (``where``: ``embedded`` or a server URL), and judge what they
        really executed. Returns display name -> its findings and statement count, for
        each revision judged again."""
        from expandcontract.lint.sources import executed

        redone: dict[str, tuple[list[Finding], int]] = {}
        by_scope: dict[int, list[Path]] = {}
        for file in self.aborted:
            by_scope.setdefault(id(self._scope_of(file)), []).append(file)
        for files in by_scope.values():
            scope = self._scope_of(files[0])
            runs = {
                self._meta(f).revision: executed.Run(
                    f, self._meta(f).revision, set(self.aborted[f][1])
                )
                for f in files
            }
            order = scope.history.topological()
            results, stopped = executed.run(
                where,
                scope.config,
                files[0].parent.resolve(),
                scope.env_py,
                [r for r in order if r is not None],
                runs,
            )
            for file in files:
                name, directions, args = self.aborted[file]
                revision = self._meta(file).revision
                ran = {d: results[(revision, d)] for d in directions if (revision, d) in results}
                if not ran:
                    if stopped:
                        found, count = self._note(file, name, stopped)
                        redone[name] = found, count
                    continue
                result = lint_revision(file, name, self.rules(), *args, executed=ran)
                redone[name] = result.findings, result.statements
        return redone

    def _note(self, file: Path, name: str, why: str) -> tuple[list[Finding], int]:
        """The offline findings of ``file``, and why --execute could not run it."""
        from expandcontract.lint.engine import Collector

        _, _, args = self.aborted[file]
        result = lint_revision(file, name, self.rules(), *args)
        collector = Collector(name, self.rules())
        collector.add(
            -1,
            1,
            1,
            REVISION_ERROR,
            f"--execute could not run this revision: the history stopped before it ({why})",
            "Fix the revision that fails; the offline findings of this one stand.",
        )
        return [*result.findings, *(f for _, f in collector.raw)], result.statements

    def _scope_of(self, file: Path) -> _Scope:
        """The scope of a revision file: its Alembic project when one above it claims its
        folder (history across every version location, ``prepend_sys_path`` applied), else
        its own folder."""
        directory = file.parent.resolve()
        scope = self.scopes.get(directory)
        if scope is not None:
            return scope
        project = Project.containing(directory, self.name)
        if project is not None:
            project.activate()
            scope = _Scope(
                project.history, project.shares_transaction, project.config, project.env_py
            )
            for location in project.version_locations:
                self.scopes.setdefault(location, scope)
        else:
            # versions/ beside env.py, or versions/<dialect>/ (a history per dialect)
            env_py = next(
                (
                    d / "env.py"
                    for d in (directory.parent, directory.parent.parent)
                    if (d / "env.py").is_file()
                ),
                None,
            )
            env = EnvOptions.read(env_py or directory.parent / "env.py")
            scope = _Scope(History([directory]), not env.transaction_per_migration, env_py=env_py)
        self.scopes[directory] = scope
        return scope
