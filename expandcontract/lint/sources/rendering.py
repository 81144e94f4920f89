"""What rendering a revision's function produces: its statements, each at the line of
the revision that emitted it; shared by the offline rendering and ``--execute``."""

from __future__ import annotations

import decimal
import sys
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Chunk:
    sql: str
    line: int
    column: int
    op: str | None = None  # the op.* method that emitted it
    table: str | None = None  # the table that op names


@dataclass
class Rendered:
    chunks: list[Chunk] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    # (table, column) -> the column's type before the revision, from existing_type
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    # index -> the columns it is on, from the op.create_index() calls
    index_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # a downgrade that raises on purpose: what it says
    irreversible: str | None = None
    # the function stopped part way (its own code raised): what follows was not rendered
    aborted: bool = False


class Recorder:
    """Where in the revision file the code that is running now stands."""

    def __init__(self, path: Path) -> None:
        self.filename = str(path)
        self._positions: dict = {}  # code object -> its co_positions(), computed once

    def position(self) -> tuple[int, int]:
        return self.find() or (1, 1)

    def find(self) -> tuple[int, int] | None:
        """The line and column running now in the revision file; None when none of the
        code running now is the revision's."""
        frame = sys._getframe(1)
        while frame is not None:
            code = frame.f_code
            if code.co_filename == self.filename:
                positions = self._positions.get(code)
                if positions is None:
                    positions = self._positions[code] = list(code.co_positions())
                index = frame.f_lasti // 2
                column = 1
                if index < len(positions) and positions[index][2] is not None:
                    column = positions[index][2] + 1
                return frame.f_lineno, column
            frame = frame.f_back
        return None


def literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(literal(v) for v in value) + "]"
    return "'" + str(value).replace("'", "''") + "'"
