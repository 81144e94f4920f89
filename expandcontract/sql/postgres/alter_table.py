"""The ALTER TABLE reader: each action of a statement, as the operations it does.

Read by tokens where sqlglot returns an unparsed ``Command`` or misparses
(``RENAME a TO b``, VALIDATE, ATTACH/DETACH PARTITION, USING INDEX, ...), else from
sqlglot's tree; one action at a time, so a multi-action statement is judged action by
action. The plain shapes (:mod:`~expandcontract.sql.postgres.shapes`) settle the
commonest actions before this reader is ever loaded, to the same operations.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import Token

from expandcontract.sql.op import Op, StatementError
from expandcontract.sql.postgres.facts import AE, SRE, STABLE_FUNCTIONS, SUE, VOLATILE_FUNCTIONS
from expandcontract.sql.postgres.split import Statement
from expandcontract.sql.postgres.statement_table import ACTION_WORDS, classify_action
from expandcontract.sql.postgres.tokens import Cursor, split_top_level, upper_words
from expandcontract.sql.postgres.tree import (
    SERIAL_TYPES,
    TOKENIZER,
    WIDENING_TYPES,
    default_volatility,
    ident_name,
    parse,
    sql_of,
    table_name,
)


def alter_table(stmt: Statement, cur: Cursor) -> list[Op]:
    """``ALTER TABLE``, the cursor on TABLE."""
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
        for op in found:
            if op.kind == "alter_table_other":  # what the statement table says of it
                entry = classify_action("ALTER TABLE", upper_words(action))
                if entry is not None:
                    op.value = entry.key
                    op.lock = entry.lock or op.lock
        ops.extend(found)
    return ops


def _alter_action(stmt: Statement, table: str, action: list[Token], single: bool) -> list[Op]:
    acur = Cursor(action)
    offset = action[0].start
    first = acur.peek()
    if first not in ACTION_WORDS:
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
        tokens = TOKENIZER.tokenize(sql)
    try:
        tree = parse(tokens, sql)
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
            default_sql = sql_of(kind.this)
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
        type_sql=sql_of(dtype) if dtype is not None else None,
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
            type_sql=sql_of(dtype),
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
            default_sql=sql_of(node.args["default"]),
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
