"""The ``expandcontract`` command line."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from expandcontract import __version__
from expandcontract.errors import InputError
from expandcontract.formats import FORMATS


def config_option(func):
    """``--config``, shared by every command that reads ``[tool.expandcontract]``."""

    @click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="A pyproject.toml to read [tool.expandcontract] from "
        "(default: the nearest one above the current directory).",
    )
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


def format_option(*choices: str):
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=choices[0],
        show_default=True,
        help="Output format.",
    )


def pg_version_option(func):
    return click.option(
        "--pg-version",
        type=click.IntRange(9, 99),
        default=None,
        help="PostgreSQL major version the migrations run on [config: pg_version; default 14].",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="expandcontract")
def cli() -> None:
    """Zero-downtime PostgreSQL schema changes: lint, phase and verify migrations.

    \b
    Example:
      expandcontract lint migrations/
    """


@cli.command()
@click.argument("paths", nargs=-1)
@format_option(*FORMATS)
@pg_version_option
@config_option
@click.option("--select", help="Comma-separated rule codes or names to run (default: all).")
@click.option("--ignore", help="Comma-separated rule codes or names not to run.")
@click.option(
    "--assume-in-transaction/--no-assume-in-transaction",
    default=None,
    help="Treat each SQL file as run inside one transaction, as Flyway and others do.",
)
@click.option("--stdin-filename", help="The name to report for input read from '-'.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are errors (rollout).")
@click.option(
    "--changed-since",
    metavar="REF",
    help="Lint only the files added or modified since this git ref (pull requests).",
)
def lint(
    paths,
    output_format,
    pg_version,
    config_path,
    select,
    ignore,
    assume_in_transaction,
    stdin_filename,
    exit_zero,
    changed_since,
) -> None:
    """Report statements that lock, rewrite or break a busy table.

    PATHS are .sql files, Alembic revision files, directories (searched
    recursively), or an alembic.ini / pyproject.toml standing for its Alembic
    project; '-' reads SQL from stdin. With no PATHS, the Alembic project in
    the current directory.

    \b
    Exit codes: 0 no error-severity finding, 1 at least one, 2 usage or input error.

    \b
    Examples:
      expandcontract lint migrations/
      expandcontract lint alembic.ini --changed-since origin/main
      expandcontract lint --format github --pg-version 15 db/0042_add_index.sql
      git show HEAD:m.sql | expandcontract lint - --stdin-filename m.sql
    """
    from expandcontract.config import load_config, resolve_rule
    from expandcontract.formats import render
    from expandcontract.lint.runner import Options, lint_paths
    from expandcontract.linters import LOOKUP

    config = load_config(config_path)

    def rules(value: str | None, flag: str) -> list[str] | None:
        if value is None:
            return None
        return [resolve_rule(w.strip(), flag, LOOKUP) for w in value.split(",") if w.strip()]

    options = Options(
        select=rules(select, "--select"),
        ignore=rules(ignore, "--ignore"),
        pg_version=pg_version,
        assume_in_transaction=assume_in_transaction,
        stdin_filename=stdin_filename,
        changed_since=changed_since,
    )
    report, problems = lint_paths(list(paths), config, options)
    output = render(output_format, report)
    if output:
        click.echo(output)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if problems:
        raise SystemExit(2)
    if report.errors and not exit_zero:
        raise SystemExit(1)


@cli.command()
@format_option("text", "json")
def rules(output_format) -> None:
    """List every rule: code, name, default severity and summary.

    \b
    Example:
      expandcontract rules
    """
    import json

    from expandcontract.linters import RULES

    if output_format == "json":
        click.echo(
            json.dumps(
                [
                    {"code": r.code, "name": r.name, "severity": r.severity, "summary": r.summary}
                    for r in RULES
                ],
                indent=2,
            )
        )
        return
    width = max(len(r.name) for r in RULES)
    for r in RULES:
        click.echo(f"{r.code}  {r.name:<{width}}  {r.severity:<7}  {r.summary}")


@cli.command()
@click.argument("rule")
def explain(rule) -> None:
    """Print a rule's documentation: what it does, why, and the safe way.

    \b
    Example:
      expandcontract explain create-index-not-concurrently
    """
    from expandcontract.linters import BY_CODE, LOOKUP

    code = LOOKUP.get(rule) or LOOKUP.get(rule.upper())
    if code is None:
        raise InputError(f"unknown rule {rule!r} (see `expandcontract rules`)")
    found = BY_CODE[code]
    click.echo(f"# {found.code} {found.name} ({found.severity})\n\n{found.summary}.\n\n{found.doc}")


def main() -> None:
    cli(prog_name="expandcontract")
