"""The settings a revision runs under: ``op.set_lock_timeout()``."""

from __future__ import annotations

from expandcontract.ops import execution
from expandcontract.ops.registry import online, operation


@operation
def set_lock_timeout(operations) -> None:
    """Run the rest of the revision under the configured ``lock_timeout``, retrying
    statements that hit it (``expandcontract upgrade`` does this for every revision)."""
    if not online(operations):
        operations.execute(f"SET lock_timeout = '{execution.Settings().lock_timeout}'")
