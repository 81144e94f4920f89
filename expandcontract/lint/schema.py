"""The schema a migration starts from: light, so that a cached lint run need not load
the SQL front end to know it."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice


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

    def copy(self) -> Schema:
        return Schema(
            dict(self.column_types),
            set(self.partitioned),
            dict(self.indexes),
            set(self.types),
            dict(self.facts),
        )

    def delta_to(self, after: Schema) -> dict:
        """What turns this schema into ``after``, as JSON: only what changed, so that a
        cache entry holds what its migration did, not the whole schema so far (which made
        lint time and cache size grow with the square of the number of files). Sorted: the
        same change is the same text."""
        delta: dict = {}

        def mapping(name: str, old: dict, new: dict, encode) -> None:
            size = len(old)
            if (
                len(new) >= size
                and list(islice(new, size)) == list(old)
                and list(islice(new.values(), size)) == list(old.values())
            ):  # the common case, compared at C speed: entries only added, at the end
                changed, gone = list(islice(new.items(), size, None)), set()
            else:
                changed, gone = new.items() - old.items(), old.keys() - new.keys()
            if changed:
                delta[name] = sorted(encode(k, v) for k, v in changed)
            if gone:
                delta[name + "-"] = sorted(list(k) if isinstance(k, tuple) else k for k in gone)

        def members(name: str, old: set, new: set) -> None:
            if new - old:
                delta[name] = sorted(new - old)
            if old - new:
                delta[name + "-"] = sorted(old - new)

        mapping("columns", self.column_types, after.column_types, lambda k, v: [*k, v])
        members("partitioned", self.partitioned, after.partitioned)
        mapping("indexes", self.indexes, after.indexes, lambda k, v: [k, v[0], list(v[1])])
        members("types", self.types, after.types)
        mapping("facts", self.facts, after.facts, lambda k, v: [k, v])
        return delta

    @staticmethod
    def valid_delta(delta: object) -> bool:
        """Whether ``delta`` has the shape :meth:`delta_to` gives (a cache entry may not)."""
        arity = {"columns": 3, "columns-": 2, "indexes": 3, "facts": 2}
        if not isinstance(delta, dict):
            return False
        for name, items in delta.items():
            if name.rstrip("-") not in ("columns", "partitioned", "indexes", "types", "facts"):
                return False
            if not isinstance(items, list):
                return False
            size = arity.get(name)
            for item in items:
                if size is None:
                    if not isinstance(item, str):
                        return False
                elif not (isinstance(item, list) and len(item) == size) or (
                    name == "indexes" and not isinstance(item[2], list)
                ):
                    return False
        return True

    def apply(self, delta: dict) -> None:
        """Make the change :meth:`delta_to` describes, in place."""
        for table, column in delta.get("columns-", ()):
            self.column_types.pop((table, column), None)
        for table, column, type_sql in delta.get("columns", ()):
            self.column_types[(table, column)] = type_sql
        self.partitioned -= set(delta.get("partitioned-", ()))
        self.partitioned |= set(delta.get("partitioned", ()))
        for name in delta.get("indexes-", ()):
            self.indexes.pop(name, None)
        for name, table, columns in delta.get("indexes", ()):
            self.indexes[name] = (table, tuple(columns))
        self.types -= set(delta.get("types-", ()))
        self.types |= set(delta.get("types", ()))
        for name in delta.get("facts-", ()):
            self.facts.pop(name, None)
        for name, value in delta.get("facts", ()):
            self.facts[name] = value

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
