"""The contract of the kinds that replace no column: what each version reads back.

Every model here works on a table ``(id, note, <column>)`` and writes the column the
way its kind's contract names (the README's "two-version contract"): a value, NULL,
left out, or DEFAULT. Values are PostgreSQL's text for them (the :class:`~.model.Oracle`).
"""

from __future__ import annotations

from dataclasses import dataclass

from expandcontract.checker.model import DEFAULT, NULL, OMIT, UNFILLED, Model, Oracle, Write
from expandcontract.schema.names import quote


def _literal(value, type_: str) -> tuple[str, tuple]:
    if value == DEFAULT:
        return "DEFAULT", ()
    if value is None or value == NULL:
        return f"CAST(NULL AS {type_})", ()
    return f"CAST(%s AS {type_})", (value,)


@dataclass
class OneColumn(Model):
    """Both versions write and read one column of one table; the kind's own rules are the
    hooks ``_stored`` (what a written value becomes, or None to refuse it) and ``step``."""

    oracle: Oracle | None = None
    table: str = ""
    column: str = ""
    type_: str = "text"
    default: str | None = None  # the column's default, SQL
    phases: tuple[str, ...] = ()

    def seed_sql(self) -> str:
        return f"SELECT id, {quote(self.column)}::text FROM {quote(self.table)}"

    def seed(self, row: int, value) -> None:
        self.rows[row] = {"v": value}

    def table_of(self, version: str) -> str:
        return self.table

    def writes_column(self, version: str) -> bool:
        return True

    def reads_column(self, version: str) -> bool:
        return True

    def _value(self, value):
        if value in (OMIT, DEFAULT):
            return None if self.default is None else self.oracle.value(self.default)
        if value is None or value == NULL:
            return None
        return self.oracle.canon(value, self.type_)

    def _stored(self, version: str, row: int, value) -> tuple[bool, object]:
        """(accepted, what the column holds afterwards)."""
        return True, value

    def write(self, version: str, action: str, row: int, value) -> Write:
        t, c = quote(self.table_of(version)), quote(self.column)
        if action == "delete":
            return Write(
                f"DELETE FROM {t} WHERE id = %s", (row,), False, lambda: self.rows.pop(row, None)
            )
        if action == "touch":
            return Write(f"UPDATE {t} SET note = note || '.' WHERE id = %s", (row,), False)
        if not self.writes_column(version):
            value = OMIT if action == "insert" else None
            if action == "update":
                return Write(f"UPDATE {t} SET note = note || '!' WHERE id = %s", (row,), False)
        literal, params = _literal(value, self.type_)
        if action == "insert" and value == OMIT:
            sql, args = f"INSERT INTO {t} (id, note) VALUES (%s, 'n')", (row,)
        elif action == "insert":
            sql, args = (
                f"INSERT INTO {t} (id, note, {c}) VALUES (%s, 'n', {literal})",
                (row, *params),
            )
        else:
            sql, args = f"UPDATE {t} SET {c} = {literal} WHERE id = %s", (*params, row)
        accepted, stored = self._stored(version, row, self._value(value))
        if not accepted:
            return Write(sql, args, True)
        return Write(sql, args, False, lambda: self.rows.__setitem__(row, {"v": stored}))

    def step(self, phase: str, direction: str) -> bool:
        return True

    def read_sql(self, version: str) -> str:
        column = quote(self.column) if self.reads_column(version) else "NULL"
        return f"SELECT id, {column}::text FROM {quote(self.table_of(version))} ORDER BY id"

    def expected(self, version: str) -> dict[int, object]:
        if not self.reads_column(version):
            return {row: None for row in self.rows}
        return {row: state["v"] for row, state in self.rows.items()}


@dataclass
class AddIndex(OneColumn):
    """add-index: values are untouched in every phase."""

    phases: tuple[str, ...] = ("expand",)


@dataclass
class AddUnique(OneColumn):
    """add-unique: from expand on, a duplicate fails for both versions; expand (its build)
    fails while duplicates are there."""

    phases: tuple[str, ...] = ("expand", "switch")

    def _duplicate(self, row: int, value) -> bool:
        return value is not None and any(
            other != row and state["v"] == value for other, state in self.rows.items()
        )

    def _stored(self, version: str, row: int, value) -> tuple[bool, object]:
        return not (self.applied and self._duplicate(row, value)), value

    def step(self, phase: str, direction: str) -> bool:
        if phase == "expand" and direction == "up":
            values = [s["v"] for s in self.rows.values() if s["v"] is not None]
            return len(values) == len(set(values))
        return True


@dataclass
class AddForeignKey(OneColumn):
    """add-foreign-key: from expand on, a value no parent row has fails; switch validates
    the rows written before, and fails while one points nowhere."""

    parents: frozenset = frozenset({"1", "2", "3"})
    phases: tuple[str, ...] = ("expand", "switch")

    def _stored(self, version: str, row: int, value) -> tuple[bool, object]:
        return not (self.applied and value is not None and value not in self.parents), value

    def step(self, phase: str, direction: str) -> bool:
        if phase == "switch" and direction == "up":
            return all(s["v"] is None or s["v"] in self.parents for s in self.rows.values())
        return True


@dataclass
class SetNotNull(OneColumn):
    """set-not-null --backfill FILL: from expand to contract any NULL written becomes FILL;
    migrate fills the NULLs there; after contract a NULL fails."""

    fill: str = "'fill'"
    phases: tuple[str, ...] = ("expand", "migrate", "switch", "contract")

    def _stored(self, version: str, row: int, value) -> tuple[bool, object]:
        if value is not None:
            return True, value
        if self.state == "contract":
            return False, None
        if self.applied:
            return True, self.oracle.value(self.fill)
        return True, None

    def step(self, phase: str, direction: str) -> bool:
        if phase == "migrate" and direction == "up":
            for state in self.rows.values():
                if state["v"] is None:
                    state["v"] = self.oracle.value(self.fill)
        return True


@dataclass
class DropColumn(OneColumn):
    """drop-column: the old version reads and writes it until contract; the new one never
    names it (its inserts get the default); undoing the contract brings it back holding
    its default (a constant) on every row."""

    phases: tuple[str, ...] = ("contract",)

    def writes_column(self, version: str) -> bool:
        return version == "old"

    def reads_column(self, version: str) -> bool:
        return version == "old" and self.state != "contract"

    def step(self, phase: str, direction: str) -> bool:
        if direction == "down":
            restored = None if self.default is None else self.oracle.value(self.default)
            for state in self.rows.values():
                state["v"] = restored
        return True


@dataclass
class RenameTable(OneColumn):
    """rename-table OLD NEW: the old version uses OLD, the new one NEW (a view of OLD until
    contract); both see the same rows."""

    new_table: str = ""
    phases: tuple[str, ...] = ("expand", "contract")

    def table_of(self, version: str) -> str:
        if version == "new" or self.state == "contract":
            return self.new_table
        return self.table


@dataclass
class DropTable(OneColumn):
    """drop-table: only the old version uses the table; undoing the contract brings it
    back with every row."""

    phases: tuple[str, ...] = ("contract",)

    def writes_column(self, version: str) -> bool:
        return version == "old"

    def reads_column(self, version: str) -> bool:
        return version == "old"

    def running(self) -> set[str]:
        return {"old"} if self.state != "contract" else set()


@dataclass
class AddColumn(OneColumn):
    """add-column C --backfill EXPR: the old version writes ``note`` only; the new one
    writes C too. From expand to contract a row that leaves C out gets it computed from
    the row, and an update that leaves a computed C as it was recomputes it; a value the
    new version names, NULL included, stays (until migrate, which fills every NULL: it
    cannot tell a NULL written from a row nobody wrote). After contract an omitted C is
    NULL."""

    expression: str = ""  # SQL over the row's columns (of ``note``)
    phases: tuple[str, ...] = ("expand", "migrate", "contract")

    def seed_sql(self) -> str:
        return f"SELECT id, note FROM {quote(self.table)}"

    def seed(self, row: int, value) -> None:
        self.rows[row] = {"note": value, "v": UNFILLED}

    def _computed(self, note) -> str | None:
        return self.oracle.convert(self.expression, "note", "text", note, self.type_)

    def write(self, version: str, action: str, row: int, value) -> Write:
        t, c = quote(self.table), quote(self.column)
        trigger = self.applied and self.state != "contract"
        if action == "delete":
            return Write(
                f"DELETE FROM {t} WHERE id = %s", (row,), False, lambda: self.rows.pop(row, None)
            )
        if version == "old" or action == "touch":  # the old version writes note only
            note = f"n{row}." if action == "insert" else None

            def apply(note=note):
                state = self.rows.setdefault(row, {"note": note, "v": None})
                old_note = state["note"]
                state["note"] = note if note is not None else f"{old_note}."
                if not self.applied:
                    state["v"] = UNFILLED
                elif action == "insert":
                    state["v"] = self._computed(state["note"]) if trigger else None
                elif trigger and state["v"] == self._computed(old_note):
                    state["v"] = self._computed(state["note"])

            if action == "insert":
                return Write(
                    f"INSERT INTO {t} (id, note) VALUES (%s, %s)", (row, note), False, apply
                )
            return Write(f"UPDATE {t} SET note = note || '.' WHERE id = %s", (row,), False, apply)
        literal, params = _literal(value, self.type_)
        stored = self._value(value) if value not in (OMIT, DEFAULT) else None

        def apply_new():
            state = self.rows.setdefault(row, {"note": f"n{row}", "v": None})
            if action == "insert":
                state["note"] = f"n{row}"
            if value in (OMIT, DEFAULT):
                state["v"] = self._computed(state["note"]) if trigger else None
            else:
                state["v"] = stored

        if action == "insert" and value == OMIT:
            sql, args = f"INSERT INTO {t} (id, note) VALUES (%s, %s)", (row, f"n{row}")
        elif action == "insert":
            sql = f"INSERT INTO {t} (id, note, {c}) VALUES (%s, %s, {literal})"
            args = (row, f"n{row}", *params)
        else:
            sql, args = f"UPDATE {t} SET {c} = {literal} WHERE id = %s", (*params, row)
        return Write(sql, args, False, apply_new)

    def step(self, phase: str, direction: str) -> bool:
        if phase == "expand":
            for state in self.rows.values():
                state["v"] = None if direction == "up" else UNFILLED
        if phase == "migrate" and direction == "up":
            for state in self.rows.values():
                if state["v"] is None:
                    state["v"] = self._computed(state["note"])
        return True

    def read_sql(self, version: str) -> str:
        column = quote(self.column) if version == "new" else "NULL"
        return f"SELECT id, {column}::text FROM {quote(self.table)} ORDER BY id"

    def expected(self, version: str) -> dict[int, object]:
        if version == "old":
            return {row: None for row in self.rows}
        return {row: s["v"] for row, s in self.rows.items()}
