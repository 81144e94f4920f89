"""Every use of Alembic's private API, in one place: what Alembic has no public hook for.

Each function names the private attribute it reaches, and
``tests/test_alembic_internals.py`` checks every one of them against the installed
Alembic (shape and behaviour, not just presence), so an Alembic release that moves
one fails that test by name instead of breaking a command in a user's deploy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

# the Alembic versions this adapter was checked against (pyproject: alembic>=1.20)
CHECKED = ("1.20",)


def statement_executor(impl) -> Callable:
    """The function every statement of a migration goes through (``impl._exec``)."""
    return impl._exec


def wrap_statement_executor(impl, wrapper: Callable[[Callable], Callable]) -> None:
    """Route every statement through ``wrapper(original)``: lock_timeout and its
    retries, verify's trace. Alembic offers no event for its own ``op.*`` statements."""
    impl._exec = wrapper(impl._exec)


def upgrade_steps(script, destination: str, heads) -> list:
    """The upgrade steps from ``heads`` to ``destination``, as ``alembic upgrade``
    computes them (``ScriptDirectory._upgrade_revs``)."""
    return script._upgrade_revs(destination, heads)


def batch_recreates(impl) -> bool:
    """Whether a ``batch_alter_table`` block copies the table (``_should_recreate``)."""
    return impl._should_recreate()


def version_locations(script) -> list[str]:
    """Every version folder of a script directory, ``version_locations`` resolved
    (``ScriptDirectory._version_locations``)."""
    return list(script._version_locations)


@contextlib.contextmanager
def module_proxies(operations, environment, target) -> Iterator[None]:
    """``alembic.op`` and ``alembic.context`` answer for ``operations`` and
    ``environment`` while the block runs, and every ``op.*`` call goes to ``target``
    (the linter's tolerant stand-in): ``_install_proxy``, ``_remove_proxy`` and the
    module namespaces in ``Operations._setups``."""
    from alembic.operations import Operations

    _, modules = Operations._setups[Operations]
    operations._install_proxy()
    environment._install_proxy()
    for namespace, _ in modules:
        namespace["_proxy"] = target
    try:
        yield
    finally:
        operations._remove_proxy()
        environment._remove_proxy()
