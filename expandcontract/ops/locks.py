"""One global order for the locks a step takes on several tables: deadlocks never, and
nothing held while waiting beyond one lock_timeout.

A step that changes a column joined to other tables by foreign keys locks them all
first, in one order: the tables its keys reference (parents), then the table, then
the tables whose keys reference it (children), each group by name. Applications
write parent then child (a customer, then their order): taking the parent first
follows their order, so PostgreSQL never has to break a deadlock by cancelling one
of their queries. Every lock waits at most ``lock_timeout``; under ``expandcontract
upgrade`` a timeout rolls the whole revision back and runs it again from its start
(``ops.execution.RestartRevision``), so nothing stays locked while it waits.
"""

from __future__ import annotations

from expandcontract.catalog import probes
from expandcontract.ops.registry import online, operation
from expandcontract.schema.names import quote

MODES = (
    "ACCESS SHARE",
    "ROW SHARE",
    "ROW EXCLUSIVE",
    "SHARE UPDATE EXCLUSIVE",
    "SHARE",
    "SHARE ROW EXCLUSIVE",
    "EXCLUSIVE",
    "ACCESS EXCLUSIVE",
)


@operation
def lock_related(
    operations, table_name, columns, parents=None, children=None, mode="ACCESS EXCLUSIVE"
) -> None:
    """Lock ``table_name`` (in ``mode``) and the tables joined to it by foreign keys on
    ``columns``: first its parents (in mode ``parents``; None: not locked), then it, then
    its children (in mode ``children``), each group by name."""
    for given in (parents, children, mode):
        if given is not None and given not in MODES:
            raise ValueError(f"lock_related: {given!r} is not a lock mode ({', '.join(MODES)})")
    if not online(operations):
        # the same locks the revision's statements take, only earlier and in order: a
        # preview need not show them (the tables joined by keys are known only online)
        operations.execute(f"-- lock_related: {table_name} and its foreign keys' tables")
        return
    bind = operations.get_bind()
    if not probes.relation_exists(bind, table_name):
        return  # an earlier step has renamed or dropped it: that step locked what it needed
    above, below = probes.related_by_keys(bind, table_name, tuple(columns))
    for group, group_mode in ((above, parents), ([quote(table_name)], mode), (below, children)):
        if group and group_mode:
            operations.execute(f"LOCK TABLE {', '.join(group)} IN {group_mode} MODE")
