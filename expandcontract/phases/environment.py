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
    restart=None,
) -> None:
    """Run the migration steps ``steps(heads)`` returns, each revision in its own transaction.

    ``prepare(context)`` runs once the MigrationContext exists, before any step: the place
    to wrap its executor (lock-safe retries, tracing). ``env`` is the project's
    :class:`~expandcontract.project.EnvOptions`: its version table is the one used.

    ``restart`` (:class:`~expandcontract.ops.execution.Settings`): a revision whose
    statement times out waiting for a lock is rolled back whole, and run again from its
    start after a backoff, up to ``restart.retries`` times: nothing it locked is held
    while it waits (the executor :func:`prepare` installs must raise
    :class:`~expandcontract.ops.execution.RestartRevision` then).
    """
    if restart is None:
        _run(alembic_config, script, connection, steps, prepare, destination, env)
        return
    import logging
    import time

    from expandcontract.ops import execution

    log = logging.getLogger("expandcontract")
    for step in steps(_heads(connection, env)):
        for attempt in range(restart.retries):
            try:
                _run(alembic_config, script, connection, lambda _h, s=step: [s], prepare, None, env)
                break
            except execution.RestartRevision as err:
                connection.rollback()
                if attempt + 1 == restart.retries:
                    raise execution.LockTimeoutError(
                        f"could not get the lock for `{err.what}` within lock_timeout "
                        f"{restart.lock_timeout} after {restart.retries} attempts, each from the "
                        "revision's start; a long transaction holds the table (see "
                        "pg_stat_activity); retry later"
                    ) from None
                wait = execution.backoff(attempt, restart)
                log.warning(
                    "lock timeout (%s) on `%s`: revision %s rolled back, attempt %d/%d, "
                    "running it again in %.2fs",
                    restart.lock_timeout,
                    err.what,
                    step.revision.revision if hasattr(step, "revision") else "",
                    attempt + 1,
                    restart.retries,
                    wait,
                )
                time.sleep(wait)


def _heads(connection, env) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": env.version_table if env else "alembic_version",
            "version_table_schema": env.version_table_schema if env else None,
        },
    )
    heads = context.get_current_heads()
    connection.rollback()
    return heads


def _run(alembic_config, script, connection, steps, prepare, destination, env) -> None:
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
            # multidb revisions: upgrade(engine_name) calls upgrade_<engine_name>()
            context.run_migrations(**({"engine_name": env.engine} if env and env.engine else {}))
    connection.commit()


def upgrade_one(script, revision: str):
    from alembic.runtime.migration import MigrationStep

    return [MigrationStep.upgrade_from_script(script.revision_map, script.get_revision(revision))]


def downgrade_one(script, revision: str):
    from alembic.runtime.migration import MigrationStep

    return [MigrationStep.downgrade_from_script(script.revision_map, script.get_revision(revision))]
