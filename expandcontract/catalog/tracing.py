"""What verify's trace reads while a statement runs: the locks it holds, the relfilenodes
and scans of what it holds (a rewrite or a scan takes a lock first), the locks of a
backend running outside a transaction, and the tables a write may reach (by name, their
triggers, the foreign keys cascading from them)."""

from __future__ import annotations

# this backend: pid, {oid: relfilenode}, [[oid, mode]], {oid: scans} in one round trip
STATE = """
WITH held AS (
    SELECT relation, mode FROM pg_locks WHERE pid = pg_backend_pid()
    AND locktype = 'relation' AND granted AND relation >= 16384
), seen AS (
    SELECT relation FROM held UNION SELECT unnest(%(also)s::oid[])
)
SELECT pg_backend_pid(),
       (SELECT coalesce(json_object_agg(c.oid::int, c.relfilenode::int), '{}')
        FROM pg_class c WHERE c.oid IN (SELECT relation FROM seen)),
       (SELECT coalesce(json_agg(json_build_array(relation::int, mode)), '[]')
        FROM held),
       (SELECT coalesce(json_object_agg(relation, pg_stat_get_xact_numscans(relation)), '{}')
        FROM seen)
"""

# another backend (by pid, or by application_name when not empty): its relation locks
LOCKS_OF_OTHER = (
    "SELECT l.relation::int, l.mode FROM pg_locks l WHERE l.locktype = "
    "'relation' AND l.granted AND l.relation = ANY(%s) AND (l.pid = %s OR "
    "l.pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = %s "
    "AND %s <> ''))"
)

LOCKS_HELD = (
    "SELECT DISTINCT relation::int, mode FROM pg_locks WHERE pid = pg_backend_pid() "
    "AND locktype = 'relation' AND granted AND relation >= 16384"
)

RESOLVE = "SELECT DISTINCT to_regclass(n)::oid::int FROM unnest(%s::text[]) n"

HAS_TRIGGERS = "SELECT 1 FROM pg_trigger WHERE tgrelid = ANY(%s) AND NOT tgisinternal LIMIT 1"

CASCADING_FROM = (
    "SELECT DISTINCT conrelid::int FROM pg_constraint WHERE contype = 'f' "
    "AND confrelid = ANY(%s) AND (confdeltype IN ('c', 'n', 'd') "
    "OR confupdtype IN ('c', 'n', 'd'))"
)
