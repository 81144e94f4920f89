"""Run the rules over a SQL script, statement by statement, keeping context."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.errors import InputError, printable
from expandcontract.lint.context import Context
from expandcontract.lint.finding import Finding
from expandcontract.lint.rule import Rule
from expandcontract.lint.schema import Schema
from expandcontract.lint.suppress import Suppression, parse_pragma
from expandcontract.sql.op import Op, StatementError
from expandcontract.sql.target import DEFAULT_VERSION, Target

if TYPE_CHECKING:
    from expandcontract.sql.postgres.split import Script

PARSE_ERROR = "EC001"
UNUSED_SUPPRESSION = "EC002"
EMPTY_FILE = "EC003"
UNPHASED_HINT = (
    " This revision is on no phase branch: split the change into expand / migrate / switch /"
    " contract revisions (`expandcontract new ...`)."
)


@dataclass
class RuleSet:
    """The rules a run uses, with their effective severities. ``catalogue``: every rule
    there is (a suppression or a setting may name one this run does not use); the rules
    are passed in, the engine knows of no registry."""

    rules: list[Rule]
    catalogue: Sequence[Rule] = ()
    severity: dict[str, str] = field(default_factory=dict)
    pg_version: int = DEFAULT_VERSION  # the target's version, when no target is given
    target: Target | None = None
    assume_in_transaction: bool = False
    revision_timeout: float = 10.0  # seconds a revision's own code may run when rendered

    def __post_init__(self) -> None:
        if self.target is None:
            self.target = Target("postgresql", self.pg_version)
        self.pg_version = self.target.version
        self.enabled = {r.code for r in self.rules}
        self.by_kind: dict[str, list[Rule]] = {}
        self._for_kind: dict[str, list[Rule]] = {}
        self.every_kind: list[Rule] = []
        for rule in self.rules:
            if rule.check is None:
                continue
            if rule.kinds:
                for kind in rule.kinds:
                    self.by_kind.setdefault(kind, []).append(rule)
            else:
                self.every_kind.append(rule)
        every = [*self.catalogue, *self.rules]
        self.by_code = {r.code: r for r in every}
        # a rule code or name -> its code (what suppressions accept)
        self.lookup = {**{r.code: r.code for r in every}, **{r.name: r.code for r in every}}

    def severity_of(self, code: str) -> str:
        return self.severity.get(code) or self.by_code[code].severity

    def rules_for(self, kind: str) -> list[Rule]:
        """The enabled rules that judge an operation of ``kind``."""
        found = self._for_kind.get(kind)
        if found is None:
            every = self.by_kind.get(kind, []) + self.every_kind
            found = self._for_kind[kind] = [r for r in every if r.code in self.enabled]
        return found


class Collector:
    """Findings of one unit (a file, or one function of a revision) before suppression."""

    def __init__(self, path: str, ruleset: RuleSet) -> None:
        self.path = path
        self.ruleset = ruleset
        self.raw: list[tuple[int, Finding]] = []  # (statement index, finding)

    def add(self, index: int, line: int, column: int, code: str, message: str, hint: str) -> None:
        if code not in self.ruleset.enabled:
            return
        rule = self.ruleset.by_code[code]
        self.raw.append(
            (
                index,
                Finding(
                    path=self.path,
                    line=line,
                    column=column,
                    code=code,
                    rule=rule.name,
                    severity=self.ruleset.severity_of(code),
                    message=message,
                    hint=hint,
                ),
            )
        )


_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _looks_utf16(data: bytes) -> bool:
    """ASCII-range text in UTF-16 without a byte-order mark: a NUL in every other byte."""
    head = data[:4096]
    if len(head) < 4 or len(head) % 2:
        return False
    even, odd = head[0::2], head[1::2]
    return (odd.count(0) == len(odd) and even.count(0) == 0) or (
        even.count(0) == len(even) and odd.count(0) == 0
    )


# a migration file larger than this is refused (said, exit 2), never read whole: it is a
# data dump, and parsing it would take minutes and gigabytes
MAX_FILE_BYTES = 20 * 1024 * 1024


def read_source(path: Path, name: str | None = None) -> str:
    """Read a file as UTF-8 text, or raise InputError naming the file (as ``name``, its
    name in the report) and line."""
    name = name or printable(str(path))
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                f"{name}: {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB a "
                "migration file may have: a data dump is not linted; split the schema "
                "changes into a file of their own, or exclude this one"
            )
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{name}: cannot read: {err.strerror or err}") from None
    return decode_source(data, name)


def decode_source(data: bytes, name: str) -> str:
    """The text of a SQL file: UTF-8, or UTF-16/32 with its byte-order mark; anything
    else is an InputError that says what the file is."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec)
            except UnicodeDecodeError:
                raise InputError(
                    f"{name}: not valid {codec.upper()}; save the file as UTF-8"
                ) from None
    if _looks_utf16(data):
        raise InputError(f"{name}: UTF-16 text without a byte-order mark; save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise InputError(f"{name}:{line}: binary file (NUL byte), not SQL text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError(
            f"{name}:{line}:{column}: not valid UTF-8 (byte 0x{data[err.start]:02x}); "
            "save the file as UTF-8"
        ) from None
    return text.removeprefix("\ufeff")


def lint_sql(
    text: str,
    path: str,
    ruleset: RuleSet,
    schema: Schema | None = None,
    in_transaction: bool | None = None,
) -> tuple[list[Finding], int]:
    """Lint one SQL script; returns its findings and how many statements it has.
    ``schema``: what earlier migrations left (updated with what this one does);
    ``in_transaction``: whether it starts inside a transaction (None: as configured)."""
    from expandcontract.lint.sources.tools import prepare

    text, tool_transaction = prepare(text, path)
    script = ruleset.target.sql.split_script(text)
    collector = Collector(path, ruleset)
    ctx = Context(
        pg_version=ruleset.pg_version,
        assume_in_transaction=(
            (ruleset.assume_in_transaction or bool(tool_transaction))
            if in_transaction is None
            else in_transaction
        ),
    )
    if schema is not None:
        ctx.start_from(schema)
    judge(script, ctx, collector)
    if schema is not None:
        schema.replace(ctx.schema())
    if not script.statements:
        collector.add(-1, 1, 1, EMPTY_FILE, "the file has no SQL statements", "")
    suppressions = [
        s
        for c in script.comments
        if (s := parse_pragma(c.text, c.line, c.column, ruleset.lookup)) is not None
    ]
    return apply_suppressions(collector, suppressions, _statement_lines(script)), len(
        script.statements
    )


def _statement_lines(script: Script) -> list[tuple[int, int]]:
    return [(s.line, s.end_line) for s in script.statements]


def judge(script: Script, ctx: Context, collector: Collector) -> None:
    """Judge every statement of ``script`` in order, updating ``ctx`` as it goes."""
    positions = script.lines
    rules_for = collector.ruleset.rules_for
    analyze = collector.ruleset.target.sql.analyze
    for index, stmt in enumerate(script.stream()):
        ctx.statement_index = index
        try:
            ops = stmt.ops if stmt.ops is not None else analyze(stmt)
        except StatementError as err:
            unread = stmt.error is not None and "the rest of the file" in stmt.error
            collector.add(
                index,
                stmt.line,
                stmt.column,
                PARSE_ERROR,
                f"cannot read this statement: {err}",
                "Close it; nothing after it was linted."
                if unread
                else "Fix the SQL (is it PostgreSQL?); the rest of the file is still linted.",
            )
            continue
        except (RecursionError, Exception) as err:  # our bug, not the user's: say so, go on
            collector.add(
                index,
                stmt.line,
                stmt.column,
                PARSE_ERROR,
                f"cannot read this statement: the linter failed on it ({type(err).__name__}: "
                f"{str(err).splitlines()[0][:160] if str(err) else ''}); please report it",
                "The rest of the file is still linted; check this statement by hand.",
            )
            continue
        if ctx.routines and stmt.text.lstrip()[:6].upper().startswith(("CALL", "SELECT")):
            ops = [*ops, *_calls(stmt.text, stmt.start, ctx, collector.ruleset.target)]
        if ctx.new_enum_labels:  # a label added in this transaction, used before its commit
            used = ctx.new_enum_labels & stmt.strings()
            if used and not any(op.kind == "add_enum_value" for op in ops):
                ops = [*ops, Op("use_new_enum_value", value=min(used), offset=stmt.start)]
        for op in ops:
            for rule in rules_for(op.kind):
                line = column = 0  # found on the first violation: most operations have none
                for violation in rule.check(op, ctx) or ():
                    if not line:
                        at = op.offset if op.offset is not None else stmt.start
                        line, column = positions.position(at)
                    hint = violation.hint or rule.hint
                    if rule.breaking and ctx.revision and ctx.phase is None:
                        hint += UNPHASED_HINT
                    collector.add(index, line, column, rule.code, violation.message, hint)
            ctx.apply(op)
        ctx.end_statement()
    if ctx.retracted:  # findings a later statement showed to be harmless
        collector.raw = [(i, f) for i, f in collector.raw if (i, f.code) not in ctx.retracted]


def _calls(text: str, offset: int, ctx: Context, target: Target) -> list[Op]:
    """What the functions and procedures of this migration that a statement calls run."""
    ops = []
    for name, routine in ctx.routines.items():
        if re.search(rf"(?i)\b{re.escape(name)}\s*\(", text):
            ops.extend(target.sql.routine_ops(routine, offset))
    return ops


def apply_suppressions(
    collector: Collector,
    suppressions: list[Suppression],
    statement_lines: list[tuple[int, int]],
) -> list[Finding]:
    """Drop suppressed findings; report suppressions that suppressed nothing."""
    by_statement: dict[int, list[Suppression]] = {}
    file_level = [s for s in suppressions if s.file_level]
    for sup in suppressions:
        if sup.file_level:
            continue
        target = _target_statement(sup.line, statement_lines)
        if target is not None:
            by_statement.setdefault(target, []).append(sup)
    kept: list[Finding] = []
    for index, finding in collector.raw:
        covering = by_statement.get(index, []) + file_level
        hit = next((s for s in covering if finding.code in s.rules), None)
        if hit is None:
            kept.append(finding)
        else:
            hit.used.add(finding.code)
    for sup in suppressions:
        line, column = sup.position
        for word in sup.unknown:
            collector.add(
                -1,
                line,
                column,
                UNUSED_SUPPRESSION,
                f"suppression names an unknown rule {word!r}",
                "Use a rule code or name from `expandcontract rules`.",
            )
        for code in sup.rules:
            if code not in sup.used:
                name = collector.ruleset.by_code[code].name
                scope = "this file" if sup.file_level else "the statement it is attached to"
                collector.add(
                    -1,
                    line,
                    column,
                    UNUSED_SUPPRESSION,
                    f"suppression of {code} ({name}) matches nothing in {scope}",
                    "Remove the comment, or move it to the line above the statement.",
                )
    kept.extend(f for i, f in collector.raw if i == -1 and f.code == UNUSED_SUPPRESSION)
    return sorted(kept, key=Finding.sort_key)


def _target_statement(line: int, statement_lines: list[tuple[int, int]]) -> int | None:
    """The statement a suppression on ``line`` applies to: the one it sits in or precedes."""
    for index, (start, end) in enumerate(statement_lines):
        if start <= line <= end:
            return index
        if start > line:
            return index
    return None
