"""rename-table OLD NEW

expand: NEW as a simple (automatically updatable) view of OLD, for the new
application version; contract: the view goes and the table takes its name, in
one transaction. Undoing the contract renames it back and restores the view.
"""

import click

from expandcontract.kinds import LOCK_TIMEOUT, Phase, r

NAME = "rename-table"
HELP = "Rename a table behind an updatable view while both versions run."
PARAMS = [click.Argument(["old"]), click.Argument(["new"])]


def phases(old, new):
    view = f"CREATE VIEW {new} AS SELECT * FROM {old}"
    return {
        "expand": Phase(
            [LOCK_TIMEOUT, f"op.execute({r(view)})"],
            [LOCK_TIMEOUT, f"op.execute({r(f'DROP VIEW IF EXISTS {new}')})"],
        ),
        "contract": Phase(
            [
                LOCK_TIMEOUT,
                f"op.execute({r(f'DROP VIEW IF EXISTS {new}')})",
                f"op.rename_table({r(old)}, {r(new)})",
            ],
            [LOCK_TIMEOUT, f"op.rename_table({r(new)}, {r(old)})", f"op.execute({r(view)})"],
        ),
    }
