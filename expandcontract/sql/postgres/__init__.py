"""PostgreSQL's SQL: splitting a script, reading each statement into operations, and the
server's facts (locks, volatility, casts, what changed in which version).

The front end a :class:`~expandcontract.sql.target.Target` hands out: ``split_script``
and ``analyze``. Both load what they need on first use (sqlglot only for a statement
the plain shapes do not settle).
"""

from __future__ import annotations


def split_script(text: str):
    """The statements of ``text`` (:class:`~expandcontract.sql.postgres.split.Script`)."""
    from expandcontract.sql.postgres.split import split

    return split(text)


def analyze(stmt) -> list:
    """The operations of one statement not settled from its text."""
    from expandcontract.sql.postgres.statements import analyze as read

    return read(stmt)


def routine_ops(routine: tuple[str, str], offset: int) -> list:
    """The operations a call of a function or procedure of this migration runs."""
    from expandcontract.sql.postgres.statements import routine_ops as read

    return read(routine, offset)
