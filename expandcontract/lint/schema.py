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
    # other facts the migrations so far established, "<what>:<object>" -> value: a default
    # partition of a table, a NOT NULL column added with a default, a unique constraint,
    # a function's signature, a nondeterministic collation (Context.facts)
    facts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def merged(cls, schemas: list[Schema]) -> Schema:
        """What several migrations left together (a merge point); a copy of one."""
        merged = cls()
        for schema in schemas:
            merged.column_types.update(schema.column_types)
            merged.partitioned |= schema.partitioned
            merged.facts.update(schema.facts)
        return merged

    def as_json(self) -> dict:
        return {
            "columns": [[list(k), v] for k, v in self.column_types.items()],
            "partitioned": sorted(self.partitioned),
            "facts": self.facts,
        }

    @classmethod
    def from_json(cls, data: dict) -> Schema:
        return cls(
            {tuple(k): v for k, v in data["columns"]},
            set(data["partitioned"]),
            dict(data.get("facts", {})),
        )

    def key(self) -> str:
        """A stable text of it, for the lint cache."""
        return repr(
            (
                sorted(self.column_types.items()),
                sorted(self.partitioned),
                sorted(self.facts.items()),
            )
        )
