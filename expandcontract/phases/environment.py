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
    env=None,
) -> None:
    """Run the migration steps ``steps(heads)`` returns, each revision in its own transaction.

    ``prepare(context)`` runs once the MigrationContext exists, before any step: the place
    to wrap its executor (lock-safe retries, tracing). ``env`` is the project's
    :class:`~expandcontract.project.EnvOptions`: its version table is the one used.
    """
    from alembic.runtime.environment import EnvironmentContext

    with EnvironmentContext(
        alembic_config, script, fn=lambda rev, _ctx: steps(rev), destination_rev=destination
    ) as context:
        context.configure(
            connection=connection,
            transaction_per_migration=True,
            version_table=env.version_table if env else "alembic_version",
            version_table_schema=env.version_table_schema if env else None,
        )
        if prepare is not None:
            prepare(context.get_context())
        with context.begin_transaction():
            context.run_migrations()
    connection.commit()


def upgrade_one(script, revision: str):
    from alembic.runtime.migration import MigrationStep

    return [MigrationStep.upgrade_from_script(script.revision_map, script.get_revision(revision))]


def downgrade_one(script, revision: str):
    from alembic.runtime.migration import MigrationStep

    return [MigrationStep.downgrade_from_script(script.revision_map, script.get_revision(revision))]
