"""The token classifier's cursor: walk a statement's sqlglot tokens by keyword.

sqlglot returns many PostgreSQL migration statements as an unparsed
``Command``; for those (and for the few it misparses) we read the tokens
ourselves. Keywords are matched on upper-cased token text, not token type,
because many come back as plain ``VAR``. Keywords that sqlglot folds into one
raw string token (REINDEX, VACUUM, LOCK, ...) are re-tokenized on entry.
"""

from __future__ import annotations

from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from expandcontract.sql.postgres.split import _lexicon

_DIALECT = Postgres()
_TOKENIZER = _DIALECT.tokenizer()
_NAME_TYPES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
_PUNCTUATION = frozenset({",", "(", ")", ";", "=", "*"})


class Cursor:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self._upper = [t.text.upper() for t in tokens]

    def peek(self, ahead: int = 0) -> str:
        i = self.index + ahead
        return self._upper[i] if i < len(self._upper) else ""

    def advance(self, n: int = 1) -> None:
        self.index = min(self.index + n, len(self.tokens))

    def accept(self, *words: str) -> bool:
        """Consume ``words`` if the tokens here spell them, all or nothing."""
        if all(self.peek(k) == w for k, w in enumerate(words)):
            self.advance(len(words))
            return True
        return False

    def skip_past(self, *words: str) -> bool:
        """Advance past the first token equal to one of ``words``; False if none."""
        while self.index < len(self.tokens):
            word = self._upper[self.index]
            self.index += 1
            if word in words:
                return True
        return False

    def word(self) -> str | None:
        """One identifier, normalized: quoted kept as is, unquoted folded to lower case."""
        if self.index >= len(self.tokens):
            return None
        token = self.tokens[self.index]
        if token.text in _PUNCTUATION:
            return None
        self.index += 1
        return token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower()

    def name(self) -> str | None:
        """A possibly schema-qualified name; ``public.`` is dropped."""
        parts = [self.word()]
        while parts[-1] is not None and self.peek() == ".":
            self.advance()
            parts.append(self.word())
        names = [p for p in parts if p is not None]
        if len(names) > 1 and names[-2] == "public":
            names = names[-1:]
        return ".".join(names) or None

    def words(self) -> list[str]:
        return self._upper[self.index :]

    def rest(self) -> list[Token]:
        return self.tokens[self.index :]

    def parenthesized_words(self) -> list[str]:
        """Consume ``( ... )`` and return the words inside."""
        words = []
        if self.accept("("):
            while self.index < len(self.tokens) and self.peek() != ")":
                words.append(self.tokens[self.index].text)
                self.advance()
            self.accept(")")
        return words

    def skip_parenthesized(self) -> None:
        if self.peek() == "(":
            self.parenthesized_words()


def retokenize(tokens: list[Token]) -> list[Token]:
    """Expand the raw STRING token some commands keep their arguments in."""
    if len(tokens) == 2 and tokens[1].token_type == TokenType.STRING:
        try:
            return [tokens[0], *_TOKENIZER.tokenize(tokens[1].text)]
        except TokenError:
            return tokens
    return tokens


def upper_words(tokens: list[Token]) -> list[str]:
    """A statement's words as the statement table reads them: upper-cased, a string
    literal as ``'``, a quoted name as ``"``, sqlglot's compound tokens (``FOREIGN KEY``)
    split into their words."""
    keywords = _lexicon().words
    words: list[str] = []
    for token in retokenize(tokens):
        kind = token.token_type
        if kind == TokenType.IDENTIFIER:
            words.append('"')
        elif kind == TokenType.NUMBER:
            words.append(token.text)
        elif kind not in keywords:
            words.append("'")
        elif " " in token.text or "\n" in token.text:
            words.extend(token.text.upper().split())
        else:
            words.append(token.text.upper())
    return words


def split_top_level(tokens: list[Token]) -> list[list[Token]]:
    """Split on commas outside parentheses: the actions of a multi-action ALTER TABLE."""
    parts: list[list[Token]] = []
    current: list[Token] = []
    depth = 0
    for token in tokens:
        text = token.text
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            depth += 1
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            depth -= 1
        elif text == "," and depth == 0 and token.token_type == TokenType.COMMA:
            if current:
                parts.append(current)
            current = []
            continue
        current.append(token)
    if current:
        parts.append(current)
    return parts
