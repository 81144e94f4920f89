"""key-change's traffic with what production adds, for `bench/zero_downtime.py --scenario
operations`: one of the connections is also a reporting session that every 50th unit
reads customers and orders, then sits idle in its transaction for 1.5 s (holding ACCESS
SHARE on both tables, as a dashboard or an unlucky ORM session does), and every sign-up
writes the parent then the child (customers, then orders), the order that deadlocks
with a runner taking the child first.
"""

import importlib.util
import time
from pathlib import Path

import sqlalchemy as sa

_path = Path(__file__).with_name("workload.py")
_spec = importlib.util.spec_from_file_location("key_change", _path)
_base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_base)

WORKERS = 6
IDLE_SECONDS = 1.5  # idle in transaction, within the runner's lock_timeout retries
seed = _base.seed
check = _base.check


def _report(connection):
    connection.execute(sa.text("SELECT count(*) FROM (SELECT 1 FROM customers LIMIT 100) c"))
    connection.execute(sa.text("SELECT count(*) FROM (SELECT 1 FROM orders LIMIT 100) o"))
    time.sleep(IDLE_SECONDS)


def _reporting(i):
    """Worker 0 (unit numbers are worker + k * WORKERS), one unit in 50."""
    return i % WORKERS == 0 and (i // WORKERS) % 50 == 0


def old_app(connection, i):
    if _reporting(i):
        _report(connection)
    else:
        _base.old_app(connection, i)


def new_app(connection, i):
    if _reporting(i):
        _report(connection)
    else:
        _base.new_app(connection, i)


def naive_new_app(connection, i):
    _base.naive_new_app(connection, i)
