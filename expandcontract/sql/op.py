"""One thing a statement does to the database (:class:`Op`): what every reader of SQL
produces and every rule judges. Kept free of sqlglot so that a lint whose statements are
all settled without a parse never imports it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Op:
    """One thing a statement does to the database."""

    kind: str
    table: str | None = None
    lock: str | None = None
    column: str | None = None
    name: str | None = None
    new_name: str | None = None
    concurrently: bool = False
    not_valid: bool = False
    constraint: str | None = None
    ref_table: str | None = None
    default: str | None = None
    default_sql: str | None = None
    type_sql: str | None = None
    flags: frozenset[str] = field(default_factory=frozenset)
    value: str | None = None
    offset: int | None = None
    # functions a default calls that PostgreSQL's catalog would judge (user-defined ones)
    calls: tuple[str, ...] = ()
    # CREATE TABLE: (column, type) of each column it defines
    columns: tuple[tuple[str, str], ...] = ()
    # CREATE FUNCTION / PROCEDURE: (language, body), run where it is called
    body: tuple[str, str] | None = None

    def has(self, flag: str) -> bool:
        return flag in self.flags


class StatementError(Exception):
    """A statement that cannot be understood; reported as a parse-error finding."""
