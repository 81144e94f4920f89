"""The contract of a replaced column: rename-column, and change-type with or without a new name.

O reads and writes A (the old column); N reads and writes B (the new one), or A
itself until contract when the change keeps the name (``in_place``). ``f`` converts
A to B, ``g`` B to A; both are PostgreSQL's, through the :class:`~.model.Oracle`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from expandcontract.checker.model import (
    DEFAULT,
    NULL,
    OMIT,
    UNFILLED,
    Model,
    Oracle,
    Refused,
    Write,
)
from expandcontract.schema.names import quote

REPLACE_PHASES = ("expand", "migrate", "switch", "contract")


@dataclass
class ReplaceColumn(Model):
    oracle: Oracle | None = None
    table: str = ""  # as the kinds take it (schema.name)
    old: str = ""
    new: str = ""
    old_type: str = ""
    new_type: str = ""
    forward: str | None = None  # naming ``old``; None: a cast
    backward: str | None = None  # naming ``new``; None: a cast
    in_place: bool = False  # N uses A's name (change-type without --new-name)
    default: str | None = None  # A's default, a constant's SQL
    lossy: bool = False
    phases: tuple[str, ...] = field(default=REPLACE_PHASES)
    key: str = "id"  # the table's key column
    # a user's table: the other columns an insert copies from an existing row (None: the
    # key and the column are enough, as on the checker's own tables)
    copied: tuple[str, ...] | None = None

    # --- the rows there before the change ------------------------------------------------

    def seed_sql(self) -> str:
        return f"SELECT {quote(self.key)}, {quote(self.old)}::text FROM {quote(self.table)}"

    def seed(self, row: int, value) -> None:
        self.rows[row] = {"a": value, "b": None}

    # --- the columns ---------------------------------------------------------------------

    def _a_exists(self) -> bool:
        return self.state != "contract"

    def _b_exists(self) -> bool:
        return self.state != "base"

    def _f(self, value):
        return self.oracle.convert(
            self.forward or quote(self.old), self.old, self.old_type, value, self.new_type
        )

    def _g(self, value):
        return self.oracle.convert(
            self.backward or quote(self.new), self.new, self.new_type, value, self.old_type
        )

    def _default_a(self):
        if self.default is None:
            return None
        return self.oracle.value(f"CAST(({self.default}) AS {self.old_type})")

    def column_of(self, version: str) -> tuple[str, str]:
        """(column, type) the version writes and reads now."""
        if version == "old" or (self.in_place and self._a_exists()):
            return self.old, self.old_type
        if self.in_place:  # after contract the new column has A's name
            return self.old, self.new_type
        return self.new, self.new_type

    # --- writes --------------------------------------------------------------------------

    def write(self, version: str, action: str, row: int, value) -> Write:
        column, type_ = self.column_of(version)
        t, c, k = quote(self.table), quote(column), quote(self.key)
        writes_a = version == "old" or (self.in_place and self._a_exists())
        if action == "delete":
            return Write(f"DELETE FROM {t} WHERE {k} = %s", (row,), False, lambda: self._gone(row))
        if action == "touch":  # an update of the row that changes neither column
            return Write(f"UPDATE {t} SET {k} = {k} WHERE {k} = %s", (row,), False)
        literal, params = _value_sql(value, type_)
        if action == "insert":
            sql, args = self._insert_sql(c, literal, value == OMIT), (row, *params)
            if value == OMIT:
                args = (row,)
        else:
            sql = f"UPDATE {t} SET {c} = {literal} WHERE {k} = %s"
            args = (*params, row)
        try:
            apply = (
                self._write_a(action, row, value) if writes_a else self._write_b(action, row, value)
            )
        except Refused:
            return Write(sql, args, True)
        return Write(sql, args, False, apply)

    def _insert_sql(self, column: str, literal: str, omitted: bool) -> str:
        t, k = quote(self.table), quote(self.key)
        names, values = [k], ["%s"]
        if not omitted:
            names.append(column)
            values.append(literal)
        if self.copied is None:
            return f"INSERT INTO {t} ({', '.join(names)}) VALUES ({', '.join(values)})"
        others = [quote(c) for c in self.copied]
        return (
            f"INSERT INTO {t} ({', '.join(names + others)}) SELECT {', '.join(values + others)} "
            f"FROM {t} WHERE {k} = (SELECT min({k}) FROM {t})"
        )

    def _write_a(self, action: str, row: int, value):
        if value in (OMIT, DEFAULT):
            a = self._default_a()
        elif value is None or value == NULL:
            a = None
        else:
            a = self.oracle.canon(value, self.old_type)
        current = self.rows.get(row) if action == "update" else None
        if current is not None and current["a"] == a:
            return lambda: None  # nothing changed: neither column is recomputed
        b = self._f(a) if self._b_exists() else None

        def apply():
            state = self.rows.setdefault(row, {"a": None, "b": None})
            state["a"] = a
            if self._b_exists():
                state["b"] = b

        return apply

    def _write_b(self, action: str, row: int, value):
        a_exists = self._a_exists()
        if value in (OMIT, DEFAULT):
            if a_exists:  # the marker: B follows A's default
                a = self._default_a()
                b = self._f(a)
            else:  # the contract gave B A's default, cast
                a = None
                b = (
                    None
                    if self.default is None
                    else self.oracle.value(f"CAST(({self.default}) AS {self.new_type})")
                )
        else:
            b = None if value == NULL else self.oracle.canon(value, self.new_type)
            current = self.rows.get(row) if action == "update" else None
            if current is not None and current["b"] == b:
                return lambda: None
            if current is not None and a_exists and b == self._f(current["a"]):
                a = current["a"]  # already what A converts to: A keeps its own value
            else:
                a = self._g(b) if a_exists else None

        def apply():
            state = self.rows.setdefault(row, {"a": None, "b": None})
            state["b"] = b
            if a_exists:
                state["a"] = a

        return apply

    def _gone(self, row: int) -> None:
        self.rows.pop(row, None)

    # --- phases --------------------------------------------------------------------------

    def step(self, phase: str, direction: str) -> bool:
        """Apply the model's side of a phase; False when the phase must fail (then nothing
        changes)."""
        if direction == "up" and phase == "expand":
            if not self._expand_allowed():
                return False
            for state in self.rows.values():
                state["b"] = UNFILLED
        elif direction == "up" and phase == "migrate":
            for state in self.rows.values():
                if state["b"] in (UNFILLED, None):
                    state["b"] = self._f(state["a"])
        elif direction == "down" and phase == "contract":
            try:
                back = {row: self._g(state["b"]) for row, state in self.rows.items()}
            except Refused:
                return False
            for row, value in back.items():
                self.rows[row]["a"] = value
        elif direction == "down" and phase == "expand":
            for state in self.rows.values():
                state["b"] = None
        return True

    def _expand_allowed(self) -> bool:
        """Expand proves the conversion on the rows there (all of ours: fewer than its
        sample): each converts, and survives the way back unless declared lossy."""
        if self.new_type == self.old_type and not self.forward:
            return True
        try:
            for state in self.rows.values():
                if state["a"] is None:
                    continue
                there = self._f(state["a"])
                back = self._g(there) if self.backward and not self.lossy else state["a"]
                if self.oracle.canon(back, self.old_type) != state["a"]:
                    return False
        except Refused:
            return False
        return True

    # --- reads ---------------------------------------------------------------------------

    def read_sql(self, version: str) -> str:
        column, _ = self.column_of(version)
        return f"SELECT {quote(self.key)}, {quote(column)}::text FROM {quote(self.table)}"

    def expected(self, version: str) -> dict[int, object]:
        out = {}
        for row, state in self.rows.items():
            column, _ = self.column_of(version)
            value = state["a"] if column == self.old and self._a_exists() else state["b"]
            out[row] = value
        return out


def _value_sql(value, type_: str) -> tuple[str, tuple]:
    if value == DEFAULT:
        return "DEFAULT", ()
    if value is None or value == NULL:
        return f"CAST(NULL AS {type_})", ()
    return f"CAST(%s AS {type_})", (value,)
