"""Safe execution: every statement under ``lock_timeout``, retried on lock timeouts.

A statement that must wait for its lock behind a long query makes every later
query on the table queue behind it. Under a short ``lock_timeout`` it gives up
instead (SQLSTATE 55P03), the queue drains, and it is tried again after an
exponential backoff with jitter. Inside a transaction each attempt runs in a
savepoint, so a failed attempt does not abort the migration's transaction.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

log = logging.getLogger("expandcontract")

LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Settings:
    lock_timeout: str = "2s"
    retries: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0


class LockTimeoutError(Exception):
    """The statement could not get its lock within the configured attempts."""


def sqlstate(err: BaseException) -> str | None:
    orig = getattr(err, "orig", err)
    return getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)


def backoff(attempt: int, settings: Settings) -> float:
    """Exponential backoff with full jitter: uniform in [d/2, d], d = base * 2**attempt."""
    delay = min(settings.max_delay, settings.base_delay * 2**attempt)
    return random.uniform(delay / 2, delay)


def install(context, settings: Settings, set_timeout: bool = True) -> None:
    """Make every statement Alembic executes on ``context`` lock-safe (idempotent)."""
    impl = context.impl
    if getattr(impl, "_expandcontract_settings", None) is not None or context.as_sql:
        return
    impl._expandcontract_settings = settings
    original = impl._exec
    if set_timeout:
        _set_lock_timeout(impl.connection, settings)

    def exec_with_retry(construct, *args, **kwargs):
        what = describe(construct, impl.dialect).splitlines()[0][:120]

        def attempt():
            # autocommit_block() swaps in an AUTOCOMMIT connection: no savepoints there
            connection = impl.connection
            autocommit = connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
            if connection.in_transaction() and not autocommit:
                with connection.begin_nested():
                    return original(construct, *args, **kwargs)
            return original(construct, *args, **kwargs)

        return retry(attempt, settings, what)

    impl._exec = exec_with_retry


def interrupted(err: BaseException | None) -> bool:
    """Ctrl-C, seen through what it became: psycopg cancels the running query (57014),
    and SQLAlchemy may raise a cleanup error on top of the original KeyboardInterrupt."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, KeyboardInterrupt) or sqlstate(err) == "57014":
            return True
        err = err.__cause__ or err.__context__
    return False


def describe(construct, dialect) -> str:
    """The SQL of what Alembic executes, compiled for the connection's dialect
    (``str()`` would use SQLAlchemy's default dialect, which cannot render PostgreSQL DDL)."""
    if construct is None:
        return ""
    if isinstance(construct, str):
        return construct.strip()
    try:
        return str(construct.compile(dialect=dialect)).strip()
    except Exception:  # a construct that does not compile on its own: name it
        return type(construct).__name__


def retry(attempt, settings: Settings, what: str):
    """Call ``attempt()``; on lock timeout, back off and call it again, up to the limit."""
    for number in range(settings.retries):
        try:
            return attempt()
        except Exception as err:
            if sqlstate(err) != LOCK_NOT_AVAILABLE:
                raise
            if number + 1 == settings.retries:
                raise LockTimeoutError(
                    f"could not get the lock for `{what}` within lock_timeout "
                    f"{settings.lock_timeout} after {settings.retries} attempts; a long "
                    "transaction holds the table (see pg_stat_activity); retry later"
                ) from None
            wait = backoff(number, settings)
            log.warning(
                "lock timeout (%s) on `%s`: attempt %d/%d, retrying in %.2fs",
                settings.lock_timeout,
                what,
                number + 1,
                settings.retries,
                wait,
            )
            time.sleep(wait)
    return None


def _set_lock_timeout(connection, settings: Settings) -> None:
    from sqlalchemy import text

    value = settings.lock_timeout.replace("'", "")
    connection.execute(text(f"SET lock_timeout = '{value}'"))


def settings_of(context) -> Settings:
    return getattr(context.impl, "_expandcontract_settings", None) or Settings()
