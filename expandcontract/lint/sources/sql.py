"""SQL migration files as a lint source.

Files are replayed in a migration tool's order, folder by folder: each starts from the
schema the earlier files of its folder left (the column types and partitioned tables
its statements may depend on), and leaves its own for the next. A file whose content,
starting schema and settings the cache knows costs a read of its stamp.
"""

from __future__ import annotations

import itertools
import re
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
        return read_source(file, name)

    def lint(self, file: Path | None, name: str, text: str) -> tuple[list[Finding], int]:
        """The findings of one file, and how many statements it has."""
        folder = file.resolve().parent if file is not None else None
        schema = self.schemas.setdefault(folder, Schema.merged([self.start] if self.start else []))
        key = None
        if file is not None:
            key = self.cache.file_key("sql", name, schema.key(), text.encode())
        entry = self.cache.get(key, {"findings": list, "statements": int, "schema": dict})
        if entry is not None:
            try:
                left = Schema.from_json(entry["schema"])  # what the file left, for the next
                found = [Finding(**f) for f in entry["findings"]]
            except (KeyError, TypeError, ValueError):
                pass  # a malformed entry: a miss
            else:
                schema.replace(left)
                return found, entry["statements"]
        findings, count = lint_alembic_sql(text, name, self.rules(), schema)
        entry = {
            "findings": [f.as_dict() for f in findings],
            "statements": count,
            "schema": schema.as_json(),
        }
        self.cache.put(key, entry)
        return findings, count


# what `alembic upgrade --sql` writes before each revision's statements
_RUNNING = re.compile(r"^-- Running (?:upgrade|downgrade) \S* -> \S+\s*$", re.MULTILINE)
_TRANSACTION = re.compile(r"^(BEGIN|COMMIT);\s*$", re.MULTILINE)


def lint_alembic_sql(
    text: str, name: str, ruleset: RuleSet, schema: Schema
) -> tuple[list[Finding], int]:
    """Lint a SQL file; the output of ``alembic upgrade --sql`` (its ``-- Running upgrade
    a -> b`` lines) revision by revision, as its revisions are linted natively: a table
    an earlier revision created is not new to a later one, and each starts inside or
    outside the transaction the one before left. Findings are at the file's lines."""
    from expandcontract.lint.engine import lint_sql

    starts = [m.start() for m in _RUNNING.finditer(text)]
    if not starts:
        return lint_sql(text, name, ruleset, schema)
    findings: list[Finding] = []
    statements = 0
    bounds = [0, *starts, len(text)]
    for begin, end in itertools.pairwise(bounds):
        # blank lines in front keep the file's line numbers
        segment = "\n" * text.count("\n", 0, begin) + text[begin:end]
        marks = _TRANSACTION.findall(text, 0, begin)
        inside = bool(marks) and marks[-1] == "BEGIN"
        found, count = lint_sql(segment, name, ruleset, schema, in_transaction=inside)
        findings += [f for f in found if f.code != "EC003"]  # a revision with no statement
        statements += count
    return findings, statements
