"""Alembic's private API, as expandcontract uses it (``alembic_integration/internals``):
each use checked on the installed Alembic for shape and behaviour, so a release that
moves one fails here, by name, not in a user's deploy. Needs no database."""

from __future__ import annotations

import inspect
from pathlib import Path

import alembic
import pytest
from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from packaging.version import Version
from sqlalchemy import create_engine

from expandcontract.alembic_integration import internals


def test_the_installed_alembic_is_one_the_adapter_was_checked_against() -> None:
    """A new Alembic minor is checked by this file, then added to CHECKED."""
    installed = Version(alembic.__version__)
    assert f"{installed.major}.{installed.minor}" in internals.CHECKED, (
        f"Alembic {alembic.__version__} is not in internals.CHECKED: run this file, then add it"
    )


@pytest.fixture
def project(tmp_path: Path) -> Config:
    config = Config(str(tmp_path / "alembic.ini"))
    config.set_main_option("script_location", str(tmp_path / "migrations"))
    config.set_main_option("version_locations", f"{tmp_path / 'a'} {tmp_path / 'b'}")
    config.set_main_option("path_separator", "space")
    command.init(config, str(tmp_path / "migrations"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    command.revision(config, "one", rev_id="r1", version_path=str(tmp_path / "a"))
    command.revision(config, "two", rev_id="r2", version_path=str(tmp_path / "b"))
    return config


def test_version_locations(project: Config, tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(project)
    found = [Path(p).resolve() for p in internals.version_locations(script)]
    assert found == [(tmp_path / "a").resolve(), (tmp_path / "b").resolve()]


def test_upgrade_steps(project: Config) -> None:
    script = ScriptDirectory.from_config(project)
    steps = internals.upgrade_steps(script, "heads", ())
    assert [step.revision.revision for step in steps] == ["r1", "r2"]
    assert internals.upgrade_steps(script, "heads", ("r2",)) == []


def test_statement_executor_sees_every_op_statement() -> None:
    """What lock_timeout and verify's trace rely on: every op.* statement passes through
    the wrapped executor, with the construct as its first argument."""
    import sqlalchemy as sa
    from alembic.operations import Operations

    engine = create_engine("sqlite://")
    seen = []
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        original = internals.statement_executor(context.impl)
        assert callable(original)
        assert "construct" in inspect.signature(original).parameters

        def wrapper(inner):
            def recorded(construct, *args, **kwargs):
                seen.append(str(construct))
                return inner(construct, *args, **kwargs)

            return recorded

        internals.wrap_statement_executor(context.impl, wrapper)
        operations = Operations(context)
        operations.execute("CREATE TABLE t (a int)")
        operations.add_column("t", sa.Column("b", sa.Integer))
    assert seen[0] == "CREATE TABLE t (a int)"
    assert "ALTER TABLE t ADD COLUMN b INTEGER" in seen[1]


def test_batch_recreates() -> None:
    """``batch_alter_table`` tells whether it copies the table: on SQLite an ALTER
    COLUMN does, an ADD COLUMN does not."""
    import sqlalchemy as sa
    from alembic.operations import Operations

    engine = create_engine("sqlite://")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (a int)")
        operations = Operations(MigrationContext.configure(connection))
        answers = []
        for change in ("add", "alter"):
            with operations.batch_alter_table("t") as batch:
                if change == "add":
                    batch.add_column(sa.Column(f"c_{change}", sa.Integer))
                else:
                    batch.alter_column("a", type_=sa.Text)
                answers.append(internals.batch_recreates(batch.impl))
    assert answers == [False, True]


def test_module_proxies(project: Config) -> None:
    """alembic.op and alembic.context answer for the given objects inside the block
    only, and op.* calls reach the target."""
    from alembic import context as alembic_context
    from alembic import op
    from alembic.operations import Operations

    engine = create_engine("sqlite://")
    script = ScriptDirectory.from_config(project)
    calls = []

    class Target:
        def __getattr__(self, name):
            return lambda *a, **k: calls.append(name)

    with engine.connect() as connection:
        migration = MigrationContext.configure(connection)
        operations = Operations(migration)
        environment = EnvironmentContext(project, script)
        with internals.module_proxies(operations, environment, Target()):
            op.add_column("t", None)
            assert alembic_context.config is project
        assert calls == ["add_column"]
        with pytest.raises((NameError, AttributeError)):  # no proxy outside the block
            op.add_column("t", None)
