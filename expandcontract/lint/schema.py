"""The schema a migration starts from: light, so that a cached lint run need not load
the SQL front end to know it."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice

_MISSING = object()


class Tracked(dict):
    """A dict that remembers, for each key changed since :meth:`mark`, its value before
    (or that it was absent): a replay that lints one file in place learns what the file
    changed in time proportional to the change, not to the whole schema."""

    __slots__ = ("original",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.original: dict = {}

    def mark(self) -> None:
        self.original = {}

    def _note(self, key) -> None:
        if key not in self.original:
            self.original[key] = dict.get(self, key, _MISSING)

    def __setitem__(self, key, value) -> None:
        self._note(key)
        super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        self._note(key)
        super().__delitem__(key)

    def pop(self, key, *default):
        self._note(key)
        return super().pop(key, *default)

    def setdefault(self, key, default=None):
        self._note(key)
        return super().setdefault(key, default)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def popitem(self):
        raise TypeError("popitem on a tracked schema dict")

    def clear(self) -> None:
        for key in list(self):
            self._note(key)
        super().clear()

    def __ior__(self, other):
        self.update(other)
        return self

    def as_before(self) -> dict:
        """What it held at :meth:`mark` (a copy: the rare path)."""
        before = dict(self)
        for key, value in self.original.items():
            if value is _MISSING:
                before.pop(key, None)
            else:
                before[key] = value
        return before

    def changes(self) -> tuple[dict, set]:
        """Since :meth:`mark`: the keys set to a new value, and the keys gone."""
        changed, gone = {}, set()
        for key, value in self.original.items():
            now = dict.get(self, key, _MISSING)
            if now is _MISSING:
                if value is not _MISSING:
                    gone.add(key)
            elif now is not value and now != value:
                changed[key] = now
        return changed, gone


_TRACKED = ("column_types", "indexes", "facts")


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

    # --- linting in place: a replay's schema, changed by one file at a time -------------

    def track(self) -> None:
        """Hold the dicts as :class:`Tracked`: a Context then works on them in place
        (``Context.start_from``) instead of copying the whole schema for every file."""
        for name in _TRACKED:
            value = getattr(self, name)
            if not isinstance(value, Tracked):
                setattr(self, name, Tracked(value))

    @property
    def tracked(self) -> bool:
        return isinstance(self.column_types, Tracked)

    def mark(self) -> tuple:
        """Start recording a file's changes; returns the state to diff or roll back to
        (an untracked schema: a copy of it)."""
        if not self.tracked:
            return ("copy", self.copy())
        for name in _TRACKED:
            getattr(self, name).mark()
        return (
            tuple(getattr(self, name) for name in _TRACKED),
            set(self.partitioned),
            set(self.types),
        )

    def delta_since(self, mark: tuple) -> dict:
        """What changed since :meth:`mark`, as :meth:`delta_to` gives it; in time
        proportional to the change (a dict the linter replaced costs a full comparison,
        and is tracked again)."""
        if mark[0] == "copy":
            return mark[1].delta_to(self)
        dicts, partitioned, types = mark
        before = Schema({}, partitioned, {}, types, {})
        after = Schema({}, self.partitioned, {}, self.types, {})
        replaced = False
        for name, old in zip(_TRACKED, dicts, strict=True):
            new = getattr(self, name)
            if new is old:
                changed, gone = old.changes()
                setattr(
                    before,
                    name,
                    {
                        k: old.original[k]
                        for k in (*changed, *gone)
                        if old.original[k] is not _MISSING
                    },
                )
                setattr(after, name, {**getattr(before, name), **changed})
                for key in gone:
                    getattr(after, name).pop(key, None)
            else:
                setattr(before, name, old.as_before())
                setattr(after, name, new)
                replaced = True
        delta = before.delta_to(after)
        if replaced:
            self.track()
        return delta

    def roll_back(self, mark: tuple) -> None:
        """Undo what a file that failed half-way did (its changes were not recorded)."""
        if mark[0] == "copy":
            self.replace(mark[1])
            return
        dicts, partitioned, types = mark
        for name, old in zip(_TRACKED, dicts, strict=True):
            restored = Tracked(old.as_before())
            setattr(self, name, restored)
        self.partitioned, self.types = partitioned, types

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
