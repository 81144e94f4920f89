"""``lint --schema-from URL``: the schema the first migration starts from, read from a
real database's catalog (what production or a staging copy has today)."""

from __future__ import annotations

from expandcontract.catalog import probes
from expandcontract.errors import InputError
from expandcontract.lint.schema import Schema


def schema_from(url: str) -> Schema:
    """Column types and partitioned tables of every user table, named as the linter
    names them (``public.`` left out, unquoted names as PostgreSQL folded them)."""
    import psycopg

    from expandcontract.connections import connect
    from expandcontract.urls import display_url, to_conninfo

    try:
        with connect(to_conninfo(url, "--schema-from"), connect_timeout=10) as conn:
            rows = conn.execute(probes.USER_COLUMNS).fetchall()
    except psycopg.Error as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise InputError(f"--schema-from {display_url(url)}: {reason}") from None
    schema = Schema()
    for table, column, type_sql, partitioned in rows:
        schema.column_types[(table, column)] = type_sql
        if partitioned:
            schema.partitioned.add(table)
    return schema
