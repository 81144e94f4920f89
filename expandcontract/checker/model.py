"""The two-version contract as code: what each version should read back, row by row.

A :class:`Model` follows one change through its phases, up and down, and through the
writes of the old version (``"old"``) and the new one (``"new"``). For each write it
says what the SQL is and whether PostgreSQL must accept it; after each step it says
what each version must read for every row. Values are kept as PostgreSQL's own text
for them, and every conversion is computed by PostgreSQL (:class:`Oracle`), so the
model checks where values flow, not how a type converts.

The rules are the README's "two-version contract", one method each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OMIT, NULL, DEFAULT = "<omit>", "<null>", "<default>"
UNFILLED = "<unfilled>"  # written before expand and not yet reached by the backfill


class Refused(Exception):
    """PostgreSQL refuses the conversion of this value."""


class Oracle:
    """PostgreSQL, asked what a value is and what a conversion gives, in a savepoint."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self._cache: dict[tuple, str | None] = {}

    def _ask(self, sql: str, params: tuple) -> str | None:
        key = (sql, params)
        if key not in self._cache:
            try:
                with self.conn.transaction():
                    row = self.conn.execute(sql, params, prepare=False).fetchone()
                self._cache[key] = ("ok", row[0])
            except Exception as err:
                self._cache[key] = ("refused", str(err).splitlines()[0])
        verdict, value = self._cache[key]
        if verdict == "refused":
            raise Refused(value)
        return value

    def value(self, sql: str, *params) -> str | None:
        """The text of a constant expression (``'free'``, ``0``)."""
        return self._ask(f"SELECT CAST(({sql}) AS text)", params)

    def canon(self, value: str | None, type_sql: str) -> str | None:
        """The text PostgreSQL gives for ``value`` stored in a column of ``type_sql``."""
        if value is None:
            return None
        return self._ask(f"SELECT CAST(CAST(%s AS {type_sql}) AS text)", (value,))

    def convert(
        self, expression: str, name: str, source_type: str, value: str | None, target_type: str
    ) -> str | None:
        """``expression`` (naming column ``name``) on ``value``, stored as ``target_type``."""
        from expandcontract.schema.names import quote

        return self._ask(
            f"SELECT CAST(CAST(({expression}) AS {target_type}) AS text) "
            f"FROM (SELECT CAST(%s AS {source_type}) AS {quote(name)}) AS ec_row",
            (value,),
        )


@dataclass
class Write:
    """One write of one version: its SQL, and what the model expects."""

    sql: str
    params: tuple
    fails: bool  # PostgreSQL must refuse it
    apply: object = None  # called when it succeeded: updates the model


@dataclass
class Model:
    """What every change kind's model has: the rows, the phases applied."""

    phases: tuple[str, ...]
    applied: int = 0  # how many of ``phases`` are applied
    rows: dict[int, dict] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.phases[self.applied - 1] if self.applied else "base"

    def running(self) -> set[str]:
        """The versions that may run now (the contract's "who runs when"): the old one
        until contract; the new one once expand is applied (from the start, for a change
        with no expand: it needs nothing new)."""
        found = set()
        if self.state != "contract":
            found.add("old")
        if self.applied or self.phases[0] != "expand":
            found.add("new")
        return found
