"""The one quoting function and the one generator of names expandcontract creates.

Identifiers reach SQL text only through :func:`quote`, which follows SQLAlchemy's
PostgreSQL rules (reserved words and SQL value functions such as ``user`` and
``current_date`` are quoted; an embedded double quote is doubled). SQLAlchemy is
imported on the first call, not before: ``expandcontract lint`` never needs it.
"""

from __future__ import annotations

import hashlib
from functools import cache


@cache
def _preparer():
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect().identifier_preparer


def quote(name: str) -> str:
    """Quote an identifier (or ``schema.name``) when PostgreSQL needs it."""
    preparer = _preparer()
    return ".".join(preparer.quote(part) for part in name.split("."))


def object_name(*parts: str, prefix: str = "ec") -> str:
    """A deterministic name within PostgreSQL's 63 bytes."""
    name = "_".join([prefix, *[p.replace(".", "_") for p in parts]])
    if len(name) <= 63:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"
