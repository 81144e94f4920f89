"""Split a SQL script into statements on sqlglot's tokens.

sqlglot's tokenizer understands PostgreSQL's dollar-quoted bodies, ``E''``
strings, quoted identifiers and nested block comments, so a semicolon inside
any of them never ends a statement. On top of it this module adds what the
tokenizer does not do: it keeps ``BEGIN ATOMIC ... END`` function bodies whole,
drops psql meta-commands, recovers the comments with their positions (for
suppression comments), and turns an unterminated quote into an error at its
line instead of losing the whole file.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

from expandcontract.sql.op import Op

if TYPE_CHECKING:
    from sqlglot.tokens import Token


@cache
def _lexicon() -> SimpleNamespace:
    """sqlglot's tokenizer and token types, imported on the first statement that needs
    them (a script whose statements :mod:`~expandcontract.sql.postgres.shapes` settles never does).
    One tokenizer serves every statement: making one per statement cost a tenth of a lint.
    """
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.errors import TokenError
    from sqlglot.tokens import Token, TokenType

    dialect = Postgres()
    literals = {  # never a keyword: literals and quoted names
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.RAW_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.BYTE_STRING,
        TokenType.NUMBER,
        TokenType.IDENTIFIER,
    }
    return SimpleNamespace(
        tokenizer=dialect.tokenizer(),
        Token=Token,
        TokenType=TokenType,
        TokenError=TokenError,
        words=frozenset(TokenType) - literals,
        commands=frozenset(dialect.tokenizer_class.COMMANDS) | {TokenType.LOCK},
    )


def tokenize(sql: str) -> list[Token]:
    """sqlglot's PostgreSQL tokens of ``sql``."""
    return _lexicon().tokenizer.tokenize(sql)


class LineIndex:
    """Turns character offsets into 1-based (line, column) pairs."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self._starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._starts, offset) - 1
        return index + 1, offset - self._starts[index] + 1


@dataclass(slots=True)
class Comment:
    line: int
    column: int
    text: str


@dataclass(slots=True)
class Statement:
    text: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    tokens: list[Token] = field(default_factory=list)
    error: str | None = None
    # what the statement does, when settled from its text alone (then ``tokens`` is empty)
    ops: list[Op] | None = None
    # sent by psql's \gexec: each value of each row it returns is run as a statement
    gexec: bool = False

    def strings(self) -> set[str]:
        """The text of its string literals."""
        if self.ops is not None:
            return {m.group()[1:-1].replace("''", "'") for m in _STRING.finditer(self.text)}
        names = ("STRING", "NATIONAL_STRING", "RAW_STRING")
        return {t.text for t in self.tokens if t.token_type.name in names}

    @property
    def keyword(self) -> str:
        return self.tokens[0].text.upper() if self.tokens else ""


class Script:
    """The statements of a script, read as they are asked for.

    :meth:`stream` gives them one at a time and lets each statement's tokens go once the
    next is read, so memory stays flat however long the file; :attr:`statements` gives
    them all (tokens included for those not streamed). :attr:`comments` is complete once
    every statement has been read.
    """

    def __init__(self, text: str, lines: LineIndex, pending: Iterator[Statement]) -> None:
        self.text = text
        self.lines = lines
        self._comments: list[Comment] = []
        self._read: list[Statement] = []
        self._pending: Iterator[Statement] | None = pending

    @property
    def comments(self) -> list[Comment]:
        self.statements  # noqa: B018  (they are found while reading the statements)
        return self._comments

    @property
    def statements(self) -> list[Statement]:
        if self._pending is not None:
            self._read.extend(self._pending)
            self._pending = None
        return self._read

    def stream(self) -> Iterator[Statement]:
        if self._pending is None:
            yield from self._read
            return
        for statement in self._pending:
            self._read.append(statement)
            yield statement
            statement.tokens = []  # judged: its tokens and text are not needed again
            statement.text = ""
        self._pending = None


def split(text: str) -> Script:
    """Split ``text`` into statements, keeping positions and comments.

    Statement by statement, by psql's rules: a statement the tokenizer cannot read is an
    error at its own line, a meta-command (\\g, \\echo) is taken out, and time and memory
    stay linear (sqlglot's tokenizer is quadratic over many REINDEX/VACUUM/DO in one
    string, and a long file's tokens are never all held at once).
    """
    # a byte-order mark or a NUL byte (which PostgreSQL refuses anyway): white space here,
    # so that it hides no statement; offsets are kept
    text = text.replace("\ufeff", " ").replace("\x00", " ")
    if ":'" in text or ':"' in text or "\\set" in text:
        text = psql_variables(text)
    lines = LineIndex(text)
    script = Script(text, lines, iter(()))
    script._pending = _statements(text, lines, script._comments)
    return script


def _statements(text: str, lines: LineIndex, comments: list[Comment]) -> Iterator[Statement]:
    if "\\" not in text and not _ATOMIC.search(text):
        unclosed: list[int] = []
        ranges = statement_ranges(text, unclosed=unclosed)
        if not unclosed:  # one statement per piece: settle each from its text where it can
            yield from _settled(text, ranges, lines, comments)
            return
    quote_at, what = find_unterminated(text)
    unterminated = what != "input"
    limit = quote_at
    held: Statement | None = None  # yielded once the next is known (the last may be merged)
    for item in _group(_pieces(text, limit, lines, comments), limit):
        if held is not None:
            yield held
        held = _statement(text, lines, *item) if isinstance(item, tuple) else item
    error_start = quote_at
    if held is not None:
        if unterminated and not text[held.end : limit].strip():
            error_start = held.start  # the statement the quote is in: the error, whole
        else:
            yield held
    if unterminated:
        line, column = lines.position(quote_at)  # reported where the quote opens
        yield Statement(
            text=text[error_start:],
            start=error_start,
            end=len(text),
            line=line,
            column=column,
            end_line=lines.position(max(len(text) - 1, error_start))[0],
            error=f"unterminated {what} starting here; the rest of the file was not read",
        )


_ATOMIC = re.compile(r"(?i)\batomic\b")
_QUOTED_VARIABLE = re.compile(r"(?<![:\w]):(?=(?:'[A-Za-z_]\w*'|\"[A-Za-z_]\w*\"))")
_VARIABLE = re.compile(r"(?<![:\w]):(?=[A-Za-z_]\w*(?!\w|:))")


def psql_variables(text: str) -> str:
    """psql's variables read as what they stand for, offsets kept: ``:'v'`` a string,
    ``:"v"`` a name, and (in a script that sets them with ``\\set``) ``:v`` a word."""
    text = _QUOTED_VARIABLE.sub(" ", text)
    if "\\set" in text:
        text = _VARIABLE.sub(" ", text)
    return text


_SPACE = re.compile(r"\s*")
_STRING = re.compile(r"'(?:[^']|'')*'")


def _settled(
    text: str, ranges: list[tuple[int, int, bool]], lines: LineIndex, comments: list[Comment]
) -> Iterator[Statement]:
    """The statements of a script with no meta-command, no ``BEGIN ATOMIC`` and no
    unterminated quote, where each piece between semicolons is one statement: those of
    the plain shapes with their operations, the rest tokenized by sqlglot."""
    from expandcontract.sql.postgres.shapes import settle

    for start, end, _ in ranges:
        lead = _skip_comments(text, start, end, lines, comments)
        stop = end - 1 if text[end - 1] == ";" else end
        body = text[lead:stop].rstrip()
        if not body:
            continue
        if "--" not in body and "/*" not in body:
            ops = settle(body, lead)
            if ops is not None:
                line, column = lines.position(lead)
                yield Statement(
                    text=body,
                    start=lead,
                    end=lead + len(body),
                    line=line,
                    column=column,
                    end_line=lines.position(lead + len(body) - 1)[0] if "\n" in body else line,
                    ops=ops,
                )
                continue
        for item in _group(_pieces(text, end, lines, comments, lead), end):
            yield _statement(text, lines, *item) if isinstance(item, tuple) else item


def _skip_comments(text: str, i: int, end: int, lines: LineIndex, out: list[Comment]) -> int:
    """The offset of the first character of ``text[i:end]`` that is neither white space
    nor part of a comment; the comments on the way are collected."""
    i = _SPACE.match(text, i, end).end()
    while i < end:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i) or text.startswith("/*", i):
            after = _skip_quoted(text, i, end)[0]
            _scan_gap(text, i, after, lines, out)
            i = after
        else:
            break
    return i


_SENT = "\\g"  # the text of the semicolon a \\g-style meta-command stands for
_GEXEC = "\\gexec"  # ... and the one \\gexec stands for


def _statement(
    text: str, lines: LineIndex, group: list[Token], stop: int, gexec: bool = False
) -> Statement:
    first = group[0]
    body = text[first.start : stop].rstrip()
    line, column = lines.position(first.start)
    return Statement(
        text=body,
        start=first.start,
        end=first.start + len(body),
        line=line,
        column=column,
        end_line=lines.position(first.start + max(len(body) - 1, 0))[0],
        tokens=group,
        gexec=gexec,
    )


def _pieces(
    text: str, limit: int, lines: LineIndex, comments: list[Comment], begin: int | None = None
) -> Iterator[Token | Statement]:
    """The tokens of ``text[:limit]``, piece by piece between semicolons (by psql's rules),
    and, in their place, an error statement for each piece that does not tokenize. Comments
    in each piece are collected on the way."""
    lexicon = _lexicon()
    ranges = statement_ranges(text, limit) if begin is None else [(begin, limit, False)]
    for start, end, sends in ranges:
        piece = text[start:end]
        if not piece.strip():
            _scan_gap(text, start, end, lines, comments)
            continue
        try:
            piece_tokens = lexicon.tokenizer.tokenize(piece)
        except lexicon.TokenError:
            lead = len(piece) - len(piece.lstrip())
            stop = start + len(piece.rstrip().rstrip(";"))
            line, column = lines.position(start + lead)
            _scan_gap(text, start, start + lead, lines, comments)
            yield Statement(
                text=text[start + lead : stop],
                start=start + lead,
                end=stop,
                line=line,
                column=column,
                end_line=lines.position(max(stop - 1, start + lead))[0],
                error="this statement cannot be tokenized as PostgreSQL",
            )
            continue
        first_line = lines.position(start)[0] - 1
        for token in piece_tokens:
            token.start += start
            token.end += start
            token.line += first_line
        if "--" in piece or "/*" in piece:  # else there is no comment to find
            _collect_comments(text, piece_tokens, lines, comments, start, end)
        yield from piece_tokens
        if sends:  # \\g and kin send the statement as a semicolon would
            line, column = lines.position(end)
            sent = _GEXEC if sends == "gexec" else _SENT
            yield lexicon.Token(lexicon.TokenType.SEMICOLON, sent, line, column, end, end)


def _is_routine(current: list[Token]) -> bool:
    """``CREATE [OR REPLACE] FUNCTION|PROCEDURE``: the only statements with BEGIN ATOMIC."""
    head = [t.text.upper() for t in current[:6] if t.text[:1].isalpha()][:4]
    return head[:1] == ["CREATE"] and ("FUNCTION" in head or "PROCEDURE" in head)


def _group(
    items: Iterable[Token | Statement], limit: int
) -> Iterator[tuple[list[Token], int, bool] | Statement]:
    """Group tokens into statements on semicolons outside ``BEGIN ATOMIC`` bodies; error
    statements pass through in their place.

    Each group comes with the offset where its text ends: its semicolon, or
    ``limit`` for the last one (the offsets of the raw argument token sqlglot
    makes for REINDEX, VACUUM, DO and the like cannot be trusted).
    """
    lexicon = _lexicon()
    semicolon, words = lexicon.TokenType.SEMICOLON, lexicon.words
    current: list[Token] = []
    atomic_depth = 0
    previous = ""
    for token in items:
        if isinstance(token, Statement):
            yield token
            continue
        kind = token.token_type
        if kind == semicolon and (atomic_depth == 0 or token.text in (_SENT, _GEXEC)):
            if current:  # a \\g sends the buffer even inside a BEGIN ATOMIC body, as psql does
                yield current, token.start, token.text == _GEXEC
                current = []
            previous, atomic_depth = "", 0
            continue
        current.append(token)
        if kind not in words:  # a string or a quoted name is never a keyword
            previous = ""
            continue
        upper = token.text.upper()
        if atomic_depth:
            if upper in ("BEGIN", "CASE"):
                atomic_depth += 1
            elif upper == "END":
                atomic_depth -= 1
        elif upper == "ATOMIC" and previous == "BEGIN" and _is_routine(current):
            atomic_depth = 1
        previous = upper
    if current:
        yield current, limit, False


def _collect_comments(
    text: str, tokens: list[Token], lines: LineIndex, out: list[Comment], start: int, end: int
) -> None:
    """Find comments in the gaps between tokens of ``text[start:end]``, where nothing else
    can be."""
    gap_start = start
    raw_argument = False
    previous = None
    for token in tokens:
        if not raw_argument:
            _scan_gap(text, gap_start, token.start, lines, out)
        raw_argument = is_raw_argument(previous, token)
        previous = token
        gap_start = token.end + 1
    if not raw_argument:
        _scan_gap(text, gap_start, end, lines, out)


def is_raw_argument(previous: Token | None, token: Token) -> bool:
    """True for the STRING token holding the unparsed rest of a REINDEX, DO, LOCK, ..."""
    lexicon = _lexicon()
    return (
        token.token_type == lexicon.TokenType.STRING
        and previous is not None
        and previous.token_type in lexicon.commands
    )


def _scan_gap(text: str, start: int, end: int, lines: LineIndex, out: list[Comment]) -> None:
    i = start
    while i < end:
        if text.startswith("--", i):
            stop = text.find("\n", i, end)
            stop = end if stop == -1 else stop
            line, column = lines.position(i)
            out.append(Comment(line, column, text[i + 2 : stop].strip()))
            i = stop
        elif text.startswith("/*", i):
            stop = _block_comment_end(text, i)
            line, column = lines.position(i)
            out.append(Comment(line, column, text[i + 2 : max(stop - 2, i + 2)].strip()))
            i = stop
        else:
            i += 1


def _block_comment_end(text: str, i: int) -> int:
    depth = 0
    n = len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def statement_ranges(
    text: str, limit: int | None = None, unclosed: list[int] | None = None
) -> list[tuple[int, int, bool]]:
    """Pieces of ``text`` by psql's rules: each ends at a semicolon outside quotes, dollar
    quotes and comments (included), or at a backslash meta-command, which runs to the end
    of its line and is left out; the flag says the meta-command sends the statement
    (``\\g``, ``\\gset``, ``\\gx``, ``\\crosstabview``). The offset of a quote or comment
    that never closes is added to ``unclosed``."""
    n = len(text) if limit is None else limit
    ranges: list[tuple[int, int, bool]] = []
    start = i = 0
    while i < n:
        found = _SPECIAL.search(text, i, n)  # jump to the next character that matters
        if found is None:
            break
        i = found.start()
        ch = text[i]
        skipped = _skip_quoted(text, i, n)
        if skipped is not None:
            if skipped[1] is not None and unclosed is not None:
                unclosed.append(i)
            i = skipped[0]
        elif ch == ";":
            ranges.append((start, i + 1, False))
            data_end = copy_data_end(text, start, i, n)
            start = i = i + 1 if data_end is None else data_end
        elif ch == "\\":
            line_end = text.find("\n", i, n)
            line_end = n if line_end == -1 else line_end
            words = text[i + 1 : line_end].split()
            command = words[0] if words else ""
            sends = command.startswith("g") or command == "crosstabview"
            ranges.append((start, i, ("gexec" if command == "gexec" else "g") if sends else ""))
            start = i = line_end
        else:
            i += 1
    if start < n:
        ranges.append((start, n, False))
    return ranges


_SPECIAL = re.compile(r"[;'\"$\\\\]|--|/\*")


def _skip_quoted(text: str, i: int, n: int) -> tuple[int, str | None] | None:
    """At a comment, string, quoted identifier or dollar quote starting at ``i``: the offset
    after it, and the kind when it never closes (else None). None when ``i`` starts none."""
    ch = text[i]
    if text.startswith("--", i):
        stop = text.find("\n", i, n)
        return (n if stop == -1 else stop + 1), None
    if text.startswith("/*", i):
        stop = _block_comment_end(text, i)
        if stop >= n and not text[:n].endswith("*/"):
            return n, "block comment"
        return min(stop, n), None
    if ch == "'" or (ch in "eE" and text.startswith("'", i + 1) and _word_start(text, i)):
        # E'...' takes backslash escapes, whether the scan stands on the E or on the quote
        escapes = ch != "'" or (i > 0 and text[i - 1] in "eE" and _word_start(text, i - 1))
        j = i + (2 if ch != "'" else 1)
        while not escapes:  # jump quote to quote
            j = text.find("'", j, n)
            if j == -1:
                return n, "string literal"
            if not text.startswith("''", j):
                return j + 1, None
            j += 2
        while j < n:
            if escapes and text[j] == "\\":
                j += 2
                continue
            if text[j] == "'":
                if text.startswith("''", j):
                    j += 2
                    continue
                return j + 1, None
            j += 1
        return n, "string literal"
    if ch == '"':
        j = text.find('"', i + 1, n)
        return (n, "quoted identifier") if j == -1 else (j + 1, None)
    if ch == "$" and _word_start(text, i):
        tag_end = i + 1
        while tag_end < n and (text[tag_end].isalnum() or text[tag_end] == "_"):
            tag_end += 1
        if tag_end < n and text[tag_end] == "$" and not text[i + 1 : tag_end].isdigit():
            tag = text[i : tag_end + 1]
            close = text.find(tag, tag_end + 1, n)
            return (n, "dollar-quoted string") if close == -1 else (close + len(tag), None)
    return None


def find_unterminated(text: str) -> tuple[int, str]:
    """Return the offset and kind of the quote or comment that never closes.

    A small scanner of PostgreSQL's lexical rules, used only after sqlglot's
    tokenizer has failed, to say *where* the file went wrong.
    """
    i, n = 0, len(text)
    start = 0
    while i < n:
        found = _SPECIAL.search(text, i, n)
        if found is None:
            break
        i = found.start()
        if text[i] == ";":
            data_end = copy_data_end(text, start, i, n)
            start = i = i + 1 if data_end is None else data_end
            continue
        if text[i] == "\\":  # a psql meta-command runs to the end of its line
            line_end = text.find("\n", i, n)
            i = n if line_end == -1 else line_end
            continue
        skipped = _skip_quoted(text, i, n)
        if skipped is None:
            i += 1
            continue
        end, unterminated = skipped
        if unterminated:
            return i, unterminated
        i = end
    return n, "input"


_COPY_FROM_STDIN = re.compile(
    r"(?is)\s*(?:(?:--[^\n]*\n|/\*.*?\*/)\s*)*copy\b[^;]*\bfrom\s+stdin\b"
)


def copy_data_end(text: str, start: int, semicolon: int, n: int) -> int | None:
    """After ``COPY ... FROM stdin;`` (the statement ``text[start:semicolon]``), psql reads
    rows of data up to a line ``\\.``: the offset after that line (or ``n``); None for any
    other statement. The data is no SQL, and no statement of the script."""
    if "stdin" not in text[start:semicolon].lower():
        return None
    if not _COPY_FROM_STDIN.match(text, start, semicolon):
        return None
    line_end = text.find("\n", semicolon, n)
    if line_end == -1:
        return n
    at = line_end + 1
    while at < n:
        end = text.find("\n", at, n)
        end = n if end == -1 else end
        if text[at:end].rstrip("\r") == "\\.":
            return min(end + 1, n)
        at = end + 1
    return n


def _word_start(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_$")
