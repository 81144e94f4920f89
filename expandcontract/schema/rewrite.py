"""Point a catalog definition (an index, a CHECK, a foreign key) at another column.

The definitions come from ``pg_get_indexdef`` and ``pg_get_constraintdef``, so
identifiers are lower case unless quoted. A column reference is an identifier
that is not inside a string, not part of a dotted name, not a function's name
and not a type after ``::``; only those equal to the old column are replaced.
"""

from __future__ import annotations

import re

from expandcontract.schema.names import quote

_TOKEN = re.compile(
    r"""
    (?P<string>[EeBbXxNn]?'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)
  | (?P<other>::|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _identifier(token: re.Match) -> str | None:
    if token.group("quoted"):
        return token.group("quoted")[1:-1].replace('""', '"')
    if token.group("word"):
        return token.group("word").lower()
    return None


def rename_column(sql: str, old: str, new: str) -> str:
    """``sql`` with every reference to column ``old`` naming ``new`` instead."""
    tokens = list(_TOKEN.finditer(sql))
    out = []
    for i, token in enumerate(tokens):
        name = _identifier(token)
        if name == old:
            before = _neighbour(tokens, i, -1)
            after = _neighbour(tokens, i, 1)
            if before not in (".", "::") and after not in (".", "("):
                out.append(quote(new))
                continue
        out.append(token.group(0))
    return "".join(out)


def _neighbour(tokens: list[re.Match], i: int, step: int) -> str:
    j = i + step
    while 0 <= j < len(tokens) and tokens[j].group(0).isspace():
        j += step
    return tokens[j].group(0) if 0 <= j < len(tokens) else ""


_INDEX_HEAD = re.compile(
    r'^CREATE (UNIQUE )?INDEX ("(?:[^"]|"")*"|\S+) ON (ONLY )?(.*?) USING ', re.S
)


def carried_index(definition: str, old: str, new: str, name: str) -> str:
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS name`` on ``new``, from ``pg_get_indexdef``."""
    head = _INDEX_HEAD.match(definition)
    if head is None:
        raise ValueError(f"not an index definition: {definition}")
    unique = "UNIQUE " if head.group(1) else ""
    tail = rename_column(definition[head.end() :], old, new)
    return (
        f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {quote(name)} "
        f"ON {head.group(4)} USING {tail}"
    )


def original_index(definition: str) -> str:
    """``pg_get_indexdef`` made re-runnable and lock-safe: CONCURRENTLY IF NOT EXISTS."""
    head = _INDEX_HEAD.match(definition)
    if head is None:
        raise ValueError(f"not an index definition: {definition}")
    unique = "UNIQUE " if head.group(1) else ""
    return (
        f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {head.group(2)} "
        f"ON {head.group(4)} USING {definition[head.end() :]}"
    )


def carried_foreign_key(definition: str, old: str, new: str) -> str:
    """``FOREIGN KEY (old, ...) REFERENCES ...`` from ``new``: only the local columns change."""
    match = re.match(r"FOREIGN KEY \((.*?)\) REFERENCES ", definition, re.S)
    if match is None:
        raise ValueError(f"not a foreign key: {definition}")
    local = rename_column(match.group(1), old, new)
    return f"FOREIGN KEY ({local}) REFERENCES {definition[match.end() :]}"


_NAME = r'(?:"(?:[^"]|"")*"|[^\s(."]+)'
_REFERENCES = re.compile(rf"( REFERENCES {_NAME}(?:\.{_NAME})?)\((.*?)\)", re.S)


def referencing_foreign_key(definition: str, old: str, new: str) -> str:
    """``... REFERENCES t(old)`` pointing at ``new``: only the referenced columns change."""
    match = _REFERENCES.search(definition)
    if match is None:
        raise ValueError(f"not a foreign key: {definition}")
    columns = rename_column(match.group(2), old, new)
    return f"{definition[: match.start()]}{match.group(1)}({columns}){definition[match.end() :]}"


def not_valid(definition: str) -> str:
    return definition if definition.rstrip().endswith("NOT VALID") else f"{definition} NOT VALID"


class Unrewritable(ValueError):
    """A definition whose references to the column cannot be told apart safely."""


def _reference(new: str, qualifier: str, cast: str | None) -> str:
    ref = f"{qualifier}.{quote(new)}" if qualifier else quote(new)
    return f"CAST({ref} AS {cast})" if cast else ref


def expression(sql: str, old: str, new: str, cast: str | None = None) -> str:
    """A one-table expression (a row-level security policy's USING or WITH CHECK, as
    ``pg_get_expr`` gives it) reading ``new`` where it read ``old``; ``cast``: the old
    column's type, for a new column of another type (the expression means the same).
    A subquery may name another table's column of the same name: refused."""
    tokens = list(_TOKEN.finditer(sql))
    if any((t.group("word") or "").lower() == "select" for t in tokens):
        raise Unrewritable("it has a subquery")
    out = []
    for i, token in enumerate(tokens):
        if _identifier(token) == old:
            before, after = _neighbour(tokens, i, -1), _neighbour(tokens, i, 1)
            if before not in (".", "::") and after not in (".", "("):
                out.append(_reference(new, "", cast))
                continue
        out.append(token.group(0))
    return "".join(out)


def view_query(query: str, table: str, old: str, new: str, cast: str | None = None) -> str:
    """A view's query (``pg_get_viewdef``) reading column ``new`` of ``table`` where it
    read ``old``, its output columns unchanged: a bare ``old`` in a select list keeps
    its name (``o.new AS old``), and with ``cast`` (the old column's type) its type.

    sqlglot finds the references and which relation each belongs to (scope by scope,
    a qualifier looked up outwards for correlated subqueries); the query's own text is
    kept and only those spans are replaced, so nothing else PostgreSQL wrote changes.
    An unqualified ``old`` beside other relations is ambiguous: refused."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.scope import traverse_scope

    schema, _, bare = table.rpartition(".")
    body = query.strip().rstrip(";")
    try:
        tree = sqlglot.parse_one(body, read="postgres")
        scopes = traverse_scope(tree)
    except Exception as err:  # sqlglot's errors vary by version: any means "cannot tell"
        raise Unrewritable(f"its query cannot be read ({str(err).splitlines()[0]})") from None

    def ours(source) -> bool:
        return (
            isinstance(source, exp.Table)
            and source.name == bare
            and (source.db in ("", schema) if schema else source.db in ("", "public"))
        )

    found: list = []
    for scope in scopes:
        for column in scope.columns:
            if column.name != old:
                continue
            if column.table:
                outer = scope
                while outer is not None and column.table not in outer.sources:
                    outer = outer.parent
                if outer is not None and ours(outer.sources[column.table]):
                    found.append(column)
            elif any(ours(s) for s in scope.sources.values()):
                if len(scope.sources) != 1:
                    raise Unrewritable(f"it names {old} without saying of which relation")
                found.append(column)
    spans = {}
    for column in found:
        name = column.this.meta
        qualifier = column.args.get("table")
        start = qualifier.meta["start"] if qualifier is not None else name["start"]
        if "start" not in name or start is None:
            raise Unrewritable("its query cannot be mapped back to its text")
        qualifier_sql = body[start : qualifier.meta["end"] + 1] if qualifier is not None else ""
        replacement = _reference(new, qualifier_sql, cast)
        parent = column.parent
        if isinstance(parent, exp.Select) and column in parent.expressions:
            replacement += f" AS {quote(old)}"  # a bare output column keeps its name
        spans[start] = (start, name["end"] + 1, replacement)  # a column seen by two scopes
    out = body
    for start, end, replacement in sorted(spans.values(), reverse=True):
        out = out[:start] + replacement + out[end:]
    return out
