"""Lint Alembic revision files natively, at the line of the ``op.*`` call at fault.

Each revision module is imported on its own (never the project's ``env.py``),
and its ``upgrade()`` and ``downgrade()`` are rendered by Alembic itself in
offline mode for PostgreSQL. Every chunk of SQL Alembic emits is recorded with
the revision-file line and column of the call that produced it, so the SQL
engine's findings can be reported on the Python source. Alembic's own
transaction handling comes through as SQL: a migration runs in a transaction,
and ``autocommit_block()`` emits ``COMMIT`` ... ``BEGIN`` around its body.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import re
import sys
import tokenize
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the linting below needs these; the history helpers (used by verify and
    # the runner) do not, and importing them would load sqlglot for nothing
    from expandcontract.lint.context import Context
    from expandcontract.lint.engine import RuleSet
    from expandcontract.lint.finding import Finding

PHASES = ("expand", "migrate", "switch", "contract")
REVISION_ERROR = "EC005"


@dataclass
class RevisionMeta:
    """What a revision file declares, read from its source without importing it."""

    path: Path
    revision: str | None = None
    down_revisions: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()


@dataclass
class Chunk:
    sql: str
    line: int
    column: int


@dataclass
class Rendered:
    chunks: list[Chunk] = field(default_factory=list)
    error: tuple[int, str] | None = None


def looks_like_revision(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "def upgrade" in head and "revision" in head


def read_meta(path: Path) -> RevisionMeta:
    meta = RevisionMeta(path)
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return meta
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets, value = [node.target.id], node.value
        for name in targets:
            try:
                literal = ast.literal_eval(value) if value is not None else None
            except ValueError:
                continue
            items = (
                tuple(literal)
                if isinstance(literal, list | tuple)
                else (literal,)
                if literal
                else ()
            )
            if name == "revision":
                meta.revision = literal
            elif name == "down_revision":
                meta.down_revisions = items
            elif name == "branch_labels":
                meta.branch_labels = items
    return meta


def phase_of(meta: RevisionMeta, history: dict[str, RevisionMeta]) -> str | None:
    """The phase branch a revision is on: the label met walking down its single parents."""
    seen: set[str] = set()
    current: RevisionMeta | None = meta
    while current is not None:
        labels = [label for label in current.branch_labels if label in PHASES]
        if labels:
            return labels[0]
        if len(current.down_revisions) != 1 or current.down_revisions[0] in seen:
            return None
        seen.add(current.down_revisions[0])
        current = history.get(current.down_revisions[0])
    return None


def load_history(directory: Path) -> dict[str, RevisionMeta]:
    history = {}
    for file in sorted(directory.glob("*.py")):
        meta = read_meta(file)
        if meta.revision:
            history[meta.revision] = meta
    return history


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


def render(module, function: str, path: Path) -> Rendered:
    """Run ``module.<function>()`` against an offline PostgreSQL context; record every chunk."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    result = Rendered()
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    filename = str(path)

    def static_output(text: str) -> None:
        line, column = 1, 1
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == filename:
                line = frame.f_lineno
                positions = list(frame.f_code.co_positions())
                index = frame.f_lasti // 2
                if index < len(positions) and positions[index][2] is not None:
                    column = positions[index][2] + 1
                break
            frame = frame.f_back
        result.chunks.append(Chunk(text, line, column))

    context.impl.static_output = static_output  # type: ignore[method-assign]
    fn = getattr(module, function, None)
    if fn is None:
        return result
    try:
        with Operations.context(context):
            fn()
    except Exception as err:  # the revision's own code failed: report it, go on
        result.error = (_error_line(err, path), f"{type(err).__name__}: {err}")
    return result


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


def shares_transaction(versions: Path) -> bool:
    """Whether one ``alembic upgrade`` runs all its revisions in one transaction.

    Alembic's default; ``transaction_per_migration=True`` in ``env.py`` turns it off.
    ``env.py`` is read, never run.
    """
    env = versions.parent / "env.py"
    try:
        text = env.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
    return re.search(r"transaction_per_migration\s*=\s*True", text) is None


def lint_revision(
    path: Path,
    display: str,
    ruleset: RuleSet,
    history: dict[str, RevisionMeta] | None = None,
    open_not_valid: dict[tuple, str] | None = None,
) -> RevisionResult:
    """Lint one revision file: ``upgrade()`` and ``downgrade()``, each as its own unit.

    ``open_not_valid`` carries the NOT VALID constraints its parent revision left in a
    transaction this revision shares (see :func:`shares_transaction`).
    """
    from expandcontract.lint.context import Context
    from expandcontract.lint.engine import Collector
    from expandcontract.lint.finding import Finding

    meta = read_meta(path)
    history = history if history is not None else load_history(path.parent)
    phase = phase_of(meta, history)
    try:
        module = _import(path)
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt):
            raise
        collector = Collector(display, ruleset)
        collector.add(
            -1,
            _error_line(err, path),
            1,
            REVISION_ERROR,
            f"revision does not import: {type(err).__name__}: {err}",
            "Fix the error; the other revisions are still linted.",
        )
        return RevisionResult([f for _, f in collector.raw], 0)
    units = [
        (render(module, "upgrade", path), "up"),
        (render(module, "downgrade", path), "down"),
    ]
    # each suppression comment goes to the function whose op.* call it covers
    shares: list[list[tuple[int, int, str]]] = [[], []]
    for comment in _python_comments(path):
        lines = (comment[0], comment[0] + 1)
        owner = next(
            (i for i, (r, _) in enumerate(units) if any(c.line in lines for c in r.chunks)), 0
        )
        shares[owner].append(comment)
    findings: list[Finding] = []
    statements = 0
    carried: dict[tuple, str] = {}
    for (rendered, direction), comments in zip(units, shares, strict=True):
        ctx = Context(pg_version=ruleset.pg_version, assume_in_transaction=True)
        ctx.phase, ctx.direction, ctx.revision = phase, direction, True
        if direction == "up" and open_not_valid:
            ctx.not_valid_pending.update(open_not_valid)
            ctx.not_valid_origin.update(open_not_valid)
        unit, count = _lint_unit(rendered, display, ruleset, ctx, comments)
        findings.extend(unit)
        statements += count
        if direction == "up" and ctx.in_transaction:
            carried = {
                key: ctx.not_valid_origin.get(key, meta.revision or display)
                for key in ctx.not_valid_pending
            }
    seen: set[tuple] = set()
    unique = []
    for finding in sorted(findings, key=Finding.sort_key):
        key = (finding.line, finding.column, finding.code, finding.message)
        if key not in seen:  # one comment may go unused in both functions
            seen.add(key)
            unique.append(finding)
    return RevisionResult(unique, statements, carried)


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
    from expandcontract.sql.split import split

    # One synthetic script, each chunk on its own lines, mapped back to the Python source.
    text_parts: list[str] = []
    origin: dict[int, tuple[int, int]] = {}
    line = 1
    for chunk in rendered.chunks:
        sql = chunk.sql.strip()
        for offset in range(sql.count("\n") + 1):
            origin[line + offset] = (chunk.line, chunk.column)
        text_parts.append(sql if sql.rstrip().endswith(";") else sql + ";")
        line += sql.count("\n") + 1
    script = split("\n".join(text_parts))
    collector = Collector(display, ruleset)
    direction = ctx.direction
    judge(script, ctx, collector)
    if rendered.error:
        err_line, message = rendered.error
        collector.add(
            -1,
            0,
            0,
            REVISION_ERROR,
            f"{direction}grade() failed: {message}",
            "Fix the error; the rest of the revision is still linted.",
        )
        origin[0] = (err_line, 1)

    # Python suppressions: on the op.* line or the line above it.
    suppressions = []
    for py_line, py_col, text in comments:
        sup = parse_pragma(text, py_line, py_col, ruleset.lookup)
        if sup is None:
            continue
        sup.report_at = (py_line, py_col)
        target = next(
            (syn for syn, (src, _) in sorted(origin.items()) if src in (py_line, py_line + 1)),
            None,
        )
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
        elif f.code == PARSE_ERROR or f.line in origin:
            src_line, src_col = origin.get(f.line, (f.line, f.column))
        else:
            src_line, src_col = f.line, f.column
        mapped.append(
            Finding(f.path, src_line, src_col, f.code, f.rule, f.severity, f.message, f.hint)
        )
    return mapped, len(script.statements)
