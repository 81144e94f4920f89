"""Errors that end a command with exit code 2 and a one-line message, never a traceback."""

import click


class InputError(click.ClickException):
    """Bad input, configuration or usage: ``Error: <message>`` on stderr, exit 2."""

    exit_code = 2


def first_line(err: BaseException) -> str:
    """An exception's message, first line only (its type when it has none)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
