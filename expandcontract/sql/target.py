"""The database a migration runs on: its SQL dialect and major version.

Whatever reads SQL or knows how a server behaves is reached through the target's
dialect (:attr:`Target.sql`), so that a second dialect is a folder beside
``sql/postgres/`` and an entry in :data:`DIALECTS`, not ``if dialect ==`` spread
through the code. The rules read the version (``ctx.pg_version``).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

# dialect -> the package that reads its SQL: ``split_script(text)`` and ``analyze(stmt)``
DIALECTS = {"postgresql": "expandcontract.sql.postgres"}

# the PostgreSQL major version assumed when neither config nor flag names one: the oldest
# still supported upstream, so a verdict holds on every newer server too
DEFAULT_VERSION = 14


@dataclass(frozen=True)
class Target:
    dialect: str = "postgresql"
    version: int = DEFAULT_VERSION

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            known = ", ".join(sorted(DIALECTS))
            raise ValueError(f"unknown SQL dialect {self.dialect!r} (known: {known})")

    @property
    def sql(self) -> ModuleType:
        """The dialect's front end."""
        return import_module(DIALECTS[self.dialect])
