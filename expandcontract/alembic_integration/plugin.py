"""The Alembic plugin (``alembic.plugins`` entry point, Alembic 1.20+).

Alembic imports this module whenever it is imported, so it stays light: the
setup only registers the ``expandcontract`` post-write hook. A project turns
the hook on in its ``alembic.ini``::

    [post_write_hooks]
    hooks = expandcontract
    expandcontract.type = expandcontract

and ``alembic revision`` then lints the revision it has just written, failing
the command on an error-severity finding (the file stays, to be fixed).
"""

from __future__ import annotations

HOOK = "expandcontract"


def setup(plugin) -> None:
    from alembic.script import write_hooks

    from expandcontract.ops import register

    register()

    write_hooks.register(HOOK)(lint_new_revision)


def lint_new_revision(path: str, options) -> None:
    from pathlib import Path

    from alembic.util import CommandError

    from expandcontract.config import load_config
    from expandcontract.formats.text_format import render
    from expandcontract.lint.runner import Options, lint_paths

    revision = Path(path)
    report, problems = lint_paths([str(revision)], load_config(start=revision.parent), Options())
    if report.findings:
        print(render(report))
    if problems:
        raise CommandError("; ".join(problems))
    if report.errors:
        raise CommandError(
            f"expandcontract: {report.errors} error(s) in {revision.name}; "
            "fix them, or suppress with `# expandcontract: ignore RULE -- reason`"
        )
