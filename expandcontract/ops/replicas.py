"""Replica-aware pacing: a backfill waits while a replica falls too far behind.

A backfill writes as fast as the primary allows; a replica replays that WAL
single-threaded and can fall behind, and reads served from it go stale. Before
each batch the backfill asks :class:`LagGate` whether it may go on. The lag is
read (at most every ``interval`` seconds) from:

- the primary's ``pg_stat_replication.replay_lag``, for every streaming standby
  (needs a superuser or the ``pg_monitor`` role to be visible; otherwise a warning
  is logged once and only the replicas named in ``replica_urls`` count);
- each URL in ``replica_urls`` (a replica, or a cascaded one the primary does not
  see): ``now() - pg_last_xact_replay_timestamp()`` while it has WAL not yet replayed.

While the largest lag is above ``max_lag`` the gate sleeps and asks again; it
lets the backfill go on once the lag is below half of it, so it does not flap.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import text

from expandcontract.catalog.activity import PRIMARY_LAG, REPLICA_LAG
from expandcontract.urls import display_url, to_conninfo

log = logging.getLogger("expandcontract")

PROBE_TIMEOUT = 2  # seconds to connect to a replica in replica_urls
RETRY_DOWN = 60  # seconds an unreachable replica is left alone before it is asked again


class LagGate:
    """Shared by a backfill's workers: one lag reading serves them all."""

    def __init__(self, engine, max_lag: float, replica_urls=(), interval: float = 0.25) -> None:
        self.engine, self.max_lag, self.interval = engine, max_lag, interval
        self.replica_urls = list(replica_urls)
        self.waited = 0.0
        self._lock = threading.Lock()
        self._checked = 0.0
        self._warned: set[str] = set()
        self._down: dict[str, float] = {}  # an unreachable replica: not asked again until then

    def wait(self) -> None:
        """Return when the replicas are close enough (at once when none lags)."""
        if self.max_lag <= 0:
            return
        with self._lock:  # one worker reads and waits; the others queue behind it
            now = time.monotonic()
            if now - self._checked < self.interval:
                return
            self._checked = now
            lag, where = self.lag()
            if lag <= self.max_lag:
                return
            log.warning(
                "backfill paused: replica lag %.1fs on %s is over %.1fs; waiting",
                lag,
                where,
                self.max_lag,
            )
            started = time.monotonic()
            while lag > self.max_lag / 2:
                time.sleep(self.interval)
                lag, where = self.lag()
            self.waited += time.monotonic() - started
            self._checked = time.monotonic()
            log.info("backfill resumed: replica lag %.1fs", lag)

    def lag(self) -> tuple[float, str]:
        """The largest replay lag in seconds, and where it was seen."""
        readings = [(self._primary(), "the primary's standbys")]
        readings += [(self._replica(url), display_url(url)) for url in self.replica_urls]
        return max(readings, key=lambda r: r[0])

    def _primary(self) -> float:
        with self.engine.connect() as conn:
            lag, hidden = conn.execute(text(PRIMARY_LAG)).one()
            conn.rollback()
        if hidden and "primary" not in self._warned:
            self._warned.add("primary")
            log.warning(
                "cannot read the replication lag of %d standby(s) on the primary (needs "
                "pg_monitor); set replica_urls to pace the backfill on them",
                hidden,
            )
        return float(lag)

    def _replica(self, url: str) -> float:
        from expandcontract.connections import connect

        if time.monotonic() < self._down.get(url, 0.0):
            return 0.0
        try:
            with connect(
                to_conninfo(url, "replica_urls"), autocommit=True, connect_timeout=PROBE_TIMEOUT
            ) as c:
                return float(c.execute(REPLICA_LAG).fetchone()[0])
        except Exception as err:  # an unreachable replica does not stop the backfill
            self._down[url] = time.monotonic() + RETRY_DOWN
            if url not in self._warned:
                self._warned.add(url)
                log.warning(
                    "cannot read the lag of replica %s (%s): the backfill goes on without it, "
                    "asking again every %ds",
                    display_url(url),
                    str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__,
                    RETRY_DOWN,
                )
            return 0.0
