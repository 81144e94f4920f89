"""The schema a migration starts from: light, so that a cached lint run need not load
the SQL front end to know it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Schema:
    """The schema as of a migration, as far as earlier migrations (replayed in order) or
    a real database's catalog (``--schema-from``) say: column types, partitioned tables,
    indexes (name -> table and the columns they are on, where known) and user-defined
    types. Verdicts that hang on what a column is today read it, and so does the
    inspector a linted Alembic revision sees."""

    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    partitioned: set[str] = field(default_factory=set)
    indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    # other facts the migrations so far established, "<what>:<object>" -> value: a default
    # partition of a table, a NOT NULL column added with a default, a unique constraint,
    # a function's signature, a nondeterministic collation (Context.facts)
    facts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def merged(cls, schemas: list[Schema]) -> Schema:
        """What several migrations left together (a merge point); a copy of one."""
        merged = cls()
        for schema in schemas:
            merged.update(schema)
        return merged

    def update(self, other: Schema) -> None:
        self.column_types.update(other.column_types)
        self.partitioned |= other.partitioned
        self.indexes.update(other.indexes)
        self.types |= other.types
        self.facts.update(other.facts)

    def replace(self, other: Schema) -> None:
        """Become ``other`` (what a migration left), in place."""
        self.column_types, self.partitioned = other.column_types, other.partitioned
        self.indexes, self.types = other.indexes, other.types
        self.facts = other.facts

    def tables(self) -> dict[str, dict[str, str]]:
        """table -> {column: type}, in the order the columns became known."""
        found: dict[str, dict[str, str]] = {}
        for (table, column), type_sql in self.column_types.items():
            found.setdefault(table, {})[column] = type_sql
        return found

    def as_json(self) -> dict:
        return {
            "columns": [[list(k), v] for k, v in self.column_types.items()],
            "partitioned": sorted(self.partitioned),
            "indexes": {k: [t, list(c)] for k, (t, c) in self.indexes.items()},
            "types": sorted(self.types),
            "facts": self.facts,
        }

    @classmethod
    def from_json(cls, data: dict) -> Schema:
        return cls(
            {tuple(k): v for k, v in data["columns"]},
            set(data["partitioned"]),
            {k: (t, tuple(c)) for k, (t, c) in data.get("indexes", {}).items()},
            set(data.get("types", ())),
            dict(data.get("facts", {})),
        )

    def key(self) -> str:
        """A stable text of it, for the lint cache."""
        return repr(
            (
                sorted(self.column_types.items()),
                sorted(self.partitioned),
                sorted(self.indexes.items()),
                sorted(self.types),
                sorted(self.facts.items()),
            )
        )
