"""sqlglot's reading of a statement: the tree, and the names and values read from it.

One parser, tokenizer and generator (PostgreSQL dialect) serve every statement;
:func:`parse` turns sqlglot's errors into :class:`StatementError` worded for a person.
"""

from __future__ import annotations

import logging
import re

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError
from sqlglot.tokens import Token

from expandcontract.sql.op import StatementError
from expandcontract.sql.postgres.facts import STABLE_FUNCTIONS, VOLATILE_FUNCTIONS

# sqlglot logs a warning for every statement it hands back as a Command.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_DIALECT = Postgres()
# made once: sqlglot builds a fresh tokenizer, parser and generator on every call otherwise
TOKENIZER = _DIALECT.tokenizer()
_PARSER = _DIALECT.parser()
_GENERATOR = _DIALECT.generator(normalize_functions="lower")

SERIAL_TYPES = frozenset(
    {exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL, exp.DataType.Type.SMALLSERIAL}
)
# Target types that can be binary-coercible from the right source type.
WIDENING_TYPES = frozenset(
    {
        exp.DataType.Type.TEXT,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.NVARCHAR,
        exp.DataType.Type.DECIMAL,
        exp.DataType.Type.CHAR,
        exp.DataType.Type.VARBINARY,
    }
)


def parse(tokens: list[Token], sql: str) -> exp.Expression | None:
    try:
        trees = _PARSER.parse(tokens, sql)
    except ParseError as err:
        plainer = _without_unread_clauses(tokens)
        if plainer is None:
            raise StatementError(parse_message(err)) from None
        try:
            trees = _PARSER.parse(plainer, sql)
        except ParseError:
            raise StatementError(parse_message(err)) from None
    return trees[0] if trees else None


def _without_unread_clauses(tokens: list[Token]) -> list[Token] | None:
    """The statement without the PostgreSQL clauses SQLAlchemy renders and sqlglot 30
    cannot read, none of which changes a verdict: an identity's sequence options
    (``AS IDENTITY (INCREMENT BY 1 START WITH 1)``), ``UNIQUE NULLS DISTINCT`` (the
    default), an interval's seconds precision (``INTERVAL DAY TO SECOND (3)``),
    ``BIT VARYING`` (read as ``VARBIT``), and ``jsonb_object_agg`` (read as
    ``json_object_agg``, the same shape).
    None when there is none of them."""
    words = [t.text.upper() for t in tokens]
    kept: list[Token] = []
    changed = False
    i = 0
    while i < len(tokens):
        word = words[i]
        if word == "(" and words[i - 2 : i] == ["AS", "IDENTITY"]:
            depth, j = 0, i
            while j < len(tokens):
                depth += {"(": 1, ")": -1}.get(words[j], 0)
                j += 1
                if depth == 0:
                    break
            i, changed = j, True
            continue
        if word == "NULLS" and words[i + 1 : i + 2] == ["DISTINCT"] and words[i - 1] == "UNIQUE":
            i, changed = i + 2, True
            continue
        if word == "(" and words[i - 1] == "SECOND" and words[i - 2 : i - 1] != ["AS"]:
            i, changed = i + 3, True  # INTERVAL ... SECOND (p): the precision goes
            continue
        if word == "VARYING" and words[i - 1] == "BIT":
            kept[-1] = _renamed(kept[-1], "VARBIT")
            i, changed = i + 1, True
            continue
        if word == "JSONB_OBJECT_AGG":
            kept.append(_renamed(tokens[i], "json_object_agg"))
            i, changed = i + 1, True
            continue
        kept.append(tokens[i])
        i += 1
    return kept if changed else None


def _renamed(token: Token, text: str) -> Token:
    return Token(
        token.token_type, text, token.line, token.col, token.start, token.end, token.comments
    )


_TOKEN_DUMP = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+, col: \d+.*?>")


def parse_message(err: ParseError) -> str:
    if err.errors:
        first = err.errors[0]
        text = str(first.get("description") or "syntax error")
    else:
        text = str(err).splitlines()[0]
    return _TOKEN_DUMP.sub(lambda m: repr(m.group(1)), text)  # sqlglot's internals: the word


def table_name(node: exp.Expression | None) -> str | None:
    """The normalized name of a table node: unquoted parts folded, ``public.`` dropped."""
    if node is None:
        return None
    if isinstance(node, exp.Schema):
        node = node.this
    if not isinstance(node, exp.Table):
        return None
    parts = [p for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p]
    names = [ident_name(p) for p in parts]
    if len(names) > 1 and names[-2] == "public":
        names = names[-1:]
    return ".".join(names)


def ident_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Identifier):
        return node.this if node.quoted else node.this.lower()
    if isinstance(node, exp.Column | exp.Table):
        return ident_name(node.this)
    return node.name.lower()


def default_volatility(expr: exp.Expression) -> str:
    """``volatile`` when the default gives each row its own value, else ``constant``."""
    for node in expr.walk():
        if isinstance(node, exp.Rand | exp.Uuid):
            return "volatile"
        if isinstance(node, exp.Anonymous):
            name = node.name.lower()
            if name in VOLATILE_FUNCTIONS or name not in STABLE_FUNCTIONS:
                return "volatile"
    return "constant"


def sql_of(node: exp.Expression) -> str:
    return _GENERATOR.generate(node)  # copied first: a generator may rewrite what it reads
