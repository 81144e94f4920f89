"""SQL migration files as a lint source.

Files are replayed in a migration tool's order, folder by folder: each starts from the
schema the earlier files of its folder left (the column types and partitioned tables
its statements may depend on), and leaves its own for the next. A file whose content,
starting schema and settings the cache knows costs a read of its stamp.
"""

from __future__ import annotations

import hashlib
import itertools
import json
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


class _Replay:
    """Where one folder's replay stands: the schema its files have left so far, built only
    when a file must really be linted (``pending``: the changes of the files since, read
    from their cache entries), and the identity of that state, chained from each file's
    change, which keys the next file's entry. A file whose entry is known costs a hash of
    its text and the read of its (small) entry: cost stays linear in files."""

    def __init__(self, start: Schema | None) -> None:
        self.schema = Schema.merged([start] if start else [])
        self.pending: list[dict] = []
        self.id = hashlib.sha256(self.schema.key().encode()).hexdigest()
        self.schema.track()  # linted in place, file after file

    def current(self) -> Schema:
        for delta in self.pending:
            self.schema.apply(delta)
        self.pending.clear()
        return self.schema

    def advance(self, delta: dict) -> None:
        text = json.dumps(delta, sort_keys=True, separators=(",", ":"))
        self.id = hashlib.sha256(f"{self.id}\n{text}".encode()).hexdigest()


class _Pack:
    """One folder's file entries, read and written as one cache entry: a file costs no
    file of its own (creating thousands of small files was most of a cold run), and the
    pack written back is bounded: this run's entries, and older ones only up to twice as
    many (or 10,000), so edited files' old entries are evicted."""

    def __init__(self, cache: Cache, key: str | None) -> None:
        self.cache, self.key = cache, key
        stored = cache.get(key, {"entries": dict})
        self.stored: dict = stored["entries"] if stored else {}
        self.used: dict = {}

    def get(self, key: str | None) -> dict | None:
        entry = self.stored.get(key) if key else None
        if not isinstance(entry, dict):
            return None
        for field, kind in (("findings", list), ("statements", int), ("delta", dict)):
            if not isinstance(entry.get(field), kind):
                return None
        return entry

    def keep(self, key: str | None, entry: dict) -> None:
        if key:
            self.used[key] = entry

    def write(self) -> None:
        # entries this run did not use stay while the pack is at most twice this run's
        # size (a hook lints a few files of a folder, CI all of them: neither evicts the
        # other), the oldest dropped first
        kept = dict(self.used)
        limit = max(2 * len(self.used), KEEP_UNUSED)
        for key, entry in self.stored.items():
            if len(kept) >= limit:
                break
            kept.setdefault(key, entry)
        if kept.keys() != self.stored.keys():
            self.cache.put(self.key, {"entries": kept})


KEEP_UNUSED = 10_000  # entries a folder's pack may keep beyond this run's


class SqlFiles:
    def __init__(self, cache: Cache, rules: Callable[[], RuleSet], start: Schema | None) -> None:
        self.cache = cache
        self.rules = rules  # built on the first file the cache does not know
        self.start = start
        self.replays: dict[Path | None, _Replay] = {}  # folder -> where its replay stands
        self.packs: dict[Path, _Pack] = {}  # folder -> its files' entries

    def read(self, file: Path | None, name: str) -> str:
        """The file's text (``None``: standard input); InputError when it cannot be read."""
        from expandcontract.lint.engine import decode_source, read_source

        if file is None:
            return decode_source(sys.stdin.buffer.read(), name)
        return read_source(file, name)

    def lint(self, file: Path | None, name: str, text: str) -> tuple[list[Finding], int]:
        """The findings of one file, and how many statements it has."""
        folder = file.resolve().parent if file is not None else None
        replay = self.replays.get(folder)
        if replay is None:
            replay = self.replays[folder] = _Replay(self.start)
        key = pack = None
        if folder is not None and self.cache.enabled:
            pack = self.packs.get(folder)
            if pack is None:
                where = self.cache.file_key("sql-folder", str(folder), replay.id, b"")
                pack = self.packs[folder] = _Pack(self.cache, where)
            key = self.cache.file_key("sql", name, replay.id, text.encode())
        entry = pack.get(key) if pack else None
        if entry is not None:
            try:
                found = [Finding(**f) for f in entry["findings"]]
            except (KeyError, TypeError, ValueError):
                found = None  # a malformed entry: a miss
            if found is not None and Schema.valid_delta(entry["delta"]):
                pack.keep(key, entry)
                replay.pending.append(entry["delta"])
                replay.advance(entry["delta"])
                return found, entry["statements"]
        schema = replay.current()
        mark = schema.mark()
        try:
            findings, count = lint_alembic_sql(text, name, self.rules(), schema)
        except BaseException:
            schema.roll_back(mark)  # the run goes on from the schema before this file
            raise
        delta = schema.delta_since(mark)
        replay.advance(delta)
        if pack is not None:
            entry = {"findings": [f.as_dict() for f in findings], "statements": count}
            pack.keep(key, {**entry, "delta": delta})
        return findings, count

    def finish(self) -> None:
        """Write back each folder's entries."""
        for pack in self.packs.values():
            pack.write()


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
