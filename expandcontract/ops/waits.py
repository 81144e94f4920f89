"""Statements that wait out other sessions say on what, and give up after a bound.

``CREATE INDEX CONCURRENTLY`` waits for every transaction that could still see the
table without the index (a ``pg_dump``-style REPEATABLE READ snapshot, a reporting
session idle in its transaction); ``VALIDATE CONSTRAINT`` waits for locks. Neither
has a timeout of its own, and a run used to sit silent for as long as the other
session lasted. While one runs, a watcher on a connection of its own reads what
it waits on every second: every ``REPORT`` seconds it logs the sessions in the way
(pid, state, for how long, their query), and after ``wait_timeout`` seconds it
cancels the statement; the caller then cleans up (an INVALID index is dropped) and
:class:`WaitTimeout` says what was in the way.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from expandcontract.catalog import activity
from expandcontract.ops import execution

log = logging.getLogger("expandcontract")

REPORT = 5.0


class WaitTimeout(Exception):
    """A statement waited for other sessions longer than ``wait_timeout``."""

    def __init__(self, message: str, cleanup: str = "") -> None:
        super().__init__(message)
        self.message, self.cleanup = message, cleanup

    def __str__(self) -> str:
        done = f"; {self.cleanup}" if self.cleanup else ""
        return (
            f"{self.message}{done}. End those sessions, or raise wait_timeout, and run the "
            "same command again"
        )


def _who(sessions: list[dict]) -> str:
    if not sessions:
        return "other sessions"
    return "; ".join(
        f"pid {s['pid']} ({s['state']}, in its transaction for {s['seconds']}s): {s['query']}"
        for s in sessions[:3]
    )


@contextlib.contextmanager
def watched(operations, sql: str, what: str):
    """Run the block (which executes ``sql``) under the watcher."""
    context = operations.get_context()
    if context.as_sql:
        yield
        return
    settings = execution.settings_of(context)
    engine = operations.get_bind().engine
    stop = threading.Event()
    gave_up: list = []

    def watch() -> None:
        reported = 0.0
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                while not stop.wait(1.0):
                    found = activity.running(conn, sql)
                    if found is None or found["wait_event_type"] != "Lock":
                        continue
                    waited = found["seconds"]
                    if waited - reported >= REPORT:
                        reported = waited
                        log.warning(
                            "%s has waited %.0fs for: %s",
                            what,
                            waited,
                            _who(activity.blockers(conn, found["pid"])),
                        )
                    if settings.wait_timeout and waited > settings.wait_timeout:
                        gave_up.append((waited, _who(activity.blockers(conn, found["pid"]))))
                        activity.cancel(conn, found["pid"])
                        return
        except Exception as err:  # the watcher only informs: never the cause of a failure
            log.debug("watcher of %s stopped: %s", what, err)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield
    except Exception:
        if gave_up:
            waited, who = gave_up[0]
            raise WaitTimeout(
                f"{what} gave up after waiting {waited:.0f}s (wait_timeout "
                f"{settings.wait_timeout:g}s) for: {who}"
            ) from None
        raise
    finally:
        stop.set()
        thread.join(timeout=5)
