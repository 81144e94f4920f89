"""PostgreSQL facts the rules judge by, apart from any one statement's syntax.

``type_change`` says whether ``ALTER COLUMN ... TYPE`` from a known type is
catalog-only (binary-coercible, no rewrite) or rewrites the table, following
PostgreSQL's own rules for the types migrations change most: ``varchar`` and
``text`` (longer or unlimited is free, shorter rewrites), ``numeric`` (more
precision at the same scale, or unconstrained, is free), and the same type with
the same modifiers (a no-op). Anything else between different types rewrites.
"""

from __future__ import annotations

from functools import lru_cache

_TEXTUAL = ("VARCHAR", "TEXT", "NVARCHAR")


@lru_cache(maxsize=1024)
def _parse(type_sql: str) -> tuple[str, tuple[int, ...]] | None:
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
    return node.this.name, params


def type_change(old_sql: str, new_sql: str) -> str | None:
    """``"free"`` when changing a column from ``old_sql`` to ``new_sql`` touches only the
    catalog, ``"rewrite"`` when PostgreSQL rewrites the table, None when unknown."""
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
