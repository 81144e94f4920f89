"""SQL migration files as a lint source.

Files are replayed in a migration tool's order, folder by folder: each starts from the
schema the earlier files of its folder left (the column types and partitioned tables
its statements may depend on), and leaves its own for the next. A file whose content,
starting schema and settings the cache knows costs a read of its stamp.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.lint.cache import Cache
from expandcontract.lint.finding import Finding
from expandcontract.lint.schema import Schema

if TYPE_CHECKING:
    from expandcontract.lint.engine import RuleSet


class SqlFiles:
    def __init__(self, cache: Cache, rules: Callable[[], RuleSet], start: Schema | None) -> None:
        self.cache = cache
        self.rules = rules  # built on the first file the cache does not know
        self.start = start
        self.schemas: dict[Path | None, Schema] = {}  # folder -> what its files left so far

    def read(self, file: Path | None, name: str) -> str:
        """The file's text (``None``: standard input); InputError when it cannot be read."""
        from expandcontract.lint.engine import decode_source, read_source

        if file is None:
            return decode_source(sys.stdin.buffer.read(), name)
        return read_source(file)

    def lint(self, file: Path | None, name: str, text: str) -> tuple[list[Finding], int]:
        """The findings of one file, and how many statements it has."""
        folder = file.resolve().parent if file is not None else None
        schema = self.schemas.setdefault(folder, Schema.merged([self.start] if self.start else []))
        key = None
        if file is not None:
            key = self.cache.file_key("sql", name, schema.key(), text.encode())
        entry = self.cache.get(key)
        if entry is None:
            from expandcontract.lint.engine import lint_sql

            findings, count = lint_sql(text, name, self.rules(), schema)
            entry = {
                "findings": [f.as_dict() for f in findings],
                "statements": count,
                "schema": schema.as_json(),
            }
            self.cache.put(key, entry)
        else:  # what the file left, for the files after it
            left = Schema.from_json(entry["schema"])
            schema.column_types, schema.partitioned = left.column_types, left.partitioned
            schema.facts = left.facts
        return [Finding(**f) for f in entry["findings"]], entry["statements"]
