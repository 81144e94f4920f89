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


MAX_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1: longer identifiers are cut, silently


def object_name(*parts: str, prefix: str = "ec") -> str:
    """A deterministic name within PostgreSQL's 63 bytes (bytes, not characters: a
    Cyrillic name is cut twice as soon). A longer one keeps a prefix and a hash of the
    whole, so two names alike in their first 63 bytes never collide."""
    name = "_".join([p for p in [prefix, *[p.replace(".", "_") for p in parts]] if p])
    encoded = name.encode()
    if len(encoded) <= MAX_BYTES:
        return name
    digest = hashlib.sha1(encoded).hexdigest()[:8]
    head = encoded[: MAX_BYTES - 9].decode("utf-8", "ignore")  # never half a character
    return f"{head}_{digest}"


def derived_name(table: str, *parts: str) -> str:
    """A name for an object a change creates on ``table``, PostgreSQL-style
    (``orders_code_key``): the table's own name, without its schema, and the parts,
    kept within 63 bytes by :func:`object_name`'s hash when longer."""
    return object_name(table.rsplit(".", 1)[-1], *parts, prefix="")


def in_schema_of(table: str, name: str) -> str:
    """``name`` in ``table``'s schema (``billing.invoices`` -> ``billing.name``): a
    function we make beside a table lives where the table does."""
    return f"{table.rsplit('.', 1)[0]}.{name}" if "." in table else name


def check_identifier(name: str, what: str) -> None:
    """Refuse a name PostgreSQL would cut to 63 bytes: the cut name could be another
    object's, and a phase would act on the wrong one."""
    from expandcontract.errors import InputError

    for part in name.split("."):
        size = len(part.encode())
        if size > MAX_BYTES:
            raise InputError(
                f"{what} {part!r} is {size} bytes; PostgreSQL keeps only the first "
                f"{MAX_BYTES} and would silently act on the cut name. Use a shorter name."
            )
