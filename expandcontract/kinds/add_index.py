"""add-index TABLE COLUMN... [--unique]

expand only: the index built CONCURRENTLY, outside the transaction; an INVALID
leftover of an interrupted build is dropped and rebuilt.
"""

import click

from expandcontract.kinds import Phase, r

NAME = "add-index"
HELP = "Create an index concurrently."
PARAMS = [
    click.Argument(["table"]),
    click.Argument(["columns"], nargs=-1, required=True),
    click.Option(["--unique"], is_flag=True),
]


def phases(table, columns, unique=False):
    name = f"ix_{table}_{'_'.join(columns)}"
    cols = "[" + ", ".join(r(c) for c in columns) + "]"
    flag = ", unique=True" if unique else ""
    return {
        "expand": Phase(
            [f"op.create_index_concurrently({r(name)}, {r(table)}, {cols}{flag})"],
            [f"op.drop_index_concurrently({r(name)})"],
        )
    }
