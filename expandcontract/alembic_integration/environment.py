"""Run Alembic revision steps on a connection of ours, without the project's env.py."""

from __future__ import annotations

from collections.abc import Callable


def run_steps(
    alembic_config,
    script,
    connection,
    steps: Callable,
    prepare: Callable | None = None,
    destination: str | None = None,
) -> None:
    """Run the migration steps ``steps(heads)`` returns, each revision in its own transaction.

    ``prepare(context)`` runs once the MigrationContext exists, before any step: the place
    to wrap its executor (lock-safe retries, tracing).
    """
    from alembic.runtime.environment import EnvironmentContext

    with EnvironmentContext(
        alembic_config, script, fn=lambda rev, _ctx: steps(rev), destination_rev=destination
    ) as env:
        env.configure(connection=connection, transaction_per_migration=True)
        if prepare is not None:
            prepare(env.get_context())
        with env.begin_transaction():
            env.run_migrations()
    connection.commit()


def upgrade_one(script, revision: str):
    from alembic.runtime.migration import MigrationStep

    return [MigrationStep.upgrade_from_script(script.revision_map, script.get_revision(revision))]


def downgrade_one(script, revision: str):
    from alembic.runtime.migration import MigrationStep

    return [MigrationStep.downgrade_from_script(script.revision_map, script.get_revision(revision))]


def topological(script) -> list[str]:
    """Every revision, each after all it depends on (parents and depends_on), oldest first."""
    revisions = {r.revision: r for r in script.walk_revisions()}
    order_hint = {rev: i for i, rev in enumerate(reversed(list(revisions)))}
    remaining = {rev: set(r._all_down_revisions) & set(revisions) for rev, r in revisions.items()}
    ordered: list[str] = []
    while remaining:
        ready = sorted((r for r, deps in remaining.items() if not deps), key=order_hint.get)
        if not ready:  # a cycle: Alembic itself refuses those; keep going deterministically
            ready = [min(remaining, key=order_hint.get)]
        for rev in ready:
            ordered.append(rev)
            remaining.pop(rev)
            for deps in remaining.values():
                deps.discard(rev)
    return ordered


def load_config(config_file):
    """The Alembic configuration, with a relative ``script_location`` resolved against the
    configuration file's directory when it does not resolve from the current one (so
    ``-c path/to/alembic.ini`` works from anywhere)."""
    from pathlib import Path

    from alembic.config import Config

    from expandcontract.errors import InputError

    path = Path(config_file)
    if not path.is_file():
        raise InputError(f"{path}: no such Alembic configuration (use -c)")
    config = Config(str(path))
    location = config.get_main_option("script_location")
    relative = location and ":" not in location and not Path(location).is_absolute()
    if relative and not Path(location).exists() and (path.resolve().parent / location).exists():
        config.set_main_option("script_location", str(path.resolve().parent / location))
    return config


def load_script(config, config_file):
    """The project's ScriptDirectory, every revision loaded now, so that a revision that does
    not import is a usage error naming it rather than a traceback half-way through."""
    from alembic.script import ScriptDirectory

    from expandcontract.errors import InputError

    try:
        script = ScriptDirectory.from_config(config)
        script.revision_map.get_revisions("heads")
    except Exception as err:
        raise InputError(
            f"{config_file}: cannot load the Alembic project: {type(err).__name__}: {err}"
        ) from None
    return script
