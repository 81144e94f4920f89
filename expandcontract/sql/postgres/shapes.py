"""Settle the most common migration statements from their text, without a parse.

Most statements in real migrations take a handful of plain shapes: ``SET
lock_timeout``, ``ALTER TABLE t ADD COLUMN c text``, ``CREATE INDEX CONCURRENTLY ix
ON t (a, b)``, a foreign key ``NOT VALID``, an ``UPDATE`` with a ``WHERE``. For those
:func:`settle` returns the same :class:`Op` objects the full reader
(:mod:`expandcontract.sql.postgres.statements`, on sqlglot) would, from one regular expression each;
for anything else — a keyword used as a name, a cast, a comment inside the statement,
an option it does not know — it returns None and the statement goes the full way. A
lint whose statements are all settled here never imports sqlglot.

The two readers must agree: ``tests/test_shapes.py`` runs both over every statement of
the truth set, the benches and the test corpus, and over each table below.
"""

from __future__ import annotations

import re

from expandcontract.sql.op import Op
from expandcontract.sql.postgres.facts import (
    AE,
    ROW_EXCLUSIVE,
    SHARE,
    SRE,
    SUE,
    routine_body,
    signature_text,
)

# PostgreSQL's reserved key words (Appendix C): never a bare name, so a statement that uses
# one as a name goes to the full reader, which reports it.
RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)
# Names PostgreSQL accepts that sqlglot reads as key words (the full reader then fails):
# left to it, so that it reports them as it always has. tests/test_shapes.py sweeps
# sqlglot's key words to keep this list whole.
AWKWARD = frozenset(
    [
        "alter",
        "between",
        "connect_by_root",
        "describe",
        "drop",
        "exists",
        "function",
        "glob",
        "if",
        "insert",
        "partition",
        "partitioned_by",
        "qualify",
        "regexp",
        "revoke",
        "rlike",
        "rollback",
        "uncache",
        "unnest",
        "values",
        "xor",
    ]
)

# Type spellings -> (what the full reader writes, whether the type may be binary-coercible
# from another: the ``maybe_coercible`` flag of ALTER COLUMN TYPE).
TYPES: dict[str, tuple[str, bool]] = {
    "text": ("TEXT", True),
    "varchar": ("VARCHAR", True),
    "character varying": ("VARCHAR", True),
    "char": ("CHAR", True),
    "character": ("CHAR", True),
    "numeric": ("DECIMAL", True),
    "decimal": ("DECIMAL", True),
    "bytea": ("BYTEA", True),
    "bigint": ("BIGINT", False),
    "int8": ("BIGINT", False),
    "integer": ("INT", False),
    "int": ("INT", False),
    "int4": ("INT", False),
    "smallint": ("SMALLINT", False),
    "int2": ("SMALLINT", False),
    "boolean": ("BOOLEAN", False),
    "bool": ("BOOLEAN", False),
    "uuid": ("UUID", False),
    "date": ("DATE", False),
    "time": ("TIME", False),
    "timestamp": ("TIMESTAMP", False),
    "timestamptz": ("TIMESTAMPTZ", False),
    "timestamp with time zone": ("TIMESTAMPTZ", False),
    "timestamp without time zone": ("TIMESTAMP", False),
    "interval": ("INTERVAL", False),
    "real": ("REAL", False),
    "float4": ("REAL", False),
    "double precision": ("DOUBLE PRECISION", False),
    "float8": ("DOUBLE PRECISION", False),
    "json": ("JSON", False),
    "jsonb": ("JSONB", False),
    "inet": ("INET", False),
    "money": ("MONEY", False),
}
# the types that take (length) or (precision, scale)
MODIFIED = frozenset({"varchar", "character varying", "char", "character", "numeric", "decimal"})

# Defaults other than literals: spelling -> (what the full reader writes, volatility)
DEFAULTS: dict[str, tuple[str, str]] = {
    "now()": ("CURRENT_TIMESTAMP", "constant"),
    "current_timestamp": ("CURRENT_TIMESTAMP", "constant"),
    "current_date": ("CURRENT_DATE", "constant"),
    "localtimestamp": ("LOCALTIMESTAMP", "constant"),
    "current_user": ("CURRENT_USER", "constant"),
    "statement_timestamp()": ("statement_timestamp()", "constant"),
    "transaction_timestamp()": ("transaction_timestamp()", "constant"),
    "clock_timestamp()": ("clock_timestamp()", "volatile"),
    "timeofday()": ("timeofday()", "volatile"),
    "random()": ("random()", "volatile"),
    "gen_random_uuid()": ("GEN_RANDOM_UUID()", "volatile"),
    "uuid_generate_v4()": ("uuid_generate_v4()", "volatile"),
    "uuidv7()": ("uuidv7()", "volatile"),
    "true": ("TRUE", "constant"),
    "false": ("FALSE", "constant"),
    "null": ("NULL", "constant"),
}


class _Lazy:
    """A regular expression compiled on its first use: compiling every one of them up front
    cost a small file's lint a fifth of its time.

    Key words are written in capitals and matched against the upper-cased text (a
    case-blind pattern takes three times as long to compile); :meth:`full`, :meth:`head`
    and :meth:`every` hand back :class:`_Found` objects that read the original text.
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern, self.flags = pattern, flags

    def __getattr__(self, name: str):
        compiled = re.compile(self.pattern, self.flags)
        for method in ("match", "fullmatch", "search", "finditer", "findall", "sub"):
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    def full(self, text: str) -> _Found | None:
        """The match of all of ``text``, key words in any case."""
        upper = text.upper()
        found = self.fullmatch(upper) if len(upper) == len(text) else None
        return None if found is None else _Found(found, text)

    def head(self, text: str) -> _Found | None:
        """The match at the start of ``text``, key words in any case."""
        upper = text.upper()
        found = self.match(upper) if len(upper) == len(text) else None
        return None if found is None else _Found(found, text)

    def every(self, text: str) -> list[_Found]:
        upper = text.upper()
        if len(upper) != len(text):
            raise _Unsure
        return [_Found(found, text) for found in self.finditer(upper)]


class _Found:
    """A match over the upper-cased text, read from the original."""

    __slots__ = ("_match", "_text")

    def __init__(self, match: re.Match, text: str) -> None:
        self._match, self._text = match, text

    def group(self, name: str | int = 0) -> str | None:
        begin, end = self._match.span(name)
        return None if begin < 0 else self._text[begin:end]

    def start(self, name: str | int = 0) -> int:
        return self._match.start(name)


_W = r"\s+"  # white space between words (comments never reach here)
_NAME = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"[^"]+")'
_QNAME = rf"{_NAME}(?:\.{_NAME}){{0,2}}"
_TYPE = (
    r"(?P<type>[A-Za-z]+(?:\s+(?:VARYING|PRECISION|WITH(?:OUT)?\s+TIME\s+ZONE))?)"
    r"(?:\s*\(\s*(?P<p>\d+)\s*(?:,\s*(?P<s>\d+)\s*)?\))?"
)
_DEFAULT = r"(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|[A-Za-z_]+(?:\(\))?)"
_NAMES = rf"\(\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\)"
_TABLE = rf"(?P<table>{_QNAME})"

_SET = _Lazy(
    rf"SET(?:{_W}(?P<local>LOCAL)|{_W}SESSION)?{_W}(?P<setting>[A-Za-z_.]+)\s*(?:=|{_W}TO{_W})\s*"
    r"(?P<value>'[^']*'|\d+|[A-Za-z_]+)",
)
_TRANSACTION = {
    "BEGIN": "begin",
    "BEGIN TRANSACTION": "begin",
    "BEGIN WORK": "begin",
    "START TRANSACTION": "begin",
    "COMMIT": "commit",
    "COMMIT TRANSACTION": "commit",
    "COMMIT WORK": "commit",
    "END": "commit",
    "ROLLBACK": "rollback",
    "ABORT": "rollback",
}
_ALTER = _Lazy(
    rf"ALTER{_W}TABLE{_W}(?P<exists>IF{_W}EXISTS{_W})?(?:ONLY{_W})?{_TABLE}{_W}(?P<action>.*)",
    re.S,
)
_ADD_COLUMN = _Lazy(
    rf"ADD(?:{_W}COLUMN)?{_W}(?!IF\b)(?P<column>{_NAME}){_W}{_TYPE}"
    rf"(?P<tail>(?:{_W}(?:NOT{_W}NULL|NULL|DEFAULT{_W}{_DEFAULT}))*)",
)
_TAIL = _Lazy(rf"NOT{_W}NULL|NULL|DEFAULT{_W}(?P<default>{_DEFAULT})")
_ALTER_COLUMN = _Lazy(
    rf"ALTER(?:{_W}COLUMN)?{_W}(?P<column>{_NAME}){_W}"
    rf"(?:(?P<set_not_null>SET{_W}NOT{_W}NULL)|(?P<drop_not_null>DROP{_W}NOT{_W}NULL)"
    rf"|(?P<drop_default>DROP{_W}DEFAULT)|SET{_W}DEFAULT{_W}(?P<default>{_DEFAULT})"
    rf"|(?:SET{_W}DATA{_W})?TYPE{_W}{_TYPE})",
)
_FOREIGN_KEY = _Lazy(
    rf"ADD{_W}CONSTRAINT{_W}(?P<name>{_NAME}){_W}FOREIGN{_W}KEY\s*{_NAMES}\s*REFERENCES{_W}"
    rf"(?P<ref>{_QNAME})\s*(?:{_NAMES})?"
    rf"(?:{_W}ON{_W}(?:DELETE|UPDATE){_W}(?:CASCADE|RESTRICT|NO{_W}ACTION|SET{_W}NULL))*"
    rf"(?P<not_valid>{_W}NOT{_W}VALID)?",
)
_KEY = _Lazy(
    rf"ADD{_W}CONSTRAINT{_W}(?P<name>{_NAME}){_W}(?P<kind>UNIQUE|PRIMARY{_W}KEY)\s*{_NAMES}",
)
_CHECK = _Lazy(
    rf"ADD{_W}CONSTRAINT{_W}(?P<name>{_NAME}){_W}CHECK\s*\(\s*"
    rf"(?:(?P<column>{_NAME}){_W}IS{_W}NOT{_W}NULL|(?P<other>[^()']*?))\s*\)"
    rf"(?P<not_valid>{_W}NOT{_W}VALID)?",
)
_VALIDATE = _Lazy(rf"VALIDATE{_W}CONSTRAINT{_W}(?P<name>{_NAME})")
_DROP = _Lazy(
    rf"DROP(?:{_W}(?P<what>COLUMN|CONSTRAINT))?{_W}(?:IF{_W}EXISTS{_W})?(?P<name>{_NAME})"
    rf"(?:{_W}(?:CASCADE|RESTRICT))?",
)
_RENAME = _Lazy(
    rf"RENAME{_W}(?:(?P<what>COLUMN|CONSTRAINT){_W})?(?P<old>{_NAME}){_W}TO{_W}(?P<new>{_NAME})"
    rf"|RENAME{_W}TO{_W}(?P<table>{_NAME})",
)
_CREATE_INDEX = _Lazy(
    rf"CREATE{_W}(?P<unique>UNIQUE{_W})?INDEX(?P<concurrently>{_W}CONCURRENTLY)?"
    rf"(?:{_W}IF{_W}NOT{_W}EXISTS)?(?:{_W}(?!ON\b)(?P<name>{_NAME}))?{_W}ON{_W}(?!ONLY\b){_TABLE}"
    rf"(?:{_W}USING{_W}[A-Za-z]+)?\s*\(\s*{_NAME}(?:{_W}(?:ASC|DESC))?"
    rf"(?:\s*,\s*{_NAME}(?:{_W}(?:ASC|DESC))?)*\s*\)",
)
_DROP_INDEX = _Lazy(
    rf"DROP{_W}INDEX(?P<concurrently>{_W}CONCURRENTLY)?(?:{_W}IF{_W}EXISTS)?{_W}(?P<name>{_QNAME})"
    rf"(?:{_W}(?:CASCADE|RESTRICT))?",
)
_CREATE_TABLE = _Lazy(
    rf"CREATE{_W}TABLE{_W}(?P<exists>IF{_W}NOT{_W}EXISTS{_W})?{_TABLE}\s*\((?P<body>.*)\)",
    re.S,
)
_COLUMN_DEF = _Lazy(
    rf"(?P<column>{_NAME}){_W}{_TYPE}"
    rf"(?:{_W}(?:NOT{_W}NULL|NULL|PRIMARY{_W}KEY|UNIQUE|DEFAULT{_W}{_DEFAULT}"
    rf"|REFERENCES{_W}{_QNAME}\s*(?:{_NAMES})?))*",
)
_COLUMN_DEFAULT = _Lazy(rf"DEFAULT{_W}({_DEFAULT})")
_TABLE_CONSTRAINT = _Lazy(
    rf"(?:CONSTRAINT{_W}{_NAME}{_W})?(?:PRIMARY{_W}KEY|UNIQUE)\s*{_NAMES}"
    rf"|(?:CONSTRAINT{_W}{_NAME}{_W})?FOREIGN{_W}KEY\s*{_NAMES}\s*REFERENCES{_W}{_QNAME}"
    rf"\s*(?:{_NAMES})?",
)
# UPDATE and DELETE with plain assignments and an AND of plain comparisons (strings already
# blanked to ''): the statement's frame first, then each part on its own
_DML = _Lazy(
    rf"(?:UPDATE{_W}(?P<updated>{_QNAME})(?:{_W}(?:AS{_W})?(?!SET\b){_NAME})?{_W}SET{_W}"
    rf"(?P<assignments>.*?)|DELETE{_W}FROM{_W}(?P<deleted>{_QNAME}))"
    rf"(?:{_W}WHERE{_W}(?P<condition>.*))?",
    re.S,
)
_OPERAND = r"[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)*|\d+(?:\.\d+)?|''"
_EXPR = rf"(?:{_OPERAND})(?:\s*(?:[-+*/%]|\|\|)\s*(?:{_OPERAND}))*"
_ASSIGNMENTS = _Lazy(rf"{_NAME}\s*=\s*{_EXPR}(?:\s*,\s*{_NAME}\s*=\s*{_EXPR})*")
_COMPARISON = (
    rf"{_EXPR}(?:\s*(?:=|<>|!=|<=|>=|<|>)\s*{_EXPR}|{_W}IS(?:{_W}NOT)?{_W}NULL"
    rf"|{_W}BETWEEN{_W}{_EXPR}{_W}AND{_W}{_EXPR})"
)
_CONDITION = _Lazy(rf"{_COMPARISON}(?:{_W}AND{_W}{_COMPARISON})*")
_NULL_FILTER = _Lazy(rf"(?:{_NAME}\.)*(?P<column>{_NAME}){_W}IS{_W}NULL")
# a conjunct that picks rows by value (`id = 5`, `code = ''`): a lookup, not a pass
_LITERAL = r"(?:\d+(?:\.\d+)?|'')"
_POINT = _Lazy(
    rf"(?:^|\bAND\s+)(?:(?:{_NAME}\.)*{_NAME}\s*=\s*{_LITERAL}|{_LITERAL}\s*=\s*(?:{_NAME}\.)*{_NAME})"
    r"\s*(?:$|AND\b)",
    re.I,
)
# the key words of a plain condition (never names)
_CONDITION_WORDS = frozenset({"and", "between", "is", "not", "null"})
_FUNCTION = _Lazy(rf"CREATE{_W}(?P<replace>OR{_W}REPLACE{_W})?FUNCTION{_W}(?P<name>{_QNAME})\s*\(")
_STRING = _Lazy(r"'(?:[^']|'')*'")
_NAMES_IN = _Lazy(_NAME)
_DOLLAR = _Lazy(r"\$(\w*)\$.*?\$\1\$", re.S)
_WORD = _Lazy(r"[A-Za-z_][A-Za-z0-9_$]*")
_HEAD = _Lazy(r"[A-Za-z_][A-Za-z0-9_$]*")

# statements whose first word says they take no lock a rule judges and that the statement
# table holds nothing against (no version, transaction block or breaking change): the full
# reader still reads the others (SELECT ... INTO, DO bodies, REVOKE, MERGE, VACUUM, ...)
_IGNORED = frozenset(
    {
        "INSERT",
        "VALUES",
        "TABLE",
        "COMMENT",
        "GRANT",
        "SHOW",
        "PREPARE",
        "EXECUTE",
        "DEALLOCATE",
        "LISTEN",
        "NOTIFY",
        "UNLISTEN",
        "LOAD",
        "SECURITY",
        "EXPLAIN",
        "(",
    }
)


_NO_FLAGS: frozenset[str] = frozenset()


def settle(text: str, start: int) -> list[Op] | None:
    """The operations of the statement ``text`` (no comments, no trailing semicolon) that
    starts at offset ``start``; None when it is not one of the plain shapes."""
    head = _HEAD.match(text)
    if head is None:
        return None
    word = head.group().upper()
    if word in _IGNORED:
        if "$" in text or (word == "INSERT" and _SELECT.search(text.upper())):
            return None  # a body to read; INSERT ... SELECT reads its source's rows
        return []
    reader = _READERS.get(word)
    if reader is None:
        return None
    try:
        return reader(text, start)
    except _Unsure:
        return None


class _Unsure(Exception):
    """A name that is a key word, a type or default the tables do not hold."""


def _name(text: str) -> str:
    if text.startswith('"'):
        return text[1:-1]
    lowered = text.lower()
    if lowered in RESERVED or lowered in AWKWARD:
        raise _Unsure
    return lowered


def _qname(text: str) -> str:
    if '"' not in text and "." not in text:
        return _name(text)
    if text.count('"') % 2:
        raise _Unsure
    parts = [_name(p) for p in _NAMES_IN.findall(text)]
    if len(parts) > 1 and parts[-2] == "public":
        parts = parts[-1:]
    return ".".join(parts)


def _type(m: re.Match) -> tuple[str, bool]:
    spelling = " ".join(m.group("type").lower().split())
    known = TYPES.get(spelling)
    if known is None:
        raise _Unsure
    sql, widening = known
    if m.group("p") is not None:
        if spelling not in MODIFIED:
            raise _Unsure
        sql += f"({m.group('p')}" + (f", {m.group('s')})" if m.group("s") else ")")
    return sql, widening


def _default(text: str) -> tuple[str, str]:
    """(what the full reader writes, volatility) of a default."""
    if text.startswith("'") or text[:1].isdigit() or text[:1] == "-":
        return text, "constant"
    known = DEFAULTS.get(text.lower())
    if known is None:
        raise _Unsure
    return known


def _transaction(text: str, start: int) -> list[Op] | None:
    kind = _TRANSACTION.get(" ".join(text.upper().split()))
    return [Op(kind, offset=start)] if kind else None


def _set(text: str, start: int) -> list[Op] | None:
    m = _SET.full(text)
    if m is None:
        return None
    setting = m.group("setting").lower()
    if setting not in ("lock_timeout", "statement_timeout"):
        return [] if "." not in setting else None
    value = m.group("value")
    if value.startswith("'"):
        value = value[1:-1]
    flags = frozenset({"local"} if m.group("local") else ())
    return [Op("set_" + setting, value=value, flags=flags, offset=start)]


def _alter(text: str, start: int) -> list[Op] | None:
    m = _ALTER.full(text)
    if m is None:
        return None
    table = _qname(m.group("table"))
    action = m.group("action")
    offset = start + m.start("action")
    words = action[:16].split(None, 2)
    first = words[0].upper() if words else ""
    if first == "ADD" and len(words) > 1 and words[1].upper() == "CONSTRAINT":
        reader = _add_constraint
    else:
        reader = _ACTIONS.get(first)
    op = reader(action, table, offset) if reader is not None else None
    return None if op is None else [op]


def _add_column(action: str, table: str, offset: int) -> Op | None:
    m = _ADD_COLUMN.full(action)
    if m is None:
        return None
    type_sql, _ = _type(m)
    flags = set()
    default = default_sql = None
    tail = m.group("tail")
    for part in _TAIL.every(tail) if tail else ():
        if part.group("default") is not None:
            default_sql, default = _default(part.group("default"))
        elif part.group().upper().startswith("NOT"):
            flags.add("not_null")
    return Op(
        "add_column",
        table=table,
        column=_name(m.group("column")),
        type_sql=type_sql,
        default=default,
        default_sql=default_sql,
        flags=frozenset(flags) if flags else _NO_FLAGS,
        lock=AE,
        offset=offset,
    )


def _alter_column(action: str, table: str, offset: int) -> Op | None:
    m = _ALTER_COLUMN.full(action)
    if m is None:
        return None
    column = _name(m.group("column"))
    if m.group("type") is not None:
        type_sql, widening = _type(m)
        flags = frozenset({"maybe_coercible"} if widening else ())
        return Op(
            "alter_type",
            table=table,
            column=column,
            type_sql=type_sql,
            flags=flags,
            lock=AE,
            offset=offset,
        )
    if m.group("default") is not None:
        default_sql, _ = _default(m.group("default"))
        return Op(
            "set_default",
            table=table,
            column=column,
            lock=AE,
            offset=offset,
            default_sql=default_sql,
        )
    kind = next(k for k in ("set_not_null", "drop_not_null", "drop_default") if m.group(k))
    return Op(kind, table=table, column=column, lock=AE, offset=offset)


def _add_constraint(action: str, table: str, offset: int) -> Op | None:
    m = _FOREIGN_KEY.full(action)
    if m is not None:
        return Op(
            "add_constraint",
            table=table,
            name=_name(m.group("name")),
            constraint="foreign_key",
            not_valid=bool(m.group("not_valid")),
            ref_table=_qname(m.group("ref")),
            lock=SRE,
            offset=offset,
        )
    m = _KEY.full(action)
    if m is not None:
        kind = "unique" if m.group("kind").upper() == "UNIQUE" else "primary_key"
        return Op(
            "add_constraint",
            table=table,
            name=_name(m.group("name")),
            constraint=kind,
            lock=AE,
            offset=offset,
        )
    m = _CHECK.full(action)
    if m is None:
        return None
    other = m.group("other")
    if other is not None and (not other.strip() or _WORD.search(other) is None):
        return None  # a CHECK on literals alone: the full reader judges it
    if other is not None and {w.lower() for w in _WORD.findall(other)} & RESERVED:
        return None  # NOT, NULL, IS, ...: a shape the full reader knows better
    return Op(
        "add_constraint",
        table=table,
        name=_name(m.group("name")),
        constraint="check",
        not_valid=bool(m.group("not_valid")),
        column=_name(m.group("column")) if m.group("column") else None,
        lock=AE,
        offset=offset,
    )


def _validate(action: str, table: str, offset: int) -> Op | None:
    m = _VALIDATE.full(action)
    if m is None:
        return None
    return Op(
        "validate_constraint", table=table, name=_name(m.group("name")), lock=SUE, offset=offset
    )


def _drop(action: str, table: str, offset: int) -> Op | None:
    m = _DROP.full(action)
    if m is None:
        return None
    name = _name(m.group("name"))
    if (m.group("what") or "COLUMN").upper() == "COLUMN":
        return Op("drop_column", table=table, column=name, lock=AE, offset=offset)
    return Op("drop_constraint", table=table, name=name, lock=AE, offset=offset)


def _rename(action: str, table: str, offset: int) -> Op | None:
    m = _RENAME.full(action)
    if m is None:
        return None
    if m.group("table") is not None:
        return Op(
            "rename_table", table=table, new_name=_name(m.group("table")), lock=AE, offset=offset
        )
    if (m.group("what") or "").upper() == "CONSTRAINT":
        _name(m.group("old")), _name(m.group("new"))  # key words: the full reader's
        return Op("rename_constraint", table=table, lock=AE, offset=offset)
    return Op(
        "rename_column",
        table=table,
        column=_name(m.group("old")),
        new_name=_name(m.group("new")),
        lock=AE,
        offset=offset,
    )


# an action's reader by its first word (ADD CONSTRAINT goes to _add_constraint)
_ACTIONS = {
    "ADD": _add_column,
    "ALTER": _alter_column,
    "VALIDATE": _validate,
    "DROP": _drop,
    "RENAME": _rename,
}


def _create(text: str, start: int) -> list[Op] | None:
    m = _CREATE_INDEX.full(text)
    if m is not None:
        concurrently = bool(m.group("concurrently"))
        return [
            Op(
                "create_index",
                table=_qname(m.group("table")),
                name=_name(m.group("name")) if m.group("name") else None,
                concurrently=concurrently,
                lock=SUE if concurrently else SHARE,
                flags=frozenset({"unique"} if m.group("unique") else ()),
                offset=start,
            )
        ]
    m = _CREATE_TABLE.full(text)
    if m is not None:
        return _create_table(m, start)
    m = _FUNCTION.head(text)
    if m is not None:
        return _create_function(m, text, start)
    return None


def _create_table(m: re.Match, start: int) -> list[Op] | None:
    columns = []
    for element in _top_level_items(m.group("body")):
        column = _COLUMN_DEF.full(element)
        if column is not None:
            for default in _COLUMN_DEFAULT.every(element):
                _default(default.group(1))  # one the tables do not hold: the full reader's
            columns.append((_name(column.group("column")), _type(column)[0]))
        elif _TABLE_CONSTRAINT.full(element) is None:
            return None
    flags = frozenset({"if_not_exists"} if m.group("exists") else ())
    return [
        Op(
            "create_table",
            table=_qname(m.group("table")),
            flags=flags,
            columns=tuple(columns),
            offset=start,
        )
    ]


def _top_level_items(body: str) -> list[str]:
    """``body`` split on commas outside parentheses; raises _Unsure on quotes."""
    if "'" in body or '"' in body:
        raise _Unsure
    items, depth, begin = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise _Unsure
        elif ch == "," and depth == 0:
            items.append(body[begin:i].strip())
            begin = i + 1
    items.append(body[begin:].strip())
    return items


def _create_function(m: re.Match, text: str, start: int) -> list[Op] | None:
    if '"' in text:
        return None
    bare = _STRING.sub("''", _DOLLAR.sub("''", text))
    if "$" in bare:
        return None
    words = [w.upper() for w in _WORD.findall(bare)]
    volatility = next(
        (w.lower() for w in words if w in ("IMMUTABLE", "STABLE", "VOLATILE")), "volatile"
    )
    return [
        Op(
            "create_function",
            name=_qname(m.group("name")),
            value=volatility,
            type_sql=signature_text(text),
            body=routine_body(text),
            flags=frozenset({"or_replace"} if m.group("replace") else ()),
            offset=start,
        )
    ]


def _drop_statement(text: str, start: int) -> list[Op] | None:
    m = _DROP_INDEX.full(text)
    if m is None:
        return None
    concurrently = bool(m.group("concurrently"))
    return [
        Op(
            "drop_index",
            name=_qname(m.group("name")),
            concurrently=concurrently,
            lock=SUE if concurrently else AE,
            offset=start,
        )
    ]


def _dml(text: str, start: int) -> list[Op] | None:
    blanked = _STRING.sub("''", text)
    if "$" in blanked:
        return None
    m = _DML.full(blanked)
    if m is None:
        return None
    updated = m.group("updated")
    if updated is not None and _ASSIGNMENTS.full(m.group("assignments")) is None:
        return None
    table = _qname(updated or m.group("deleted"))
    condition = m.group("condition")
    flags: set[str] = set()
    column = None
    if condition is not None:
        if _CONDITION.full(condition) is None:
            return None
        names = [w.lower() for w in _WORD.findall(condition)]
        names = [w for w in names if w not in _CONDITION_WORDS]
        if any(w in AWKWARD for w in names) or all(w in RESERVED for w in names):
            return None  # literals alone may be trivially true: the full reader decides
        flags.add("where")
        null = _NULL_FILTER.full(condition)
        if null is not None:
            flags.add("null_filter")
            column = _name(null.group("column"))
        if _POINT.search(condition.strip()):
            flags.add("point")
    return [
        Op(
            "update" if updated else "delete",
            table=table,
            column=column,
            lock=ROW_EXCLUSIVE,
            flags=frozenset(flags),
            offset=start,
        )
    ]


def _query(text: str, start: int) -> list[Op] | None:
    """A SELECT without INTO, a WITH that changes nothing: no operation."""
    if "$" in text or '"' in text:
        return None
    upper = text.upper()
    if upper.startswith("WITH"):
        return None if _CHANGES.search(upper) else []
    bare = _STRING.sub("''", upper)
    return None if _INTO.search(bare) or "SETVAL" in bare else []


_INTO = _Lazy(r"\bINTO\b")
_SELECT = _Lazy(r"\bSELECT\b")
_CHANGES = _Lazy(r"\b(?:UPDATE|DELETE)\b")


_READERS = {
    "SELECT": _query,
    "WITH": _query,
    "BEGIN": _transaction,
    "START": _transaction,
    "COMMIT": _transaction,
    "END": _transaction,
    "ROLLBACK": _transaction,
    "ABORT": _transaction,
    "SET": _set,
    "ALTER": _alter,
    "CREATE": _create,
    "DROP": _drop_statement,
    "UPDATE": _dml,
    "DELETE": _dml,
}
