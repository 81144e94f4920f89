"""Errors that end a command with exit code 2 and a one-line message, never a traceback."""

import unicodedata

import click


class InputError(click.ClickException):
    """Bad input, configuration or usage: ``Error: <message>`` on stderr, exit 2. Control
    characters in it (a file name's, a ref's) are shown as escapes: a CI log reads a line
    that starts with ``::`` as a command."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__("\n".join(printable(line) for line in message.split("\n")))


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """``text`` (a file name, most often) fit for one line of any report: control and
    format characters (a newline, a bidi override) and undecodable bytes (a file name that
    is not UTF-8 comes as lone surrogates) as escapes."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable() or char == " ":
            out.append(char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0xDC80 <= ord(char) <= 0xDCFF:  # os.fsdecode's stand-in for a raw byte
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif unicodedata.category(char) in ("Zs",):
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) > 0xFF else f"\\x{ord(char):02x}")
    return "".join(out)


def first_line(err: BaseException) -> str:
    """An exception's message, first line only (its type when it has none)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
