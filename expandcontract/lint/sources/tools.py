"""What migration tools do with a SQL file beyond running it: which part is the
migration, and whether it runs in a transaction.

- goose: ``-- +goose Up`` / ``-- +goose Down`` sections (only Up is the migration),
  each file in one transaction unless ``-- +goose NO TRANSACTION``;
- Liquibase formatted SQL (``--liquibase formatted sql``): each ``--changeset`` in a
  transaction of its own unless ``runInTransaction:false``;
- Flyway (``V<version>__<name>.sql``, ``R__<name>.sql``): each file in one transaction,
  unless it holds a statement PostgreSQL refuses in one (Flyway then runs it without);
- sqitch: ``revert/`` and ``verify/`` scripts beside a ``sqitch.plan`` are not the
  migration (a revert is its undo, a verify a query);
- TypeORM and Knex migrations (``.ts`` / ``.js``): the SQL of ``queryRunner.query(...)``
  and ``knex.raw(...)`` in ``up``, each migration in one transaction (both tools'
  default); ``${...}`` in a template literal stands for a name.

:func:`prepare` turns these into what the linter reads: the parts that are not the
migration blanked (line numbers kept), transaction boundaries written in, and whether
the file as a whole runs in a transaction.
"""

from __future__ import annotations

import re
from pathlib import PurePath

_GOOSE = re.compile(r"(?im)^[ \t]*--[ \t]*\+goose[ \t]+(up|down|no transaction)\b.*$")
_LIQUIBASE = re.compile(r"(?i)\A\s*--\s*liquibase\s+formatted\s+sql")
_CHANGESET = re.compile(r"(?im)^[ \t]*--[ \t]*changeset\b.*$")
_FLYWAY = re.compile(r"^(?:V\d+(?:[._]\d+)*|R)__.+\.sql$", re.I)
# what Flyway's PostgreSQL parser runs outside a transaction
_NON_TRANSACTIONAL = re.compile(
    r"(?i)\b(?:concurrently|vacuum|alter\s+system|create\s+database|drop\s+database|"
    r"create\s+tablespace|drop\s+tablespace)\b"
)


def prepare(text: str, name: str) -> tuple[str, bool | None]:
    """(the text to lint, whether it runs in one transaction: None when the file says
    nothing of it)."""
    if name.endswith(JS_SUFFIXES):
        return _javascript(text), True
    if "+goose" in text and _GOOSE.search(text):
        return _goose(text)
    if _LIQUIBASE.match(text):
        return _liquibase(text), None
    base = PurePath(name).name
    if _FLYWAY.match(base):
        return text, not _NON_TRANSACTIONAL.search(text)
    return text, None


def skipped(path: PurePath) -> bool:
    """A sqitch revert or verify script: not a migration to lint."""
    if path.parent.name not in ("revert", "verify"):
        return False
    return any((folder / "sqitch.plan").exists() for folder in path.parents[1:3])


def _blank(text: str) -> str:
    """White space of the same shape: offsets and line numbers kept."""
    return re.sub(r"[^\n]", " ", text)


def _goose(text: str) -> tuple[str, bool]:
    in_transaction = True
    out, at, keep = [], 0, False
    for marker in _GOOSE.finditer(text):
        kind = marker.group(1).lower()
        if kind == "no transaction":
            in_transaction = False
            continue
        piece = text[at : marker.start()]
        out.append(piece if keep else _blank(piece))
        out.append(_blank(marker.group()))
        at, keep = marker.end(), kind == "up"
    piece = text[at:]
    out.append(piece if keep else _blank(piece))
    return "".join(out), in_transaction


def _liquibase(text: str) -> str:
    """Each changeset between BEGIN and COMMIT (written over its ``--changeset`` line, which
    is long enough), unless it says ``runInTransaction:false``."""
    out, at, open_ = [], 0, False
    for line in _CHANGESET.finditer(text):
        out.append(text[at : line.start()])
        words = ("COMMIT;" if open_ else "") + (
            "" if re.search(r"(?i)runInTransaction\s*:\s*false", line.group()) else "BEGIN;"
        )
        open_ = words.endswith("BEGIN;")
        written = line.group()
        out.append(words.ljust(len(written)) if len(words) <= len(written) else written)
        at = line.end()
    out.append(text[at:])
    return "".join(out)


JS_SUFFIXES = (".ts", ".js", ".mjs", ".cjs")
_QUERY = re.compile(r"(?:\bqueryRunner\.query|\.raw)\s*\(\s*([`'\"])")
_DOWN = re.compile(r"(?:\basync\s+down\s*\(|\bdown\s*\([^)]*\)\s*[:{]|\bexports\.down\b)")
_UP = re.compile(r"(?:\basync\s+up\s*\(|\bup\s*\([^)]*\)\s*[:{]|\bexports\.up\b)")


def looks_like_js_migration(text: str) -> bool:
    """A TypeORM or Knex migration: SQL it runs, and an up and a down."""
    return bool(_QUERY.search(text)) and bool(_UP.search(text))


def _javascript(text: str) -> str:
    """The SQL strings of a TypeORM or Knex migration's ``up``, where they stand, each
    ended by a semicolon; everything else white space."""
    out = list(_blank(text))
    downs = [(m.start(), "down") for m in _DOWN.finditer(text)]
    ups = [(m.start(), "up") for m in _UP.finditer(text)]
    marks = sorted(downs + ups)
    for call in _QUERY.finditer(text):
        before = [kind for at, kind in marks if at < call.start()]
        if before and before[-1] == "down":
            continue
        quote, at = call.group(1), call.end()
        while at < len(text) and text[at] != quote:
            ch = text[at]
            if ch == "\\" and at + 1 < len(text):
                out[at + 1] = text[at + 1]
                at += 2
                continue
            if quote == "`" and text.startswith("${", at):
                close = text.find("}", at)
                close = len(text) - 1 if close == -1 else close
                for i in range(at, close + 1):  # a name in its place
                    out[i] = "x" if text[i] != "\n" else "\n"
                at = close + 1
                continue
            out[at] = ch
            at += 1
        if at < len(text):
            out[at] = ";"
    return "".join(out)
