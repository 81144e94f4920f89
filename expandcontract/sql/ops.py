"""What a statement does, as a list of operations the rules can judge.

Each statement is parsed alone with sqlglot (PostgreSQL dialect). Structured
trees are read node by node; where sqlglot gives up and returns an unparsed
``Command`` (VALIDATE CONSTRAINT, USING INDEX, DETACH PARTITION, REINDEX, ...)
or is known to misparse (``RENAME a TO b``), the statement's tokens go through
the small classifier in :mod:`expandcontract.sql.tokens`. Either way the rules
see the same :class:`Op` objects, so a rule never depends on which path a
statement took.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import re

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import ParseError
from sqlglot.tokens import Token

from expandcontract.sql.facts import AE, EXCLUSIVE, ROW_EXCLUSIVE, SHARE, SRE, SUE
from expandcontract.sql.op import Op, StatementError
from expandcontract.sql.split import Statement, split
from expandcontract.sql.tokens import Cursor, retokenize, split_top_level

# sqlglot logs a warning for every statement it hands back as a Command.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

_DIALECT = Postgres()
# made once: sqlglot builds a fresh tokenizer, parser and generator on every call otherwise
_TOKENIZER = _DIALECT.tokenizer()
_PARSER = _DIALECT.parser()
_GENERATOR = _DIALECT.generator(normalize_functions="lower")

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
    }
)
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


def analyze(stmt: Statement) -> list[Op]:
    """Return the operations of one statement (empty for statements we do not judge)."""
    if stmt.error:
        raise StatementError(stmt.error)
    if stmt.ops is not None:  # settled from its text by the plain shapes
        return stmt.ops
    cur = Cursor(retokenize(stmt.tokens))
    head = cur.peek()
    if head in ("ALTER", "CREATE", "DROP"):
        what = stmt.tokens[1].text.upper() if len(stmt.tokens) > 1 else ""
        if what not in OBJECT_WORDS:  # `ALTER ((TABLE ...`: not a statement, not "nothing"
            raise StatementError(f"unrecognized statement starting with {head} {what!r}")
    handler = _HANDLERS.get(head)
    if handler is None:
        if head in _IGNORED:
            return []
        raise StatementError(f"unrecognized statement starting with {stmt.tokens[0].text!r}")
    ops = handler(stmt, cur)
    what = stmt.tokens[1].text.upper() if len(stmt.tokens) > 1 else ""
    if not ops and (
        head in ("TRUNCATE", "LOCK", "REINDEX", "REFRESH", "CLUSTER")  # always an op when read
        or (head == "DROP" and what in ("TABLE", "INDEX", "SCHEMA"))
        or (head == "ALTER" and len(stmt.tokens) <= 2)
    ):
        words = " ".join(t.text for t in stmt.tokens[:3])
        raise StatementError(f"incomplete statement {words!r}: it names nothing to act on")
    for op in ops:
        if op.offset is None:
            op.offset = stmt.start
    return ops


# --- parsing helpers -------------------------------------------------------------------------


def _parse(tokens: list[Token], sql: str) -> exp.Expression | None:
    try:
        trees = _PARSER.parse(tokens, sql)
    except ParseError as err:
        raise StatementError(_parse_message(err)) from None
    return trees[0] if trees else None


_TOKEN_DUMP = re.compile(r"<Token token_type: [^,]+, text: (.*?), line: \d+, col: \d+.*?>")


def _parse_message(err: ParseError) -> str:
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


def _sql(node: exp.Expression) -> str:
    return _GENERATOR.generate(node)  # copied first: a generator may rewrite what it reads


# --- statement handlers ----------------------------------------------------------------------


def _transaction_begin(stmt: Statement, cur: Cursor) -> list[Op]:
    if cur.peek() == "BEGIN" and cur.peek(1) in ("", "TRANSACTION", "WORK", "ISOLATION", "READ"):
        return [Op("begin")]
    if cur.peek() == "START" and cur.peek(1) == "TRANSACTION":
        return [Op("begin")]
    raise StatementError(f"unrecognized statement starting with {cur.peek()!r}")


def _transaction_end(stmt: Statement, cur: Cursor) -> list[Op]:
    words = [t.text.upper() for t in stmt.tokens]
    if words[0] == "ROLLBACK" and "TO" in words:
        return []  # ROLLBACK TO SAVEPOINT stays in the transaction
    if "CHAIN" in words and "NO" not in words:
        return []  # COMMIT AND CHAIN opens the next transaction at once
    return [Op("commit" if words[0] in ("COMMIT", "END") else "rollback")]


def _set(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    local = cur.accept("LOCAL")
    cur.accept("SESSION")
    setting = cur.word()
    if setting not in ("lock_timeout", "statement_timeout"):
        return []
    if not (cur.accept("=") or cur.accept("TO")):
        return []
    value = " ".join(t.text for t in cur.rest()) or "DEFAULT"
    return [Op("set_" + setting, value=value, flags=frozenset({"local"} if local else ()))]


def _reset(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    setting = cur.word()
    if setting in ("lock_timeout", "all"):
        return [Op("set_lock_timeout", value="DEFAULT")]
    return []


def _create(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    cur.accept("OR", "REPLACE")
    while cur.peek() in ("TEMP", "TEMPORARY", "UNLOGGED", "GLOBAL", "LOCAL", "UNIQUE"):
        cur.advance()
    what = cur.peek()
    if what == "TABLE" or (what == "MATERIALIZED" and cur.peek(1) == "VIEW"):
        return _create_table(stmt, cur)
    if what == "INDEX":
        return _create_index(stmt, cur)
    if what == "TRIGGER" or (what == "CONSTRAINT" and cur.peek(1) == "TRIGGER"):
        cur.skip_past("ON")
        return [Op("create_trigger", table=cur.name(), lock=SRE)]
    if what in ("FUNCTION", "PROCEDURE"):
        cur.advance()
        words = [t.text.upper() for t in stmt.tokens if t.token_type.name != "STRING"]
        volatility = next(
            (w.lower() for w in words if w in ("IMMUTABLE", "STABLE", "VOLATILE")), "volatile"
        )
        return [Op("create_function", name=cur.name(), value=volatility)]
    if what in ("VIEW", "SEQUENCE", "TYPE", "DOMAIN", "RECURSIVE", "SCHEMA"):
        cur.accept("RECURSIVE")
        kind = (cur.word() or "").lower()
        existing = cur.accept("IF", "NOT", "EXISTS") or any(
            t.text.upper() == "REPLACE" for t in stmt.tokens[:3]
        )
        flags = frozenset({"if_not_exists"} if existing else ())
        return [Op("create_object", name=cur.name(), value=kind, flags=flags)]
    return []


def _create_table(stmt: Statement, cur: Cursor) -> list[Op]:
    # IF NOT EXISTS: the table may be there already, rows and all: not new
    words = [t.text.upper() for t in stmt.tokens[:8]]
    flags = {"if_not_exists"} if "EXISTS" in words else set()
    # sqlglot reads PARTITION BY as one token; spelt over lines it may be two
    every = [" ".join(t.text.upper().split()) for t in stmt.tokens]
    if "PARTITION BY" in every or any(
        a == "PARTITION" and b == "BY" for a, b in itertools.pairwise(every)
    ):
        flags.add("partitioned")
    flags = frozenset(flags)
    tree = _parse(stmt.tokens, stmt.text)
    if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW"):
        name = table_name(tree.this)
        if name:
            columns = tuple(
                (ident_name(c.this), _sql(c.args["kind"]))
                for c in (tree.this.expressions if isinstance(tree.this, exp.Schema) else [])
                if isinstance(c, exp.ColumnDef) and c.args.get("kind") is not None
            )
            return [Op("create_table", table=name, flags=flags, columns=columns)]
    cur.skip_past("TABLE", "VIEW")
    cur.accept("IF", "NOT", "EXISTS")
    return [Op("create_table", table=cur.name(), flags=flags)]


def _create_index(stmt: Statement, cur: Cursor) -> list[Op]:
    unique = any(t.text.upper() == "UNIQUE" for t in stmt.tokens[:3])
    try:
        tree = _parse(stmt.tokens, stmt.text)
    except StatementError:
        tree = None  # `ON ONLY t` is valid PostgreSQL that sqlglot rejects
    if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Index):
        index = tree.this
        params = index.args.get("params")
        columns = params.args.get("columns") or [] if params is not None else []
        if any(not isinstance(getattr(c, "this", c), exp.Column) for c in columns):
            flags_extra = {"expression"}  # a UNIQUE constraint cannot take it over
        else:
            flags_extra = set()
        if params is not None and params.args.get("where") is not None:
            flags_extra.add("partial")
        return [
            Op(
                "create_index",
                table=table_name(index.args.get("table")),
                name=ident_name(index.this) if index.this else None,
                concurrently=bool(tree.args.get("concurrently")),
                lock=SUE if tree.args.get("concurrently") else SHARE,
                flags=frozenset(({"unique"} if unique else set()) | flags_extra),
            )
        ]
    cur.skip_past("INDEX")
    concurrently = cur.accept("CONCURRENTLY")
    cur.accept("IF", "NOT", "EXISTS")
    name = None if cur.peek() == "ON" else cur.name()
    cur.skip_past("ON")
    # ON ONLY: the partitioned parent's own index, left invalid and built on no partition
    only = cur.accept("ONLY")
    flags = ({"unique"} if unique else set()) | ({"only"} if only else set())
    return [
        Op(
            "create_index",
            table=cur.name(),
            name=name,
            concurrently=concurrently,
            lock=SUE if concurrently else SHARE,
            flags=frozenset(flags),
        )
    ]


def _drop(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    materialized = cur.accept("MATERIALIZED")
    what = cur.word()
    if what == "trigger":
        cur.skip_past("ON")
        return [Op("drop_trigger", table=cur.name(), lock=AE)]
    if what in _DROPPABLE or (what == "view" and not materialized):
        return _drop_objects(stmt, cur, "view" if what == "view" else what)
    if what not in ("table", "index", "schema", "view"):
        return []
    concurrently = cur.accept("CONCURRENTLY")
    cur.accept("IF", "EXISTS")
    names = _name_list(cur)
    kind = {"table": "drop_table", "index": "drop_index", "schema": "drop_schema"}.get(
        what, "drop_table"
    )
    flags = frozenset({"materialized_view"} if materialized else ())
    # PostgreSQL refuses a list: one index per DROP INDEX CONCURRENTLY (said once)
    several = frozenset({"several"}) if concurrently and len(names) > 1 else frozenset()
    lock = SUE if concurrently else AE
    return [
        Op(
            kind,
            table=n if kind != "drop_index" else None,
            name=n,
            concurrently=concurrently,
            lock=lock,
            flags=flags | (several if i == 0 else frozenset()),
        )
        for i, n in enumerate(names)
    ]


def _name_list(cur: Cursor) -> list[str | None]:
    """``a, b, c`` up to CASCADE / RESTRICT or the end: the objects a DROP names."""
    names = []
    while cur.peek() not in ("", "CASCADE", "RESTRICT"):
        names.append(cur.name())
        if not cur.accept(","):
            break
    return names


# objects the running application may use by name, beside tables and columns
_DROPPABLE = frozenset({"sequence", "type", "domain"})


def _drop_objects(stmt: Statement, cur: Cursor, what: str) -> list[Op]:
    """DROP VIEW / SEQUENCE / TYPE / DOMAIN: each name an op (CASCADE flagged: it drops
    the columns and objects that use it too)."""
    cur.accept("IF", "EXISTS")
    names = _name_list(cur)
    cascade = any(t.text.upper() == "CASCADE" for t in stmt.tokens)
    flags = frozenset({"cascade"} if cascade else ())
    return [Op("drop_object", name=n, value=what, lock=AE, flags=flags) for n in names if n]


def _alter_object(stmt: Statement, cur: Cursor) -> list[Op]:
    """ALTER VIEW / SEQUENCE / TYPE / SCHEMA / DOMAIN / MATERIALIZED VIEW: renames and
    moves (which break the name the running version uses), and a domain's constraints
    (which check every column of that domain)."""
    what = cur.word() or ""
    if what == "materialized":
        cur.accept("VIEW")
        what = "materialized view"
    cur.accept("IF", "EXISTS")
    name = cur.name()
    words = [t.text.upper() for t in cur.rest()]
    if words[:1] == ["RENAME"]:
        flags = {"value"} if words[1:2] == ["VALUE"] else set()
        if words[1:2] in (["COLUMN"], ["ATTRIBUTE"]) or (
            what in ("view", "materialized view") and words[1:2] not in (["TO"],)
        ):
            flags.add("column")
        return [Op("rename_object", name=name, value=what, lock=AE, flags=frozenset(flags))]
    if words[:2] == ["SET", "SCHEMA"]:
        return [Op("rename_object", name=name, value=what, lock=AE, flags=frozenset({"schema"}))]
    if what == "type" and words[:2] == ["ADD", "VALUE"]:
        label = next((t.text for t in cur.rest() if t.token_type.name == "STRING"), None)
        return [Op("add_enum_value", name=name, value=label)]
    if what == "domain" and words[:1] == ["ADD"]:
        flags = {"not_valid"} if words[-2:] == ["NOT", "VALID"] else set()
        return [Op("domain_constraint", name=name, lock=SHARE, flags=frozenset(flags))]
    if what == "domain" and words[:3] == ["SET", "NOT", "NULL"]:  # checks every column too
        return [Op("domain_constraint", name=name, lock=SHARE, flags=frozenset({"not_null"}))]
    if what == "domain" and words[:2] == ["VALIDATE", "CONSTRAINT"]:
        return [Op("domain_constraint", name=name, lock=SHARE, flags=frozenset({"validate"}))]
    return []


def _truncate(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    cur.accept("TABLE")
    ops = []
    while cur.peek() not in ("", "RESTART", "CONTINUE", "CASCADE", "RESTRICT"):
        cur.accept("ONLY")
        ops.append(Op("truncate", table=cur.name(), lock=AE))
        cur.accept("*")
        if not cur.accept(","):
            break
    return ops


def _lock(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    cur.accept("TABLE")
    cur.accept("ONLY")
    names = [cur.name()]
    while cur.accept(","):
        cur.accept("ONLY")
        names.append(cur.name())
    mode = AE
    if cur.skip_past("IN"):
        words = []
        while cur.peek() not in ("", "MODE"):
            words.append(cur.peek())
            cur.advance()
        mode = " ".join(words) or AE
    return [Op("lock_table", table=n, lock=mode) for n in names]


def _vacuum(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    options = []
    if cur.peek() == "(":
        options = [w.upper() for w in cur.parenthesized_words()]
    while cur.peek() in ("FULL", "FREEZE", "VERBOSE", "ANALYZE"):
        options.append(cur.peek())
        cur.advance()
    if "FULL" not in options:
        return []
    names = []
    while cur.peek():
        names.append(cur.name())
        cur.skip_parenthesized()
        if not cur.accept(","):
            break
    return [Op("vacuum_full", table=n, lock=AE) for n in names or [None]]


def _cluster(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    cur.accept("VERBOSE")
    table = cur.name() if cur.peek() else None
    return [Op("cluster", table=table, lock=AE)]


def _reindex(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    if cur.peek() == "(":
        options = cur.parenthesized_words()
        concurrently = "CONCURRENTLY" in (w.upper() for w in options)
    else:
        concurrently = False
    what = cur.word()
    concurrently = cur.accept("CONCURRENTLY") or concurrently
    name = cur.name() if cur.peek() else None
    table = name if what == "table" else None
    # REINDEX TABLE holds SHARE on the table (and ACCESS EXCLUSIVE on each index in turn);
    # REINDEX INDEX holds ACCESS EXCLUSIVE on the index.
    lock = SUE if concurrently else (SHARE if what == "table" else AE)
    return [Op("reindex", table=table, name=name, concurrently=concurrently, lock=lock, value=what)]


def _refresh(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    cur.accept("MATERIALIZED", "VIEW")
    concurrently = cur.accept("CONCURRENTLY")
    return [
        Op(
            "refresh_matview",
            table=cur.name(),
            concurrently=concurrently,
            lock=EXCLUSIVE if concurrently else AE,
        )
    ]


def _dml(stmt: Statement, cur: Cursor) -> list[Op]:
    if cur.peek() == "WITH" and not any(
        t.text.upper() in ("UPDATE", "DELETE") for t in stmt.tokens
    ):
        return []
    tree = _parse(stmt.tokens, stmt.text)
    if not isinstance(tree, exp.Update | exp.Delete):
        # `WITH gone AS (DELETE ... RETURNING ...) SELECT ...`: the DML in the CTEs
        nested = [n for n in tree.find_all(exp.Update, exp.Delete)] if tree else []
        return [op for node in nested for op in _dml_node(node)]
    return _dml_node(tree)


def _dml_node(tree: exp.Expression) -> list[Op]:
    kind = "update" if isinstance(tree, exp.Update) else "delete"
    where = tree.args.get("where")
    condition = where.this if where is not None else None
    flags: set[str] = set()
    column = None
    if condition is not None and not _always_true(condition):
        flags.add("where")
        if (
            isinstance(condition, exp.Is)
            and isinstance(condition.expression, exp.Null)
            and isinstance(condition.this, exp.Column)
        ):  # `WHERE c IS NULL` and nothing else
            flags.add("null_filter")
            column = ident_name(condition.this)
    return [
        Op(
            kind,
            table=table_name(tree.this),
            column=column,
            lock=ROW_EXCLUSIVE,
            flags=frozenset(flags),
        )
    ]


def _always_true(condition: exp.Expression) -> bool:
    """A WHERE that bounds nothing: ``true``, ``1 = 1``, ``'a' = 'a'``, ``NOT false``."""
    if isinstance(condition, exp.Paren):
        return _always_true(condition.this)
    if isinstance(condition, exp.Boolean):
        return bool(condition.this)
    if isinstance(condition, exp.Not) and isinstance(condition.this, exp.Boolean):
        return not condition.this.this
    if isinstance(condition, exp.EQ):
        left, right = condition.this, condition.expression
        return isinstance(left, exp.Literal) and left == right
    if isinstance(condition, exp.Or):
        return _always_true(condition.this) or _always_true(condition.expression)
    if isinstance(condition, exp.And):
        return _always_true(condition.this) and _always_true(condition.expression)
    return False


def _do(stmt: Statement, cur: Cursor) -> list[Op]:
    """A ``DO`` block: the UPDATE and DELETE statements of its body, judged as if written
    out (a full-table one locks as long inside a block as outside)."""
    body = next((t.text for t in stmt.tokens if t.text.startswith("$")), None)
    if body is None:
        return []
    inner = re.sub(r"^\$\w*\$|\$\w*\$$", "", body).strip()
    inner = re.sub(r"(?is)^(declare\b.*?)?\bbegin\b|\bend\s*;?\s*$", "", inner)
    ops = []
    if re.search(r"(?i)\bconcurrently\b", inner):
        ops.append(Op("concurrently_in_block", offset=stmt.start))
    for part in split(inner).statements:
        found: list[Op] = []
        if part.ops is not None:  # settled from its text
            found = [op for op in part.ops if op.kind in ("update", "delete")]
        elif (
            part.error is None
            and part.tokens
            and part.tokens[0].text.upper() in ("UPDATE", "DELETE", "WITH")
        ):
            with contextlib.suppress(StatementError):
                found = _dml(part, Cursor(retokenize(part.tokens)))
        for op in found:
            op.offset = stmt.start
            ops.append(op)
    return ops


def _select(stmt: Statement, cur: Cursor) -> list[Op]:
    """``SELECT ... INTO t``: a new table, like CREATE TABLE AS; any other SELECT, nothing."""
    # the INTO keyword itself (a string 'into' is a STRING token)
    words = [t.text.upper() if t.token_type.name != "STRING" else "" for t in stmt.tokens]
    if "INTO" not in words:
        return []
    at = words.index("INTO") + 1
    while at < len(words) and words[at] in ("TEMP", "TEMPORARY", "UNLOGGED", "TABLE"):
        at += 1
    into = Cursor(retokenize(stmt.tokens[at:]))
    name = into.name()
    return [Op("create_table", table=name)] if name else []


# --- ALTER TABLE ------------------------------------------------------------------------------


def _alter(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    if cur.peek() in ("VIEW", "SEQUENCE", "TYPE", "SCHEMA", "DOMAIN", "MATERIALIZED"):
        return _alter_object(stmt, cur)
    if cur.peek() != "TABLE":
        return []
    cur.advance()
    cur.accept("IF", "EXISTS")
    cur.accept("ONLY")
    if cur.peek() == "ALL":
        return []
    table = cur.name()
    cur.accept("*")
    header_end = cur.index
    actions = split_top_level(stmt.tokens[header_end:])
    if not actions:
        raise StatementError("ALTER TABLE without an action")
    ops: list[Op] = []
    single = len(actions) == 1
    for action in actions:
        found = _alter_action(stmt, table, action, single)
        if not found:  # read, but nothing recognised in it: not "safe", unread
            words = " ".join(t.text for t in action[:6])
            raise StatementError(f"incomplete or unknown ALTER TABLE action {words!r}")
        ops.extend(found)
    return ops


def _alter_action(stmt: Statement, table: str, action: list[Token], single: bool) -> list[Op]:
    acur = Cursor(action)
    offset = action[0].start
    first = acur.peek()
    if first not in _ALTER_ACTIONS:
        raise StatementError(f"unknown ALTER TABLE action {action[0].text!r}")
    # Read by tokens: sqlglot misparses RENAME without COLUMN and returns Commands for these.
    if first == "RENAME":
        return [_rename(acur, table, offset)]
    if first in (
        "VALIDATE",
        "ATTACH",
        "DETACH",
        "ENABLE",
        "DISABLE",
        "REPLICA",
        "OWNER",
        "INHERIT",
        "NO",
        "CLUSTER",
        "OF",
        "NOT",
        "RESET",
        "FORCE",
    ):
        return [_classify_action(acur, table, offset)]
    words = [t.text.upper() for t in action]
    not_null = _not_null_constraint(action, words, table, offset)
    if not_null is not None:
        return [not_null]
    if first == "ADD" and words[-1:] == ["VIRTUAL"] and "GENERATED" in words:
        # PostgreSQL 18's virtual generated column: computed on read, nothing stored
        return [
            Op(
                "add_column",
                table=table,
                column=_action_column(action, words),
                lock=AE,
                offset=offset,
                flags=frozenset({"generated_virtual"}),
            )
        ]
    if words[:2] == ["SET", "SCHEMA"]:
        return [
            Op(
                "rename_object",
                table=table,
                name=table,
                value="table",
                lock=AE,
                flags=frozenset({"schema"}),
                offset=offset,
            )
        ]
    if words[:1] == ["ALTER"] and (
        words[-2:] == ["DROP", "IDENTITY"] or words[-4:] == ["DROP", "IDENTITY", "IF", "EXISTS"]
    ):
        return [
            Op(
                "drop_identity",
                table=table,
                column=_action_column(action, words),
                lock=AE,
                offset=offset,
            )
        ]
    if (first == "ADD" and _adds_using_index(action)) or acur.accept("SET", "ACCESS"):
        return [_classify_action(Cursor(action), table, offset)]
    if single:
        sql, tokens = stmt.text, stmt.tokens
    else:
        text = stmt.text[action[0].start - stmt.start : action[-1].end + 1 - stmt.start]
        sql = f"ALTER TABLE {_quote_name(table)} {text}"
        tokens = _TOKENIZER.tokenize(sql)
    try:
        tree = _parse(tokens, sql)
    except StatementError:
        op = _classify_action(acur, table, offset)
        if op.kind == "alter_table_other":
            raise  # neither sqlglot nor the classifier knows it: report the parse error
        return [op]
    if isinstance(tree, exp.Alter) and tree.args.get("actions"):
        ops = []
        for node in tree.args["actions"]:
            ops.extend(_tree_action(node, table, bool(tree.args.get("not_valid")), offset))
        return ops
    return [_classify_action(acur, table, offset)]


_ALTER_ACTIONS = frozenset(
    {
        "ADD",
        "DROP",
        "ALTER",
        "RENAME",
        "VALIDATE",
        "SET",
        "RESET",
        "ENABLE",
        "DISABLE",
        "FORCE",
        "NO",
        "INHERIT",
        "CLUSTER",
        "OWNER",
        "REPLICA",
        "OF",
        "NOT",
        "ATTACH",
        "DETACH",
    }
)


def _action_column(action: list[Token], words: list[str]) -> str:
    """The column an ``ADD [COLUMN] c ...`` or ``ALTER [COLUMN] c ...`` action names,
    normalized (quoted names kept, others folded)."""
    text = action[2].text if words[1:2] == ["COLUMN"] else action[1].text
    return text.strip('"') if text.startswith('"') else text.lower()


def _not_null_constraint(action: list[Token], words: list[str], table: str, offset: int):
    """``ADD [CONSTRAINT n] NOT NULL col [NOT VALID]``: PostgreSQL 18's named NOT NULL
    constraint, which may be added NOT VALID and validated later like a CHECK."""
    at = 3 if words[:2] == ["ADD", "CONSTRAINT"] else 1
    if words[:1] != ["ADD"] or words[at : at + 2] != ["NOT", "NULL"] or len(words) <= at + 2:
        return None
    token = action[at + 2]
    column = token.text.strip('"') if token.text.startswith('"') else token.text.lower()
    name = action[2].text if at == 3 else None
    not_valid = words[-2:] == ["NOT", "VALID"]
    return Op(
        "add_constraint",
        table=table,
        name=name,
        column=column,
        constraint="not_null",
        not_valid=not_valid,
        lock=AE,
        offset=offset,
    )


def _quote_name(name: str) -> str:
    """A normalized table name back as SQL to re-parse: every part quoted (normalized names
    are already folded), embedded quotes doubled."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _adds_using_index(action: list[Token]) -> bool:
    words = [t.text.upper() for t in action]
    return "USING" in words and "INDEX" in words and "EXCLUDE" not in words


def _rename(cur: Cursor, table: str, offset: int) -> Op:
    cur.advance()
    if cur.accept("TO"):
        return Op("rename_table", table=table, new_name=cur.name(), lock=AE, offset=offset)
    if cur.accept("CONSTRAINT"):
        return Op("rename_constraint", table=table, lock=AE, offset=offset)
    cur.accept("COLUMN")
    old = cur.word()
    cur.accept("TO")
    return Op("rename_column", table=table, column=old, new_name=cur.word(), lock=AE, offset=offset)


def _classify_action(cur: Cursor, table: str, offset: int) -> Op:
    """The token classifier for ALTER TABLE actions sqlglot returns unparsed."""
    words = cur.words()
    first = words[0] if words else ""
    if first == "VALIDATE":
        return Op(
            "validate_constraint",
            table=table,
            name=_word_after(cur, "CONSTRAINT"),
            lock=SUE,
            offset=offset,
        )
    if first == "DETACH":
        concurrently = "CONCURRENTLY" in words
        return Op(
            "detach_partition",
            table=table,
            concurrently=concurrently,
            lock=SUE if concurrently or "FINALIZE" in words else AE,
            offset=offset,
        )
    if first == "ATTACH":
        return Op(
            "attach_partition",
            table=table,
            name=_word_after(cur, "PARTITION", True),
            lock=SUE,
            offset=offset,
        )
    if first in ("ENABLE", "DISABLE") and "TRIGGER" in words:
        return Op("alter_table_other", table=table, lock=SRE, offset=offset)
    if first == "ADD":
        return _classify_add_constraint(cur, words, table, offset)
    if first == "SET" and len(words) > 1 and words[1] in ("LOGGED", "UNLOGGED", "TABLESPACE"):
        return Op("rewrite_table", table=table, value=f"SET {words[1]}", lock=AE, offset=offset)
    if words[:3] == ["SET", "ACCESS", "METHOD"]:
        return Op("rewrite_table", table=table, value="SET ACCESS METHOD", lock=AE, offset=offset)
    return Op("alter_table_other", table=table, lock=AE, offset=offset)


def _classify_add_constraint(cur: Cursor, words: list[str], table: str, offset: int) -> Op:
    name = _word_after(cur, "CONSTRAINT")
    not_valid = words[-2:] == ["NOT", "VALID"]
    if "USING" in words and "INDEX" in words and "EXCLUDE" not in words:
        ctype = "primary_key" if "PRIMARY" in words else "unique"
        return Op(
            "add_constraint",
            table=table,
            name=name,
            constraint=ctype,
            lock=AE,
            flags=frozenset({"using_index"}),
            offset=offset,
            value=_word_after(cur, "INDEX"),  # the index the constraint takes over
        )
    if "CHECK" in words:
        column = _not_null_check_column(cur.tokens)
        return Op(
            "add_constraint",
            table=table,
            name=name,
            constraint="check",
            not_valid=not_valid,
            column=column,
            lock=AE,
            offset=offset,
        )
    if "FOREIGN" in words:
        ref = _word_after(cur, "REFERENCES", qualified=True)
        return Op(
            "add_constraint",
            table=table,
            name=name,
            constraint="foreign_key",
            not_valid=not_valid,
            ref_table=ref,
            lock=SRE,
            offset=offset,
        )
    for word, ctype in (("EXCLUDE", "exclude"), ("PRIMARY", "primary_key"), ("UNIQUE", "unique")):
        if word in words:
            return Op(
                "add_constraint", table=table, name=name, constraint=ctype, lock=AE, offset=offset
            )
    return Op("alter_table_other", table=table, lock=AE, offset=offset)


def _word_after(cur: Cursor, keyword: str, qualified: bool = False) -> str | None:
    sub = Cursor(cur.tokens)
    if not sub.skip_past(keyword):
        return None
    return sub.name() if qualified else sub.word()


def _not_null_check_column(tokens: list[Token]) -> str | None:
    """The column of ``CHECK (col IS NOT NULL)``, the shape the NOT NULL recipe uses."""
    words = [t.text.upper() for t in tokens]
    if "CHECK" not in words:
        return None
    i = words.index("CHECK")
    inner = tokens[i + 1 :]
    while inner and inner[0].text == "(" and inner[-1].text != ")":
        inner = inner[:-1]  # trailing NOT VALID
    while inner and inner[-1].text.upper() in ("NOT", "VALID"):
        inner = inner[:-1]
    while len(inner) >= 2 and inner[0].text == "(" and inner[-1].text == ")":
        inner = inner[1:-1]
    if [t.text.upper() for t in inner[1:]] == ["IS", "NOT", "NULL"]:
        return Cursor(inner).word()
    return None


def _tree_action(node: exp.Expression, table: str, not_valid: bool, offset: int) -> list[Op]:
    if isinstance(node, exp.ColumnDef):
        return [_add_column(node, table, offset)]
    if isinstance(node, exp.AlterColumn):
        return [_alter_column(node, table, offset)]
    if isinstance(node, exp.AddConstraint):
        return [_add_constraint(c, table, not_valid, offset) for c in node.expressions]
    if isinstance(node, exp.Drop):
        kind = (node.args.get("kind") or "").upper()
        names = [ident_name(t) for t in node.args.get("tables") or []]
        if kind == "COLUMN":
            return [Op("drop_column", table=table, column=n, lock=AE, offset=offset) for n in names]
        if kind == "CONSTRAINT":
            return [
                Op("drop_constraint", table=table, name=n, lock=AE, offset=offset) for n in names
            ]
    if isinstance(node, exp.AlterSet):
        option = node.args.get("option")
        word = option.name.upper() if option is not None else ""
        if word in ("LOGGED", "UNLOGGED"):
            return [Op("rewrite_table", table=table, value=f"SET {word}", lock=AE, offset=offset)]
        if node.args.get("tablespace") is not None:
            return [
                Op("rewrite_table", table=table, value="SET TABLESPACE", lock=AE, offset=offset)
            ]
        return [Op("alter_table_other", table=table, lock=SUE, offset=offset)]
    return [Op("alter_table_other", table=table, lock=AE, offset=offset)]


def _add_column(node: exp.ColumnDef, table: str, offset: int) -> Op:
    flags: set[str] = set()
    default = default_sql = ref_table = None
    calls: tuple[str, ...] = ()
    dtype = node.args.get("kind")
    if isinstance(dtype, exp.DataType) and dtype.this in SERIAL_TYPES:
        default, default_sql = "volatile", f"nextval() of {dtype.this.value.lower()}"
        flags.add("serial")
    for constraint in node.args.get("constraints") or []:
        kind = constraint.args.get("kind")
        if isinstance(kind, exp.DefaultColumnConstraint):
            default = default_volatility(kind.this)
            default_sql = _sql(kind.this)
            calls = _user_calls(kind.this)
        elif isinstance(kind, exp.NotNullColumnConstraint):
            if not kind.args.get("allow_null"):  # `NULL` parses as allow_null=True
                flags.add("not_null")
        elif isinstance(kind, exp.ComputedColumnConstraint):
            flags.add("generated_stored")
        elif isinstance(kind, exp.GeneratedAsIdentityColumnConstraint):
            # Without STORED, `GENERATED ALWAYS AS (expr)` comes back as an identity.
            flags.add("generated_virtual" if kind.args.get("expression") else "identity")
        elif isinstance(kind, exp.PrimaryKeyColumnConstraint):
            flags.add("primary_key")
        elif isinstance(kind, exp.UniqueColumnConstraint):
            flags.add("unique")
        elif isinstance(kind, exp.Reference):
            flags.add("references")
            ref_table = table_name(kind.this)
        elif isinstance(kind, exp.CheckColumnConstraint):
            flags.add("check")
    return Op(
        "add_column",
        table=table,
        column=ident_name(node.this),
        type_sql=_sql(dtype) if dtype is not None else None,
        default=default,
        default_sql=default_sql,
        ref_table=ref_table,
        flags=frozenset(flags),
        lock=AE,
        offset=offset,
        calls=calls,
    )


def _user_calls(expr: exp.Expression) -> tuple[str, ...]:
    """The functions a default calls that we do not know (user-defined, or from an
    extension), when those are its only reason to count as volatile; () when it calls a
    known volatile one."""
    for node in expr.walk():
        if isinstance(node, exp.Rand | exp.Uuid) or (
            isinstance(node, exp.Anonymous) and node.name.lower() in VOLATILE_FUNCTIONS
        ):
            return ()
    return tuple(
        sorted(
            {
                node.name.lower()
                for node in expr.find_all(exp.Anonymous)
                if node.name.lower() not in STABLE_FUNCTIONS
            }
        )
    )


def _alter_column(node: exp.AlterColumn, table: str, offset: int) -> Op:
    column = ident_name(node.this)
    dtype = node.args.get("dtype")
    if dtype is not None:
        using = node.args.get("using")
        flags = set()
        if using:
            flags.add("using")
        if isinstance(dtype, exp.DataType) and dtype.this in WIDENING_TYPES:
            flags.add("maybe_coercible")
        return Op(
            "alter_type",
            table=table,
            column=column,
            type_sql=_sql(dtype),
            flags=frozenset(flags),
            lock=AE,
            offset=offset,
        )
    if node.args.get("allow_null") is False:
        return Op("set_not_null", table=table, column=column, lock=AE, offset=offset)
    if node.args.get("allow_null") is True:
        return Op("drop_not_null", table=table, column=column, lock=AE, offset=offset)
    if node.args.get("default") is not None:
        return Op(
            "set_default",
            table=table,
            column=column,
            lock=AE,
            offset=offset,
            default_sql=_sql(node.args["default"]),
        )
    if node.args.get("drop"):
        return Op("drop_default", table=table, column=column, lock=AE, offset=offset)
    return Op("alter_table_other", table=table, column=column, lock=AE, offset=offset)


def _add_constraint(node: exp.Expression, table: str, not_valid: bool, offset: int) -> Op:
    name = None
    body = node
    if isinstance(node, exp.Constraint):
        name = ident_name(node.this)
        body = node.expressions[0] if node.expressions else node
    column = ref_table = None
    if isinstance(body, exp.CheckColumnConstraint):
        ctype = "check"
        cond = body.this
        if (
            isinstance(cond, exp.Not)
            and isinstance(cond.this, exp.Is)
            and isinstance(cond.this.expression, exp.Null)
            and isinstance(cond.this.this, exp.Column)
        ):
            column = ident_name(cond.this.this)
        elif (
            isinstance(cond, exp.Is)
            and cond.args.get("negate")
            and isinstance(cond.expression, exp.Null)
            and isinstance(cond.this, exp.Column)
        ):
            column = ident_name(cond.this)
    elif isinstance(body, exp.ForeignKey):
        ctype = "foreign_key"
        ref = body.args.get("reference")
        ref_table = table_name(ref.this) if ref is not None else None
    elif isinstance(body, exp.PrimaryKey | exp.PrimaryKeyColumnConstraint):
        ctype = "primary_key"
    elif isinstance(body, exp.UniqueColumnConstraint):
        ctype = "unique"
    elif isinstance(body, exp.ExcludeColumnConstraint):
        ctype = "exclude"
    else:
        ctype = "other"
    return Op(
        "add_constraint",
        table=table,
        name=name,
        constraint=ctype,
        not_valid=not_valid,
        column=column,
        ref_table=ref_table,
        lock=SRE if ctype == "foreign_key" else AE,
        offset=offset,
    )


# What may follow CREATE, ALTER or DROP in PostgreSQL (the object kind, or a modifier).
OBJECT_WORDS = frozenset(
    {
        "TABLE",
        "INDEX",
        "SEQUENCE",
        "VIEW",
        "MATERIALIZED",
        "TYPE",
        "DOMAIN",
        "FUNCTION",
        "PROCEDURE",
        "ROUTINE",
        "SCHEMA",
        "TRIGGER",
        "EXTENSION",
        "ROLE",
        "USER",
        "GROUP",
        "DATABASE",
        "POLICY",
        "RULE",
        "AGGREGATE",
        "OPERATOR",
        "COLLATION",
        "CONVERSION",
        "TEXT",
        "FOREIGN",
        "SERVER",
        "PUBLICATION",
        "SUBSCRIPTION",
        "STATISTICS",
        "EVENT",
        "LANGUAGE",
        "LARGE",
        "DEFAULT",
        "SYSTEM",
        "TABLESPACE",
        "CAST",
        "TRANSFORM",
        "ACCESS",
        "OWNED",
        "UNIQUE",
        "OR",
        "TEMP",
        "TEMPORARY",
        "UNLOGGED",
        "GLOBAL",
        "LOCAL",
        "RECURSIVE",
        "CONSTRAINT",
        "PROPERTY",
    }
)

_HANDLERS = {
    "BEGIN": _transaction_begin,
    "START": _transaction_begin,
    "COMMIT": _transaction_end,
    "END": _transaction_end,
    "ROLLBACK": _transaction_end,
    "ABORT": _transaction_end,
    "SET": _set,
    "RESET": _reset,
    "CREATE": _create,
    "ALTER": _alter,
    "DROP": _drop,
    "TRUNCATE": _truncate,
    "LOCK": _lock,
    "VACUUM": _vacuum,
    "CLUSTER": _cluster,
    "REINDEX": _reindex,
    "REFRESH": _refresh,
    "UPDATE": _dml,
    "DELETE": _dml,
    "WITH": _dml,
    "DO": _do,
    "SELECT": _select,
}

# Statements that take no lock a migration linter judges (or whose bodies we never read).
_IGNORED = frozenset(
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
