"""What a statement does, as a list of operations the rules can judge.

Each statement is read alone. Structured trees come from sqlglot (PostgreSQL
dialect, :mod:`~expandcontract.sql.postgres.tree`); where sqlglot gives up and
returns an unparsed ``Command`` (REINDEX, LOCK, DO, ...) or is known to misparse,
the statement's tokens go through the small classifier in
:mod:`~expandcontract.sql.postgres.tokens`. ALTER TABLE has its own reader
(:mod:`~expandcontract.sql.postgres.alter_table`). Either way the rules see the same
:class:`Op` objects, so a rule never depends on which path a statement took.
"""

from __future__ import annotations

import itertools
import re

from sqlglot import exp

from expandcontract.sql.op import Op, StatementError
from expandcontract.sql.postgres.alter_table import alter_table
from expandcontract.sql.postgres.facts import (
    AE,
    EXCLUSIVE,
    IGNORED_STATEMENTS,
    ROW_EXCLUSIVE,
    SHARE,
    SRE,
    SUE,
    routine_body,
    signature_text,
)
from expandcontract.sql.postgres.plpgsql import (
    Body,
    do_body,
    gexec_templates,
    read_body,
)
from expandcontract.sql.postgres.split import Statement, split
from expandcontract.sql.postgres.statement_table import Entry, classify, depth_zero, judged
from expandcontract.sql.postgres.tokens import Cursor, retokenize, upper_words
from expandcontract.sql.postgres.tree import ident_name, parse, sql_of, table_name


def analyze(stmt: Statement) -> list[Op]:
    """Return the operations of one statement (empty for statements we do not judge)."""
    if stmt.error:
        raise StatementError(stmt.error)
    if stmt.ops is not None:  # settled from its text by the plain shapes
        return stmt.ops
    if stmt.gexec:
        return _gexec(stmt)
    cur = Cursor(retokenize(stmt.tokens))
    head = cur.peek()
    if head in ("ALTER", "CREATE", "DROP"):
        what = stmt.tokens[1].text.upper() if len(stmt.tokens) > 1 else ""
        if what not in OBJECT_WORDS:  # `ALTER ((TABLE ...`: not a statement, not "nothing"
            raise StatementError(f"unrecognized statement starting with {head} {what!r}")
    words = upper_words(stmt.tokens)
    entries = classify(words)
    handler = _HANDLERS.get(head)
    if handler is None and entries is None:
        if head in IGNORED_STATEMENTS:
            return [Op("unknown_statement", value=" ".join(words[:3]), offset=stmt.start)]
        raise StatementError(f"unrecognized statement starting with {stmt.tokens[0].text!r}")
    ops = handler(stmt, cur) if handler is not None else []
    what = stmt.tokens[1].text.upper() if len(stmt.tokens) > 1 else ""
    if not ops and (
        head in ("TRUNCATE", "LOCK", "REINDEX", "REFRESH", "CLUSTER")  # always an op when read
        or (head == "DROP" and what in ("TABLE", "INDEX", "SCHEMA"))
        or (head == "ALTER" and len(stmt.tokens) <= 2)
    ):
        words = " ".join(t.text for t in stmt.tokens[:3])
        raise StatementError(f"incomplete statement {words!r}: it names nothing to act on")
    ops = [*ops, *_table_ops(entries, ops, words, stmt)]
    for op in ops:
        if op.offset is None:
            op.offset = stmt.start
    return ops


def _table_ops(
    entries: list[Entry] | None, ops: list[Op], words: list[str], stmt: Statement
) -> list[Op]:
    """What the statement table says of the statement: one ``statement`` op per entry (its
    key in ``value``; ``covered`` when the readers above already said what it does, which
    then carries no lock of its own), or ``unknown_statement`` when no entry knows it."""
    if entries is None:
        return [Op("unknown_statement", value=" ".join(words[:4]), offset=stmt.start)]
    covered = bool(ops)
    flags = frozenset({"covered"}) if covered else frozenset()
    seen = _seen(entries[0].key, words)
    found = []
    for entry in entries:
        too_new = [w for w, _, _ in entry.options if _has_option(words, w)]
        option_flags = frozenset(f"option:{w}" for w in too_new) | seen
        if covered:
            found.append(Op("statement", value=entry.key, flags=flags | option_flags))
            continue
        if not judged(entry) and not option_flags:
            continue
        name, table = _named(entry, stmt)
        found.append(
            Op(
                "statement",
                value=entry.key,
                name=name,
                table=table if entry.lock is not None else None,
                lock=entry.lock,
                flags=option_flags,
            )
        )
    return found


def _seen(key: str, words: list[str]) -> frozenset[str]:
    """What a running client of the old version would see change, read from the words:
    a rename or move, a rule that swallows writes, a sequence set back, a publication that
    filters, a column given a collation."""
    top = depth_zero(words)
    seen = set()
    if key.startswith("ALTER ") and ("RENAME" in top or _has_option(top, "SET SCHEMA")):
        seen.add("renames")
    if key == "CREATE RULE" and _has_option(top, "INSTEAD NOTHING"):
        seen.add("instead_nothing")
    if _sets_back(key, words):
        seen.add("resets_sequence")
    if key in ("CREATE PUBLICATION", "ALTER PUBLICATION") and (
        "WHERE" in words or _column_list(words)
    ):
        seen.add("filtered")
    refused = _refused(key, words, top)
    if refused:
        seen.add(f"refused:{refused}")
    if key == "ALTER TABLE ALTER CONSTRAINT" and "CONSTRAINT" in words:
        at = words.index("CONSTRAINT") + 1
        seen.add(f"constraint:{words[at].lower() if at < len(words) else ''}")
    if key == "CREATE COLLATION" and _has_option(words, "DETERMINISTIC = FALSE"):
        seen.add("nondeterministic")
    if key.startswith("ALTER TABLE") and "COLLATE" in words:
        at = words.index("COLLATE") + 1
        if at < len(words):
            seen.add(f"collate:{words[at].lower()}")
    return frozenset(seen)


# functions whose value is not fixed: PostgreSQL refuses them in an index predicate
_NOT_IMMUTABLE = frozenset(
    {
        "NOW",
        "CURRENT_TIMESTAMP",
        "CURRENT_DATE",
        "CURRENT_TIME",
        "LOCALTIMESTAMP",
        "LOCALTIME",
        "STATEMENT_TIMESTAMP",
        "TRANSACTION_TIMESTAMP",
        "CLOCK_TIMESTAMP",
        "RANDOM",
        "GEN_RANDOM_UUID",
        "TIMEOFDAY",
    }
)


def _refused(key: str, words: list[str], top: list[str]) -> str | None:
    """Why PostgreSQL refuses the statement whatever the schema, read from its words."""
    if key == "REFRESH MATERIALIZED VIEW CONCURRENTLY" and _has_option(top, "NO DATA"):
        return "CONCURRENTLY cannot be used with WITH NO DATA"
    if key == "CREATE STATISTICS" and "ON" in words and "FROM" in words:
        on, end = words.index("ON") + 1, words.index("FROM")
        items = words[on:end]
        if "," not in depth_zero(items) and items[:1] != ["("]:
            return "extended statistics need at least two columns (or one expression)"
    if key.startswith("CREATE INDEX") and "WHERE" in top:
        predicate = words[words.index("WHERE") :]
        if _NOT_IMMUTABLE & set(predicate):
            return "functions in an index predicate must be IMMUTABLE"
    return None


def _sets_back(key: str, words: list[str]) -> bool:
    """A sequence sent back to its start: ``RESTART`` with no value or 1, ``setval(s, 1)``
    (a jump forward, or ``setval`` to a table's max, takes no key twice)."""
    if key in ("ALTER SEQUENCE RESTART", "ALTER TABLE ALTER COLUMN RESTART"):
        at = words.index("RESTART") + 1
        value = words[at + 1] if words[at : at + 1] == ["WITH"] else words[at : at + 1]
        value = value if isinstance(value, str) else (value[0] if value else "")
        return not value.lstrip("-").isdigit() or int(value) <= 1
    if key == "SELECT" and "SETVAL" in words:
        at = words.index("SETVAL")
        args = words[at + 2 : at + 6]  # ( 'seq' , value
        value = args[2] if len(args) > 2 and args[1] == "," else ""
        return value.isdigit() and int(value) <= 1
    return False


def _column_list(words: list[str]) -> bool:
    """``FOR TABLE t (a, b)``: a publication's column list (15+)."""
    at = next((i for i, w in enumerate(words) if w == "TABLE"), None)
    return at is not None and "(" in words[at + 2 : at + 5]


def _has_option(words: list[str], option: str) -> bool:
    parts = option.split()
    if len(parts) == 1:
        return parts[0] in words
    return any(words[i : i + len(parts)] == parts for i in range(len(words)))


# statements that name the relation they lock after ON, FROM or FOR TABLE
_ON_WORDS = {"POLICY": "ON", "RULE": "ON", "TRIGGER": "ON", "STATISTICS": "FROM"}


def _named(entry: Entry, stmt: Statement) -> tuple[str | None, str | None]:
    """The object a statement names (the word after its kind, IF [NOT] EXISTS skipped) and
    the relation it locks, when it names one."""
    cur = Cursor(retokenize(stmt.tokens))
    key_words = [w for w in entry.key.split() if w not in ("CONCURRENTLY", "FULL")]
    first = key_words[0]
    if first in ("CREATE", "ALTER", "DROP", "COMMENT", "REFRESH", "ANALYZE", "CLUSTER"):
        cur.advance()
        while cur.peek() in _SKIPPED:
            cur.advance()
        for word in key_words[1:]:
            cur.accept(word)
        cur.accept("CONCURRENTLY")
        cur.accept("IF", "NOT", "EXISTS")
        cur.accept("IF", "EXISTS")
        if first == "COMMENT":
            cur.accept("ON")
            cur.word()
    elif first == "REVOKE":  # REVOKE ... ON [kind] name: the object losing a privilege
        if not cur.skip_past("ON"):
            return None, None
        while cur.peek() in _OBJECT_KINDS:
            cur.advance()
        return cur.name(), None
    elif first in ("LOCK", "VACUUM", "TRUNCATE"):
        cur.advance()
        cur.accept("TABLE")
        cur.accept("FULL")
        cur.accept("ONLY")
    else:
        return None, None
    name = cur.name() if cur.peek() not in ("", "(") else None
    relation = name
    on = _ON_WORDS.get(key_words[-1])
    if on and cur.skip_past(on):
        relation = cur.name()
    if entry.key == "CREATE PUBLICATION" and cur.skip_past("TABLE"):
        relation = cur.name()
    if entry.key == "CREATE TABLE PARTITION OF" and cur.skip_past("OF"):
        relation = cur.name()
    return name, relation


_OBJECT_KINDS = frozenset(
    {"TABLE", "SEQUENCE", "FUNCTION", "PROCEDURE", "ROUTINE", "SCHEMA", "TYPE", "DOMAIN"}
)
_SKIPPED = frozenset({"OR", "REPLACE", "TEMP", "TEMPORARY", "UNLOGGED", "UNIQUE", "MATERIALIZED"})


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
        replace = any(t.text.upper() == "REPLACE" for t in stmt.tokens[:3])
        return [
            Op(
                "create_function",
                name=cur.name(),
                value=volatility,
                type_sql=signature_text(stmt.text),
                body=routine_body(stmt.text),
                flags=frozenset({"or_replace"} if replace else ()),
            )
        ]
    if what in ("VIEW", "SEQUENCE", "TYPE", "DOMAIN", "RECURSIVE", "SCHEMA"):
        cur.accept("RECURSIVE")
        kind = (cur.word() or "").lower()
        existing = cur.accept("IF", "NOT", "EXISTS") or any(
            t.text.upper() == "REPLACE" for t in stmt.tokens[:3]
        )
        replace = any(t.text.upper() == "REPLACE" for t in stmt.tokens[:3])
        flags = frozenset(
            ({"if_not_exists"} if existing else set()) | ({"or_replace"} if replace else set())
        )
        name = cur.name()
        columns = _view_columns(stmt) if kind == "view" else ()
        return [Op("create_object", name=name, value=kind, flags=flags, columns=columns)]
    return []


def _view_columns(stmt: Statement) -> tuple[tuple[str, str], ...]:
    """The names of a view's columns, in order; () when they cannot be read (``*``)."""
    try:
        tree = parse(stmt.tokens, stmt.text)
    except StatementError:
        return ()
    query = tree.expression if isinstance(tree, exp.Create) else None
    if not isinstance(query, exp.Select):
        return ()
    names = [e.alias_or_name for e in query.expressions]
    if any(not n or n == "*" for n in names):
        return ()
    return tuple((n if n.islower() else n.lower(), "") for n in names)


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
    parent = None
    top = depth_zero(upper_words(stmt.tokens))
    if "PARTITION" in top and "OF" in top[:8]:
        flags.add("partition_of")  # of the table after OF (in ref_table)
        if top[-1:] == ["DEFAULT"]:
            flags.add("default_partition")
        parent = Cursor(retokenize(stmt.tokens))
        parent.skip_past("OF")
        parent = parent.name()
    tree = parse(stmt.tokens, stmt.text)
    if isinstance(tree, exp.Create) and tree.kind in ("TABLE", "VIEW"):
        name = table_name(tree.this)
        if name:
            columns = tuple(
                (ident_name(c.this), sql_of(c.args["kind"]))
                for c in (tree.this.expressions if isinstance(tree.this, exp.Schema) else [])
                if isinstance(c, exp.ColumnDef) and c.args.get("kind") is not None
            )
            source = _source(tree.expression) if "NO" not in top[-2:] else None
            if source:  # CREATE TABLE ... AS / MATERIALIZED VIEW: copies rows over
                flags.add("as_query")
            return [
                Op(
                    "create_table",
                    table=name,
                    flags=frozenset(flags),
                    columns=columns,
                    ref_table=source or parent,
                )
            ]
    cur.skip_past("TABLE", "VIEW")
    cur.accept("IF", "NOT", "EXISTS")
    return [Op("create_table", table=cur.name(), flags=frozenset(flags), ref_table=parent)]


def _source(query: exp.Expression | None) -> str | None:
    """The first table a query reads rows from (None for VALUES or a query of no table)."""
    if not isinstance(query, exp.Query):
        return None
    ctes = {ident_name(c.args["alias"].this) for c in query.find_all(exp.CTE) if c.alias}
    for node in query.find_all(exp.Table):
        name = table_name(node)
        if name and name not in ctes:
            return name
    return None


def _insert(stmt: Statement, cur: Cursor) -> list[Op]:
    """``INSERT ... SELECT``: a copy of the rows of the table it reads."""
    try:
        tree = parse(stmt.tokens, stmt.text)
    except StatementError:
        return []
    if not isinstance(tree, exp.Insert):
        return []
    source = _source(tree.expression)
    if source is None:
        return []
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    return [Op("copy_rows", table=table_name(target), ref_table=source, lock=ROW_EXCLUSIVE)]


def _create_index(stmt: Statement, cur: Cursor) -> list[Op]:
    unique = any(t.text.upper() == "UNIQUE" for t in stmt.tokens[:3])
    try:
        tree = parse(stmt.tokens, stmt.text)
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


def _alter(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    if cur.peek() in ("VIEW", "SEQUENCE", "TYPE", "SCHEMA", "DOMAIN", "MATERIALIZED"):
        return _alter_object(stmt, cur)
    if cur.peek() != "TABLE":
        return []
    return alter_table(stmt, cur)


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
        new_name = None
        if words[1:2] == ["TO"]:  # the object itself renamed: its new name
            cur.advance(2)
            new_name = cur.name()
        return [
            Op(
                "rename_object",
                name=name,
                new_name=new_name,
                value=what,
                lock=AE,
                flags=frozenset(flags),
            )
        ]
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
    tree = parse(stmt.tokens, stmt.text)
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
        if _point(condition):
            flags.add("point")
    return [
        Op(
            kind,
            table=table_name(tree.this),
            column=column,
            lock=ROW_EXCLUSIVE,
            flags=frozenset(flags),
        )
    ]


def _point(condition: exp.Expression) -> bool:
    """A WHERE that picks rows by value (``id = 5``, ``code IN ('a', 'b')``, ``id = :k``,
    maybe ANDed with more): a lookup, not a pass over the table."""
    if isinstance(condition, exp.Paren):
        return _point(condition.this)
    if isinstance(condition, exp.And):
        return _point(condition.this) or _point(condition.expression)
    if isinstance(condition, exp.EQ):
        sides = (condition.this, condition.expression)
        return any(isinstance(s, exp.Column) for s in sides) and any(
            isinstance(s, exp.Literal | exp.Placeholder | exp.Parameter) for s in sides
        )
    if isinstance(condition, exp.In) and isinstance(condition.this, exp.Column):
        values = condition.expressions
        return bool(values) and all(isinstance(v, exp.Literal) for v in values)
    return False


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
    """A ``DO`` block: the statements of its body, EXECUTEs of constant text included,
    judged as if written out, in one transaction (a DO block is one statement)."""
    body = do_body(stmt.text)
    if body is None:
        return []
    ops = body_ops(read_body(body), stmt.start)
    if re.search(r"(?i)\bconcurrently\b", body):
        ops.insert(0, Op("concurrently_in_block", offset=stmt.start))
    return ops


def body_ops(body: Body, offset: int) -> list[Op]:
    """The operations of a DO block's or routine's body, all at ``offset`` (the statement
    that runs it), between ``block_begin`` and ``block_end``: its statements run in one
    transaction unless it commits."""
    ops = [Op("block_begin", offset=offset)]
    batched = frozenset({"in_block", "in_loop"}) if not body.commits else frozenset({"in_block"})
    for sql, in_loop in body.statements:
        for part in split(sql).statements:
            try:
                found = part.ops if part.ops is not None else analyze(part)
            except StatementError:
                found = [Op("dynamic_sql", value=" ".join(part.text.split())[:80])]
            for op in found:
                op.offset = offset
                op.flags = op.flags | (batched if in_loop else frozenset({"in_block"}))
                ops.append(op)
    ops += [Op("dynamic_sql", value=expr, offset=offset) for expr in body.dynamic]
    if body.commits:
        ops.append(Op("commit_in_block", offset=offset))
    ops.append(Op("block_end", offset=offset))
    return ops


def routine_ops(routine: tuple[str, str], offset: int) -> list[Op]:
    """The operations of a function or procedure's body, where a statement calls it."""
    language, body = routine
    if language not in ("sql", "plpgsql"):
        return [Op("dynamic_sql", value=f"a {language} routine", offset=offset)]
    return body_ops(read_body(body, language), offset)


def _gexec(stmt: Statement) -> list[Op]:
    """``SELECT ... \\gexec``: psql runs each value of each row as a statement."""
    templates = gexec_templates(stmt.text)
    if templates is None:
        return [Op("dynamic_sql", value=" ".join(stmt.text.split())[:80], offset=stmt.start)]
    ops = []
    for sql in templates:
        for part in split(sql).statements:
            try:
                found = part.ops if part.ops is not None else analyze(part)
            except StatementError:
                found = [Op("dynamic_sql", value=sql[:80])]
            for op in found:
                op.offset = stmt.start
                ops.append(op)
    return ops


def _call(stmt: Statement, cur: Cursor) -> list[Op]:
    cur.advance()
    return [Op("call", name=cur.name())]


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
    if not name:
        return []
    source = None
    if into.skip_past("FROM"):
        source = into.name()
    flags = frozenset({"as_query"} if source else ())
    return [Op("create_table", table=name, ref_table=source, flags=flags)]


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
    "CALL": _call,
    "SELECT": _select,
    "INSERT": _insert,
}
