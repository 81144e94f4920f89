"""The schema a migration starts from: light, so that a cached lint run need not load
the SQL front end to know it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Schema:
    """The schema as of a migration, as far as earlier migrations (replayed in order) or
    a real database's catalog (``--schema-from``) say: column types and partitioned
    tables. Verdicts that hang on what a column is today read it."""

    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    partitioned: set[str] = field(default_factory=set)

    def key(self) -> str:
        """A stable text of it, for the lint cache."""
        return repr((sorted(self.column_types.items()), sorted(self.partitioned)))
