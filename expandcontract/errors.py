"""Errors that end a command with exit code 2 and a one-line message, never a traceback."""

import click


class InputError(click.ClickException):
    """Bad input, configuration or usage: ``Error: <message>`` on stderr, exit 2."""

    exit_code = 2
