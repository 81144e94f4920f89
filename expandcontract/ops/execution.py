"""Safe execution: every statement under ``lock_timeout``, retried on lock timeouts.

A statement that must wait for its lock behind a long query makes every later
query on the table queue behind it. Under a short ``lock_timeout`` it gives up
instead (SQLSTATE 55P03), the queue drains, and it is tried again after an
exponential backoff with jitter. Inside a transaction each attempt runs in a
savepoint, so a failed attempt does not abort the migration's transaction.

The timeout is set with ``SET LOCAL`` in the transaction that runs the statement,
never on the session: through PgBouncer in transaction mode a session setting
would stay on a pooled server connection, and the next transaction may run on
another one. A statement run outside a transaction (``autocommit_block()``) that
can run inside one gets a transaction of its own for the purpose (:func:`local`);
those that cannot (``CONCURRENTLY``, ``VACUUM``) take only ``SHARE UPDATE
EXCLUSIVE`` or weaker, which no read or write waits behind.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import time
import weakref
from dataclasses import dataclass

from expandcontract.alembic_integration import internals

log = logging.getLogger("expandcontract")

LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class Settings:
    lock_timeout: str = "2s"
    retries: int = 5
    base_delay: float = 0.2
    max_delay: float = 10.0
    # inside a revision's transaction, a lock timeout rolls the whole revision back for
    # the runner to run again (RestartRevision), rather than retrying the statement while
    # holding what the revision locked so far (plain `alembic upgrade` retries statements)
    restart: bool = False
    # seconds a statement that waits out other sessions (CREATE INDEX CONCURRENTLY,
    # VALIDATE) may wait on them before it is cancelled and cleaned up (ops.waits); 0: none
    wait_timeout: float = 600.0


class LockTimeoutError(Exception):
    """The statement could not get its lock within the configured attempts."""


class RestartRevision(Exception):
    """A statement of a revision's transaction timed out waiting for its lock: the runner
    rolls the revision back and runs it again from the start."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def sqlstate(err: BaseException) -> str | None:
    orig = getattr(err, "orig", err)
    return getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)


def backoff(attempt: int, settings: Settings) -> float:
    """Exponential backoff with full jitter: uniform in [d/2, d], d = base * 2**attempt."""
    delay = min(settings.max_delay, settings.base_delay * 2**attempt)
    return random.uniform(delay / 2, delay)


# statements PostgreSQL refuses inside a transaction block
_NO_TRANSACTION = re.compile(
    r"\bCONCURRENTLY\b|^\s*(VACUUM|CREATE\s+DATABASE|DROP\s+DATABASE|ALTER\s+SYSTEM|"
    r"(CREATE|DROP)\s+TABLESPACE|BEGIN|START|COMMIT|ROLLBACK|END|SET|RESET|SHOW)\b",
    re.IGNORECASE,
)


# what a run set for Alembic's objects, beside them rather than on them: no attribute of
# ours on a third-party object (they go when the objects go)
_SETTINGS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # impl -> Settings
_BACKFILL: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # context -> batches


def use_backfill_settings(context, batch) -> None:
    """The backfill batch settings for the operations run on ``context``."""
    _BACKFILL[context] = batch


def backfill_settings_of(context):
    """What :func:`use_backfill_settings` set for ``context``; None when nothing was."""
    return _BACKFILL.get(context)


def install(context, settings: Settings) -> None:
    """Make every statement Alembic executes on ``context`` lock-safe (idempotent)."""
    impl = context.impl
    if impl in _SETTINGS or context.as_sql:
        return
    _SETTINGS[impl] = settings
    internals.wrap_statement_executor(impl, lambda original: _lock_safe(impl, settings, original))


def _lock_safe(impl, settings: Settings, original):
    """``original`` (Alembic's statement executor) under lock_timeout, with retries."""
    timed: list = [None]  # the transaction our SET LOCAL holds for: once per transaction

    def exec_with_retry(construct, *args, **kwargs):
        sql = describe(construct, impl.dialect)
        what = sql.splitlines()[0][:120] if sql else ""

        def attempt():
            # autocommit_block() swaps in an AUTOCOMMIT connection: no savepoints there
            connection = impl.connection
            if autocommit(connection):
                if _NO_TRANSACTION.search(sql):
                    return original(construct, *args, **kwargs)
                with local(connection, settings):
                    return original(construct, *args, **kwargs)
            if connection.in_transaction():
                transaction = connection.get_transaction()
                if transaction is not timed[0]:
                    set_local_timeout(connection, settings)
                    timed[0] = transaction
                if settings.restart:  # a timeout ends the revision: see RestartRevision
                    try:
                        return original(construct, *args, **kwargs)
                    except Exception as err:
                        if sqlstate(err) == LOCK_NOT_AVAILABLE:
                            raise RestartRevision(what) from err
                        raise
                with connection.begin_nested():
                    return original(construct, *args, **kwargs)
            return original(construct, *args, **kwargs)

        return retry(attempt, settings, what)

    return exec_with_retry


def autocommit(connection) -> bool:
    return connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT"


def set_local_timeout(connection, settings: Settings) -> None:
    """``lock_timeout`` for the rest of the current transaction only."""
    from sqlalchemy import text

    connection.execute(
        text("SELECT set_config('lock_timeout', :t, true)"), {"t": settings.lock_timeout}
    )


@contextlib.contextmanager
def local(connection, settings: Settings, extra: dict[str, str] | None = None):
    """A transaction of its own, under ``lock_timeout`` (and the ``extra`` settings), on
    an autocommit connection: committed when the block ends, rolled back if it raises."""
    values = {"lock_timeout": settings.lock_timeout, **(extra or {})}
    statements = ["BEGIN"] + [
        f"SET LOCAL {name} = '{value.replace(chr(39), chr(39) * 2)}'"
        for name, value in values.items()
    ]
    if connection.dialect.driver in ("psycopg", "psycopg2"):
        # one round trip: without parameters psycopg sends them on the simple query protocol
        connection.exec_driver_sql("; ".join(statements))
    else:  # asyncpg and pg8000 prepare each statement: one command at a time
        for statement in statements:
            connection.exec_driver_sql(statement)
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            connection.exec_driver_sql("ROLLBACK")
        raise
    connection.exec_driver_sql("COMMIT")


def _chain(err: BaseException | None):
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        yield err
        err = err.__cause__ or err.__context__


def interrupted(err: BaseException | None) -> bool:
    """Ctrl-C, seen through what it became: psycopg cancels the running query (57014, "due
    to user request", not a statement_timeout's), and SQLAlchemy may raise a cleanup
    error on top of the original KeyboardInterrupt."""
    for each in _chain(err):
        if isinstance(each, KeyboardInterrupt):
            return True
        if sqlstate(each) == "57014" and "user request" in str(each):
            return True
    return False


# SQLSTATE classes and codes a run meets, in words: what happened, and what to do
_CAUSES = (
    (
        "57014",
        "statement timeout",
        "the server's statement_timeout (set for this role or database) cut the statement "
        "short; give the migration role none (ALTER ROLE ... SET statement_timeout = 0) "
        "and run the same command again: what was committed stays",
    ),
    (
        "57P0",
        "",
        "the server ended the session (pg_terminate_backend, a restart or a shutdown); what "
        "was committed stays (backfill batches, CONCURRENTLY builds): run the same command "
        "again to finish",
    ),
    (
        "08",
        "",
        "the connection to the database was lost; what was committed stays: run the same "
        "command again once the server answers",
    ),
    ("40P01", "", "PostgreSQL broke a deadlock by cancelling this statement; run it again"),
    ("53", "", "the server ran out of a resource (disk, memory, connections)"),
)


def explain(err: BaseException) -> str | None:
    """What a failed run met, in words, when it is the server's doing rather than the
    revision's (the error's SQLSTATE, looked for under SQLAlchemy's wrappers)."""
    for each in _chain(err):
        state = sqlstate(each)
        if not state and (
            type(each).__name__ == "PendingRollbackError"
            or getattr(each, "connection_invalidated", False)
        ):  # SQLAlchemy's word for a connection the server ended under it
            return (
                "the connection was ended under the run (pg_terminate_backend, a restart "
                "or a lost network); what was committed stays (backfill batches, "
                "CONCURRENTLY builds): run the same command again to finish"
            )
        if not state:
            continue
        text = str(getattr(each, "orig", each)).strip().splitlines()[0] if str(each) else ""
        for prefix, phrase, words in _CAUSES:
            if state.startswith(prefix) and phrase in text:
                return f"{words} ({state}: {text})"
    return None


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


def settings_of(context) -> Settings:
    return _SETTINGS.get(context.impl) or Settings()
