"""Database URLs: read in every spelling users write them, and never printed with a secret.

A server may be given as a SQLAlchemy URL (``postgresql+asyncpg://u:p%40ss@h/db``), a
libpq URL (``postgresql://h/db?password=...``) or a libpq ``key=value`` string.
:func:`display_url` is the only way a URL reaches a message or a report.
"""

from __future__ import annotations

import re

from expandcontract.errors import InputError

PLACEHOLDER_SCHEME = "driver"  # what `alembic init` leaves in sqlalchemy.url
_SECRET_KEYS = ("password", "pass", "passwd", "sslpassword")
_KEYVALUE_SECRET = re.compile(
    r"(\b(?:" + "|".join(_SECRET_KEYS) + r")\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE
)


def display_url(url: str) -> str:
    """``url`` fit to print: every password masked, however it was written."""
    if "://" not in url:  # a key=value conninfo string
        return _KEYVALUE_SECRET.sub(r"\1***", url)
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        query = {k: ("***" if k.lower() in _SECRET_KEYS else v) for k, v in parsed.query.items()}
        return parsed.set(query=query).render_as_string(hide_password=True)
    except Exception:  # not even a URL: mask what looks like a secret
        masked = re.sub(r"(://[^:/@]*):[^/]*@", r"\1:***@", url)
        return re.sub(
            r"((?:" + "|".join(_SECRET_KEYS) + r")=)[^&\s]*", r"\1***", masked, flags=re.I
        )


def postgresql_url(url: str, where: str) -> str:
    """``url`` for SQLAlchemy on psycopg 3, whatever PostgreSQL driver it names."""
    from sqlalchemy.engine import URL, make_url
    from sqlalchemy.exc import ArgumentError

    if "://" not in url and "=" in url:  # key=value: through libpq's own parser
        import psycopg

        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise InputError(f"{where} is not a database URL: {display_url(url)}") from None
        host = params.pop("host", None)
        if host and host.startswith("/"):  # a Unix socket folder: a URL names it as ?host=
            params["host"], host = host, None
        return URL.create(
            "postgresql+psycopg",
            username=params.pop("user", None),
            password=params.pop("password", None),
            host=host,
            port=int(params.pop("port")) if params.get("port") else None,
            database=params.pop("dbname", None),
            query={k: str(v) for k, v in params.items()},
        ).render_as_string(hide_password=False)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise InputError(f"{where} is not a database URL: {display_url(url)}") from None
    backend = parsed.get_backend_name()
    if backend == PLACEHOLDER_SCHEME:
        raise InputError(
            f"{where} is still Alembic's placeholder ({display_url(url)}); "
            "set it to your PostgreSQL URL or pass --database-url"
        )
    if backend not in ("postgresql", "postgres"):
        raise InputError(
            f"{where} points at {backend}; expandcontract works on PostgreSQL ({display_url(url)})"
        )
    # our own environment runs the migrations, synchronously, on the driver we ship
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def to_conninfo(url: str, where: str = "--database-url") -> str:
    """A libpq conninfo string for psycopg, from any spelling of a PostgreSQL URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    if "://" not in url and "=" in url:  # already one: libpq reads it as it is
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise InputError(f"{where} is not a database URL: {display_url(url)}") from None
        return url

    parsed = make_url(postgresql_url(url, where))

    params = {
        "user": parsed.username,
        "password": parsed.password,
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        **{k: v for k, v in parsed.query.items() if isinstance(v, str)},
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v is not None})


def sqlalchemy_url(conninfo: str) -> str:
    """The psycopg 3 SQLAlchemy URL of a libpq conninfo string (passwords escaped)."""
    return postgresql_url(conninfo, "the database")
