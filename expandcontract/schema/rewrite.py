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
