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
# a key=value secret: quoted, or (libpq would refuse it, but it is still a secret) everything
# up to the next ``key=`` or the end, spaces included
_KEYVALUE_SECRET = re.compile(
    r"(\b(?:" + "|".join(_SECRET_KEYS) + r")\s*=\s*)"
    r"('(?:[^'\\]|\\.)*'?|.*?(?=\s+[A-Za-z_]+\s*=|\s*$))",
    re.IGNORECASE | re.DOTALL,
)
_QUERY_SECRET = re.compile(r"((?:" + "|".join(_SECRET_KEYS) + r")=)[^&]*", re.IGNORECASE)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``scheme://user:password@host/...`` as the URL without its credentials, the user and
    the password (percent-decoded). The one reader of a URL's credentials: a host name never
    holds an ``@``, so the credentials end at the last ``@`` before the query (at the last
    ``@`` at all when the password holds a ``?``), and an unescaped ``@``, ``/``, ``:`` or
    space in the password is read as the user meant it, never as part of the host."""
    from urllib.parse import unquote

    scheme, sep, rest = url.partition("://")
    if not sep:
        return url, None, None
    head = rest.split("?", 1)[0]
    at = head.rfind("@")
    if at == -1:
        at = rest.rfind("@")
    if at == -1:
        return url, None, None
    user, colon, password = rest[:at].partition(":")
    return (
        f"{scheme}://{rest[at + 1 :]}",
        unquote(user) or None,
        unquote(password) if colon else None,
    )


def parse_url(url: str):
    """``url`` as a SQLAlchemy URL, its credentials read by :func:`split_credentials`
    (SQLAlchemy alone splits at the first ``@``: the rest of the password became the host,
    and then an error message). Raises ArgumentError or ValueError when it is no URL."""
    from sqlalchemy.engine import make_url

    bare, user, password = split_credentials(url)
    parsed = make_url(bare)
    if user is not None or password is not None:
        parsed = parsed.set(username=user, password=password)
    return parsed


def display_url(url: str) -> str:
    """``url`` fit to print: every password masked, however it was written."""
    if "://" not in url:  # a key=value conninfo string
        return _KEYVALUE_SECRET.sub(r"\1***", url)
    try:
        parsed = parse_url(url)
        query = {k: ("***" if k.lower() in _SECRET_KEYS else v) for k, v in parsed.query.items()}
        return parsed.set(query=query).render_as_string(hide_password=True)
    except Exception:  # not even a URL: show no credentials at all
        bare, user, password = split_credentials(url)
        scheme, _, rest = bare.partition("://")
        who = f"{user or ''}{':***' if password is not None else ''}"
        return _QUERY_SECRET.sub(r"\1***", f"{scheme}://{who}@{rest}" if who else bare)


def postgresql_url(url: str, where: str) -> str:
    """``url`` for SQLAlchemy on psycopg 3, whatever PostgreSQL driver it names."""
    from sqlalchemy.engine import URL
    from sqlalchemy.exc import ArgumentError

    if "://" not in url and "=" in url:  # key=value: through libpq's own parser
        import psycopg

        _check_options(_keywords(url), where, url)
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
        parsed = parse_url(url)
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
    _check_options(list(parsed.query), where, url)
    # our own environment runs the migrations, synchronously, on the driver we ship
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _keywords(conninfo: str) -> list[str]:
    """The keywords of a key=value string (its values unread)."""
    return re.findall(r"(?:^|\s)([A-Za-z_]+)\s*=", re.sub(r"'(?:[^'\\]|\\.)*'", "''", conninfo))


def _check_options(keys: list[str], where: str, url: str) -> None:
    """Every connection option is one libpq knows: a typo (``sslmod``) is named, with the
    option meant, before any connection is tried (libpq would refuse it mid-command)."""
    import difflib

    from psycopg import pq

    known = {d.keyword.decode() for d in pq.Conninfo.get_defaults()}
    for key in keys:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(
                f"{where}: unknown connection option {key!r}{hint} in {display_url(url)}"
            )


def to_conninfo(url: str, where: str = "--database-url") -> str:
    """A libpq conninfo string for psycopg, from any spelling of a PostgreSQL URL."""
    import psycopg

    if "://" not in url and "=" in url:  # already one: libpq reads it as it is
        try:
            psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise InputError(f"{where} is not a database URL: {display_url(url)}") from None
        return url

    parsed = parse_url(postgresql_url(url, where))

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
