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
from dataclasses import dataclass, field

from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

_DIALECT = Postgres()


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

    @property
    def keyword(self) -> str:
        return self.tokens[0].text.upper() if self.tokens else ""


@dataclass(slots=True)
class Script:
    text: str
    statements: list[Statement]
    comments: list[Comment]
    lines: LineIndex


def split(text: str) -> Script:
    """Split ``text`` into statements, keeping positions and comments."""
    lines = LineIndex(text)
    error: tuple[int, str] | None = None
    unreadable: list[tuple[int, int]] = []
    try:
        tokens = _DIALECT.tokenize(text)
    except TokenError:
        offset, what = find_unterminated(text)
        if what != "input":
            error = (offset, what)
        # the tokenizer gave up somewhere: tokenize statement by statement, so that one
        # it cannot read is an error at its own line and the rest is still linted
        tokens, unreadable = _tokenize_pieces(text, offset)
    statements: list[Statement] = []
    comments: list[Comment] = []
    _collect_comments(text, tokens, lines, comments, error[0] if error else len(text))
    limit = error[0] if error else len(text)
    for start, stop in unreadable:
        line, column = lines.position(start)
        statements.append(
            Statement(
                text=text[start:stop],
                start=start,
                end=stop,
                line=line,
                column=column,
                end_line=lines.position(max(stop - 1, start))[0],
                error="this statement cannot be tokenized as PostgreSQL",
            )
        )
    for group, stop in _group(tokens, limit):
        first = group[0]
        body = text[first.start : stop].rstrip()
        line, column = lines.position(first.start)
        statements.append(
            Statement(
                text=body,
                start=first.start,
                end=first.start + len(body),
                line=line,
                column=column,
                end_line=lines.position(first.start + max(len(body) - 1, 0))[0],
                tokens=group,
            )
        )
    if error is not None:
        offset, what = error
        line, column = lines.position(offset)
        statements.append(
            Statement(
                text=text[offset:],
                start=offset,
                end=len(text),
                line=line,
                column=column,
                end_line=lines.position(max(len(text) - 1, offset))[0],
                error=f"unterminated {what} starting here; the rest of the file was not read",
            )
        )
    statements.sort(key=lambda s: s.start)
    return Script(text=text, statements=statements, comments=comments, lines=lines)


def _tokenize_pieces(text: str, limit: int) -> tuple[list[Token], list[tuple[int, int]]]:
    """The tokens of ``text[:limit]``, piece by piece between top-level semicolons (by
    psql's rules); returns them with the (start, end) of the pieces that do not tokenize."""
    tokens: list[Token] = []
    unreadable: list[tuple[int, int]] = []
    line_of = LineIndex(text)
    for start, end in statement_ranges(text, limit):
        piece = text[start:end]
        if not piece.strip():
            continue
        try:
            piece_tokens = _DIALECT.tokenize(piece)
        except TokenError:
            lead = len(piece) - len(piece.lstrip())
            unreadable.append((start + lead, start + len(piece.rstrip().rstrip(";"))))
            continue
        first_line = line_of.position(start)[0] - 1
        for token in piece_tokens:
            token.start += start
            token.end += start
            token.line += first_line
        tokens.extend(piece_tokens)
    return tokens, unreadable


# tokens that may be keywords: everything but literals and quoted identifiers
_WORDS_EXCLUDED = {
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
_WORDS = frozenset(TokenType) - _WORDS_EXCLUDED


def _is_routine(current: list[Token]) -> bool:
    """``CREATE [OR REPLACE] FUNCTION|PROCEDURE``: the only statements with BEGIN ATOMIC."""
    head = [t.text.upper() for t in current[:4]]
    return head[:1] == ["CREATE"] and ("FUNCTION" in head or "PROCEDURE" in head)


def _group(tokens: list[Token], limit: int) -> list[tuple[list[Token], int]]:
    """Group tokens into statements on semicolons outside ``BEGIN ATOMIC`` bodies.

    Each group comes with the offset where its text ends: its semicolon, or
    ``limit`` for the last one (the offsets of the raw argument token sqlglot
    makes for REINDEX, VACUUM, DO and the like cannot be trusted).
    """
    groups: list[tuple[list[Token], int]] = []
    current: list[Token] = []
    atomic_depth = 0
    meta_line = -1
    for i, token in enumerate(tokens):
        kind = token.token_type
        if not current and kind == TokenType.BACKSLASH:
            meta_line = token.line  # a psql meta-command runs to the end of its line
            continue
        if meta_line == token.line and not current:
            continue
        if kind == TokenType.SEMICOLON and atomic_depth == 0:
            if current:
                groups.append((current, token.start))
                current = []
            continue
        if kind == TokenType.BACKSLASH:  # a psql meta-command in the middle of a statement
            meta_line = token.line
            name = tokens[i + 1].text if i + 1 < len(tokens) else ""
            if name.startswith("g") or name == "crosstabview":  # \g, \gset, \gx: sends it
                groups.append((current, token.start))
                current = []
            continue
        if meta_line == token.line:
            continue  # the meta-command's arguments
        current.append(token)
        if kind not in _WORDS:  # a string or a quoted name is never a keyword
            continue
        upper = token.text.upper()
        if atomic_depth:
            if upper in ("BEGIN", "CASE"):
                atomic_depth += 1
            elif upper == "END":
                atomic_depth -= 1
        elif (
            upper == "ATOMIC"
            and i > 0
            and tokens[i - 1].text.upper() == "BEGIN"
            and _is_routine(current)
        ):
            atomic_depth = 1
    if current:
        groups.append((current, limit))
    return groups


def _collect_comments(
    text: str, tokens: list[Token], lines: LineIndex, out: list[Comment], limit: int
) -> None:
    """Find comments in the gaps between tokens, where nothing else can be."""
    gap_start = 0
    raw_argument = False
    previous = None
    for token in tokens:
        if not raw_argument:
            _scan_gap(text, gap_start, token.start, lines, out)
        raw_argument = is_raw_argument(previous, token)
        previous = token
        gap_start = token.end + 1
    if not raw_argument:
        _scan_gap(text, gap_start, limit, lines, out)


_COMMANDS = frozenset(_DIALECT.tokenizer_class.COMMANDS) | {TokenType.LOCK}


def is_raw_argument(previous: Token | None, token: Token) -> bool:
    """True for the STRING token holding the unparsed rest of a REINDEX, DO, LOCK, ..."""
    return (
        token.token_type == TokenType.STRING
        and previous is not None
        and previous.token_type in _COMMANDS
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


def statement_ranges(text: str, limit: int | None = None) -> list[tuple[int, int]]:
    """Where statements end by psql's rules: at semicolons outside quotes, dollar quotes,
    comments and parentheses; each range includes its semicolon."""
    n = len(text) if limit is None else limit
    ranges: list[tuple[int, int]] = []
    start = i = depth = 0
    while i < n:
        ch = text[i]
        skipped = _skip_quoted(text, i, n)
        if skipped is not None:
            i = skipped[0]
        elif ch == "(":
            depth += 1
            i += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
            i += 1
        elif ch == ";" and depth == 0:
            ranges.append((start, i + 1))
            start = i = i + 1
        else:
            i += 1
    if start < n:
        ranges.append((start, n))
    return ranges


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
        escapes = ch != "'"
        j = i + (2 if escapes else 1)
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
    while i < n:
        skipped = _skip_quoted(text, i, n)
        if skipped is None:
            i += 1
            continue
        end, unterminated = skipped
        if unterminated:
            return i, unterminated
        i = end
    return n, "input"


def _word_start(text: str, i: int) -> bool:
    return i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_$")
