"""The SQL a ``DO`` block, a function or procedure body, or a ``\\gexec`` runs.

A PL/pgSQL body is split into its statements; control words (``FOR ... LOOP``, ``IF ...
THEN``, ``BEGIN``, ``EXCEPTION WHEN ... THEN``) are peeled off, so that the SQL inside is
read as if written at the top level. ``EXECUTE`` of a constant string, a concatenation of
constants, or ``format()`` with constant arguments is resolved to the statement it runs;
anything else cannot be known before it runs and is said so (:class:`Dynamic`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from expandcontract.sql.postgres.facts import split_outside

_DOLLAR_BODY = re.compile(r"(?s)\$(\w*)\$(.*?)\$\1\$")
_STRING = re.compile(r"'((?:[^']|'')*)'")
_CONTROL = re.compile(
    r"(?is)^\s*(?:<<\w+>>\s*)?(?:"
    r"declare\b.*?\bbegin\b"
    r"|begin\b"
    r"|exception\s+when\b.*?\bthen\b"
    r"|when\b.*?\bthen\b"
    r"|(?:for|foreach|while)\b.*?\bloop\b"
    r"|loop\b"
    r"|(?:els)?if\b.*?\bthen\b"
    r"|elsif\b.*?\bthen\b"
    r"|else\b"
    r")\s*"
)
_SKIP = re.compile(
    r"(?is)^\s*(?:end\b|exit\b|continue\b|return\b|raise\b|assert\b|null\b|get\s+"
    r"(?:stacked\s+)?diagnostics\b|open\b|close\b|fetch\b|move\b|[\w.\[\]]+\s*:?=)"
)
_TRANSACTION = re.compile(r"(?is)^\s*(?:commit|rollback)\b")
_LOOP = re.compile(r"(?is)\b(?:loop)\b")
_EXECUTE = re.compile(r"(?is)^\s*execute\s+(.*)$")
_PERFORM = re.compile(r"(?is)^\s*perform\s+")


@dataclass
class Body:
    """What a body runs: the SQL of each statement (with ``in_loop``), and the EXECUTEs
    that could not be resolved."""

    statements: list[tuple[str, bool]] = field(default_factory=list)
    dynamic: list[str] = field(default_factory=list)
    commits: bool = False  # COMMIT / ROLLBACK inside: a procedure's own transactions
    loops: bool = False


def do_body(text: str) -> str | None:
    """The body of ``DO [LANGUAGE x] $$ ... $$`` (or ``DO '...'``)."""
    found = _DOLLAR_BODY.search(text)
    if found is not None:
        return found.group(2)
    found = _STRING.search(text)
    return found.group(1).replace("''", "'") if found is not None else None


def read_body(body: str, language: str = "plpgsql") -> Body:
    """The statements ``body`` runs, EXECUTEs resolved where their text is constant."""
    from expandcontract.sql.postgres.split import statement_ranges

    result = Body()
    depth = 0  # LOOPs open around the statement
    for start, end, _ in statement_ranges(body):
        part = body[start:end].strip().rstrip(";").strip()
        part = _strip_comments(part)
        if language != "plpgsql":
            if part:
                result.statements.append((part, False))
            continue
        opened = 0
        while True:
            control = _CONTROL.match(part)
            if control is None or not control.group().strip():
                break
            if _LOOP.search(control.group()):
                opened += 1
            part = part[control.end() :]
        if opened:
            result.loops = True
        depth += opened
        if re.match(r"(?is)^\s*end\s+loop\b", part):
            depth = max(depth - 1, 0)
            continue
        if not part or _SKIP.match(part):
            continue
        if _TRANSACTION.match(part):
            result.commits = True
            continue
        execute = _EXECUTE.match(part)
        if execute is not None:
            sql = resolve(_until_into(execute.group(1)))
            if sql is None:
                result.dynamic.append(execute.group(1).strip()[:80])
            else:
                result.statements.append((sql, depth > 0))
            continue
        part = _PERFORM.sub("SELECT ", part)
        result.statements.append((_without_into(part), depth > 0))
    return result


def _strip_comments(text: str) -> str:
    return re.sub(r"(?m)^\s*--[^\n]*$", "", text).strip()


def _until_into(expr: str) -> str:
    """An EXECUTE's expression, without its INTO / USING tail."""
    depth, quoted = 0, False
    for i, ch in enumerate(expr):
        if ch == "'":
            quoted = not quoted
        elif not quoted:
            depth += (ch == "(") - (ch == ")")
            if depth == 0 and re.match(r"(?i)\s(?:into|using)\b", expr[i:]):
                return expr[:i]
    return expr


def _without_into(sql: str) -> str:
    """``SELECT a INTO v FROM t``: PL/pgSQL's INTO a variable, not a new table."""
    if re.match(r"(?is)^\s*select\b", sql):
        return re.sub(r"(?is)\binto\s+(?:strict\s+)?[\w.,\s]+?\s+(?=from\b|$)", "", sql, count=1)
    return sql


def resolve(expr: str, unknown: str | None = None) -> str | None:
    """The text of a constant string expression: literals joined with ``||`` and
    ``format('...', args)`` with constant arguments. ``unknown``: what a non-constant
    ``format`` argument stands for (None: the expression is not constant)."""
    parts = _split_concat(expr.strip())
    if parts is None:
        return None
    out = []
    for part in parts:
        part = part.strip()
        literal = _literal(part)
        if literal is not None:
            out.append(literal)
            continue
        call = re.match(r"(?is)^format\s*\((.*)\)$", part)
        if call is None:
            if unknown is None:
                return None
            out.append(unknown)
            continue
        args = _split_args(call.group(1))
        template = _literal(args[0]) if args else None
        if template is None:
            return None
        values = []
        for arg in args[1:]:
            value = _literal(arg.strip())
            if value is None:
                if unknown is None:
                    return None
                value = unknown
            values.append(value)
        formatted = _format(template, values)
        if formatted is None:
            return None
        out.append(formatted)
    return "".join(out)


def _literal(text: str) -> str | None:
    found = re.fullmatch(r"(?s)[eE]?'((?:[^']|'')*)'(?:::\w+)?", text)
    if found is not None:
        return found.group(1).replace("''", "'")
    if re.fullmatch(r"-?\d+(?:\.\d+)?", text):
        return text
    found = _DOLLAR_BODY.fullmatch(text)
    return found.group(2) if found is not None else None


def _split_concat(expr: str) -> list[str] | None:
    return split_outside(expr, "||")


def _split_args(text: str) -> list[str]:
    return split_outside(text, ",") or []


def _format(template: str, values: list[str]) -> str | None:
    """PostgreSQL's ``format()``: %I a quoted name, %L a literal, %s text, %% a percent."""
    out, at, i = [], 0, 0
    while i < len(template):
        ch = template[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        spec = re.match(r"%(?:(\d+)\$)?(-?\d*)([sIL%])", template[i:])
        if spec is None:
            return None
        kind = spec.group(3)
        if kind == "%":
            out.append("%")
        else:
            index = int(spec.group(1)) - 1 if spec.group(1) else at
            at = index + 1
            if index >= len(values):
                return None
            value = values[index]
            if kind == "I":
                plain = re.fullmatch(r"[a-z_][a-z0-9_$]*", value)
                value = value if plain else '"' + value.replace('"', '""') + '"'
            elif kind == "L":
                value = "'" + value.replace("'", "''") + "'"
            out.append(value)
        i += len(spec.group())
    return "".join(out)


def gexec_templates(select: str) -> list[str] | None:
    """The statements a ``SELECT ... \\gexec`` generates, one per string expression of its
    select list, with what only its rows know written as a placeholder name; None when
    the select list builds no string it can read."""
    found = re.match(r"(?is)^\s*select\s+(.*?)(?:\s+from\b.*)?$", select)
    if found is None:
        return None
    templates = []
    for item in _split_args(found.group(1)):
        item = re.sub(r"(?is)\s+as\s+\w+\s*$", "", item.strip())
        sql = resolve(item, unknown="gexec_value")
        if sql is None:
            return None
        templates.append(sql)
    return templates or None
