"""PostgreSQL facts the rules judge by, apart from any one statement's syntax.

``type_change`` says whether ``ALTER COLUMN ... TYPE`` from a known type is
catalog-only (binary-coercible, no rewrite) or rewrites the table, following
PostgreSQL's own rules: its binary-coercible casts (``BINARY_CASTS``, from
``pg_cast``), and for the types migrations change most: ``varchar`` and
``text`` (longer or unlimited is free, shorter rewrites), ``numeric`` (more
precision at the same scale, or unconstrained, is free), and the same type with
the same modifiers (a no-op). Anything else between different types rewrites.
"""

from __future__ import annotations

import re
from functools import lru_cache

# PostgreSQL lock modes, weakest to strongest.
LOCK_ORDER = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)
AE = "ACCESS EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"
SUE = "SHARE UPDATE EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"
ROW_EXCLUSIVE = "ROW EXCLUSIVE"

_TEXTUAL = ("VARCHAR", "TEXT", "NVARCHAR")


# The readers' own spellings of common types -> sqlglot's name for the type: read without
# a parse (tests/test_shapes.py checks each against sqlglot).
WRITTEN_TYPES = {
    "BIGINT": "BIGINT",
    "BOOLEAN": "BOOLEAN",
    "BYTEA": "VARBINARY",
    "CHAR": "CHAR",
    "DATE": "DATE",
    "DECIMAL": "DECIMAL",
    "DOUBLE PRECISION": "DOUBLE",
    "INET": "INET",
    "INT": "INT",
    "INTERVAL": "INTERVAL",
    "JSON": "JSON",
    "JSONB": "JSONB",
    "MONEY": "MONEY",
    "REAL": "FLOAT",
    "SMALLINT": "SMALLINT",
    "TEXT": "TEXT",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMPTZ": "TIMESTAMPTZ",
    "UUID": "UUID",
    "VARCHAR": "VARCHAR",
}
_WRITTEN_FORM = re.compile(r"([A-Z][A-Z ]*[A-Z])(?:\((\d+)(?:, (\d+))?\))?")


@lru_cache(maxsize=1024)
def _parse(type_sql: str) -> tuple[str, tuple[int, ...]] | None:
    written = _WRITTEN_FORM.fullmatch(type_sql)
    if (
        written is not None
        and written.group(1) in WRITTEN_TYPES
        and (written.group(2) is None or written.group(1) in ("CHAR", "VARCHAR", "DECIMAL"))
    ):
        params = tuple(int(p) for p in written.group(2, 3) if p is not None)
        return WRITTEN_TYPES[written.group(1)], params
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        node = exp.DataType.build(type_sql, dialect="postgres")
    except (ParseError, ValueError):
        return None
    try:
        params = tuple(int(e.sql()) for e in node.expressions)
    except ValueError:
        return None
    kind = node.this  # a user-defined or unknown type (oid, regclass) comes back as text
    return (kind if isinstance(kind, str) else kind.name), params


# PostgreSQL's binary-coercible casts between built-in types that a column may change
# along (pg_cast: castmethod 'b', implicit or assignment), as format_type names them.
# tests/test_schema_aware.py checks this list against pg_cast on every server it runs on.
BINARY_CASTS = frozenset(
    {
        ("bit", "bit varying"),
        ("bit varying", "bit"),
        ("character varying", "character"),
        ("character varying", "text"),
        ("cidr", "inet"),
        ("integer", "oid"),
        ("oid", "integer"),
        ("text", "character"),
        ("text", "character varying"),
        ("xml", "character"),
        ("xml", "character varying"),
        ("xml", "text"),
    }
)
_ALIASES = {
    "varchar": "character varying",
    "char": "character",
    "bpchar": "character",
    "int": "integer",
    "int4": "integer",
    "varbit": "bit varying",
}


def pg_type_name(type_sql: str) -> tuple[str, bool]:
    """``type_sql`` as format_type spells its type, and whether it has a modifier."""
    text = " ".join(type_sql.lower().split())
    modified = "(" in text
    base = text.split("(")[0].strip()
    return _ALIASES.get(base, base), modified


def type_change(old_sql: str, new_sql: str) -> str | None:
    """``"free"`` when changing a column from ``old_sql`` to ``new_sql`` touches only the
    catalog, ``"rewrite"`` when PostgreSQL rewrites the table, None when unknown."""
    (old_name, _), (new_name, new_modified) = pg_type_name(old_sql), pg_type_name(new_sql)
    if (old_name, new_name) in BINARY_CASTS and not new_modified:
        return "free"  # a relabel, nothing to check: PostgreSQL keeps the table
    old, new = _parse(old_sql), _parse(new_sql)
    if old is None or new is None:
        return None
    (old_type, old_params), (new_type, new_params) = old, new
    if old == new:
        return "free"
    if old_type in _TEXTUAL and new_type in _TEXTUAL:
        if new_type == "TEXT" or not new_params:
            return "free"  # no length limit: nothing to check
        if old_params and old_type != "TEXT" and new_params[0] >= old_params[0]:
            return "free"
        return "rewrite"  # a limit to enforce on every row
    if old_type == new_type == "DECIMAL":
        if not new_params:
            return "free"
        old_scale = old_params[1] if len(old_params) > 1 else 0
        new_scale = new_params[1] if len(new_params) > 1 else 0
        if old_params and new_scale == old_scale and new_params[0] >= old_params[0]:
            return "free"
        return "rewrite"
    return "rewrite"


# Functions whose value differs per row: a DEFAULT calling one rewrites the table.
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "setseed",
        "txid_current",
        "random_normal",
    }
)
# Built-in stable or immutable functions sqlglot leaves as Anonymous. Any other
# unknown function is treated as volatile, as PostgreSQL does for a function
# created without a volatility label.
STABLE_FUNCTIONS = frozenset(
    {
        "now",
        "statement_timestamp",
        "transaction_timestamp",
        "localtimestamp",
        "localtime",
        "current_setting",
        "current_user",
        "session_user",
        "current_schema",
        "current_database",
        "to_jsonb",
        "to_json",
        "jsonb_build_object",
        "json_build_object",
        "jsonb_build_array",
        "json_build_array",
        "make_interval",
        "make_date",
        "make_timestamp",
        "make_timestamptz",
        "to_timestamp",
        "to_date",
        "to_char",
        "to_number",
        "array_fill",
        "pi",
        "inet_client_addr",
        # immutable: the same value for every row
        "uuid_nil",
        "uuid_ns_dns",
        "uuid_ns_url",
        "uuid_ns_oid",
        "uuid_ns_x500",
        "uuid_generate_v3",
        "uuid_generate_v5",
        "md5",
        "lower",
        "upper",
        "length",
        "coalesce",
        "nullif",
        "greatest",
        "least",
        "abs",
        "round",
        "trunc",
        "concat",
        "concat_ws",
        "left",
        "right",
        "substring",
        "replace",
        "btrim",
        "ltrim",
        "rtrim",
        "lpad",
        "rpad",
        "date_trunc",
        "timezone",
        "array_length",
        "cardinality",
        "int4range",
        "int8range",
        "numrange",
        "tstzrange",
        "daterange",
    }
)


# Statements that take no lock a migration linter judges (or whose bodies we never read).
IGNORED_STATEMENTS = frozenset(
    {
        "SELECT",
        "INSERT",
        "VALUES",
        "TABLE",
        "MERGE",
        "COMMENT",
        "GRANT",
        "REVOKE",
        "COPY",
        "ANALYZE",
        "ANALYSE",
        "SHOW",
        "SAVEPOINT",
        "RELEASE",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "DO",
        "CALL",
        "DISCARD",
        "LISTEN",
        "NOTIFY",
        "UNLISTEN",
        "CHECKPOINT",
        "SECURITY",
        "IMPORT",
        "LOAD",
        "REASSIGN",
        "FETCH",
        "MOVE",
        "CLOSE",
        "DECLARE",
        "EXPLAIN",
        "(",
    }
)


_ROUTINE = re.compile(
    r"(?is)^\s*create\s+(?:or\s+replace\s+)?(?:function|procedure)\s+"
    r'((?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?)\s*\('
)
_MODES = frozenset({"in", "out", "inout", "variadic"})
_RETURNS_END = frozenset(
    [
        "language",
        "as",
        "immutable",
        "stable",
        "volatile",
        "strict",
        "security",
        "set",
        "cost",
        "rows",
        "parallel",
        "begin",
        "return",
        "window",
        "called",
        "leakproof",
        "not",
        "external",
        "transform",
        "support",
    ]
)
_BLANK_STRINGS = re.compile(r"'(?:[^']|'')*'|\$(\w*)\$.*?\$\1\$", re.S)


def routine_signature(text: str) -> tuple[str, str] | None:
    """(argument types, return type) of ``CREATE [OR REPLACE] FUNCTION|PROCEDURE``, in
    format_type's spelling, comma-separated; None when the text is not one. What an
    overload or a new return type is told by."""
    found = _ROUTINE.match(text)
    if found is None:
        return None
    body = _BLANK_STRINGS.sub("''", text[found.end() :])
    close = _closing(body)
    if close is None:
        return None
    params, rest = body[:close], body[close + 1 :]
    types = []
    for param in split_outside(params, ",") or []:
        words = param.split()
        if not words:
            continue
        cut = next((k for k, w in enumerate(words) if w.lower() in ("default", "=")), None)
        words = words[:cut]
        if words and words[0].lower() in _MODES:
            if words[0].lower() == "out":
                continue
            words = words[1:]
        if len(words) > 1 and pg_type_name(" ".join(words))[0] not in _KNOWN_TYPES:
            words = words[1:]  # a parameter name first
        types.append(pg_type_name(" ".join(words))[0])
    returns = ""
    words = rest.split()
    if words[:1] and words[0].lower() == "returns":
        kept = []
        for word in words[1:]:
            if word.lower() in _RETURNS_END:
                break
            kept.append(word)
        returns = pg_type_name(" ".join(kept))[0]
    return ",".join(types), returns


def _closing(text: str) -> int | None:
    """The offset of the parenthesis that closes one already open at the start of ``text``."""
    depth = 1
    for at, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return at
    return None


def split_outside(text: str, sep: str) -> list[str] | None:
    """``text`` split on ``sep`` outside parentheses and string literals; None when a
    parenthesis or quote is left open."""
    parts, depth, quoted, begin, i = [], 0, False, 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif depth == 0 and text.startswith(sep, i):
                parts.append(text[begin:i])
                i += len(sep)
                begin = i
                continue
        i += 1
    if quoted or depth:
        return None
    parts.append(text[begin:])
    return parts


# type names of more than one word (a parameter list's first word is its name otherwise)
_KNOWN_TYPES = frozenset(
    {
        "double precision",
        "character varying",
        "timestamp with time zone",
        "timestamp without time zone",
        "time with time zone",
        "time without time zone",
        "bit varying",
    }
)


def signature_text(text: str) -> str | None:
    """:func:`routine_signature` as one string, ``"<argument types>|<return type>"``."""
    found = routine_signature(text)
    return None if found is None else "|".join(found)


_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def routine_body(text: str) -> tuple[str, str] | None:
    """(language, body) of ``CREATE FUNCTION|PROCEDURE``: its ``AS $$...$$`` or ``AS '...'``
    body, or its ``BEGIN ATOMIC ... END`` (SQL); None for a trigger function (it runs on
    writes, not where it is created or called)."""
    found = _AS_BODY.search(text)
    if found is None:
        atomic = _ATOMIC.search(text) if "ATOMIC" in text.upper() else None
        return ("sql", atomic.group(1)) if atomic is not None else None
    head = text[: found.start()]
    if _RETURNS_TRIGGER.search(head):
        return None
    language = _LANGUAGE.search(head) or _LANGUAGE.search(text, found.end())
    lang = language.group(1).lower() if language else "sql"
    if found.group("tag") is not None:
        end = text.find(f"${found.group('tag')}$", found.end())
        if end == -1:
            return None
        return lang, text[found.end() : end]
    body = _QUOTED.match(text, found.end() - 1)
    return (lang, body.group(1).replace("''", "'")) if body is not None else None


_AS_BODY = re.compile(r"(?i)\bas\s+(?:\$(?P<tag>\w*)\$|')")
_ATOMIC = re.compile(r"(?is)\bbegin\s+atomic\b(.*)\bend\s*$")
_RETURNS_TRIGGER = re.compile(r"(?i)\breturns\s+(?:event_)?trigger\b")
_LANGUAGE = re.compile(r"(?i)\blanguage\s+'?(\w+)")
