"""A change to check, made real: an Alembic project in a folder, and a template database.

:func:`build` writes a one-revision Alembic project creating the scenario's tables,
adds the change's phase revisions exactly as ``expandcontract new`` writes them,
and leaves a template database at the base revision, with its rows, that every
example of the checker copies.
"""

from __future__ import annotations

import uuid
from pathlib import Path

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

url = context.config.get_main_option("sqlalchemy.url")
with create_engine(url, poolclass=NullPool).connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

BASE = """
from alembic import op

revision = "r0001"
down_revision = None


def upgrade():
    op.execute({sql!r})


def downgrade():
    pass
"""


def build(folder: Path, server: str, base_sql: str, kind: str, arguments: dict) -> tuple[Path, str]:
    """The project's ``alembic.ini`` and the template database's name. The caller drops the
    template (:func:`drop`) when done."""
    import psycopg
    from alembic import command
    from alembic.config import Config

    from expandcontract.kinds import kinds
    from expandcontract.phases.writer import write_change
    from expandcontract.project import Project
    from expandcontract.urls import sqlalchemy_url

    template = f"ec_check_tmpl_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{template}"')
    url = sqlalchemy_url(psycopg.conninfo.make_conninfo(server, dbname=template))
    versions = folder / "migrations" / "versions"
    versions.mkdir(parents=True)
    (folder / "migrations" / "env.py").write_text(ENV_PY)
    (folder / "migrations" / "script.py.mako").write_text("")
    ini = folder / "alembic.ini"
    ini.write_text(
        f"[alembic]\nscript_location = {folder / 'migrations'}\n"
        f"sqlalchemy.url = {url.replace('%', '%%')}\n"
    )
    (versions / "r0001_base.py").write_text(BASE.format(sql=base_sql))
    command.upgrade(Config(str(ini)), "r0001")
    phases = kinds()[kind].phases(**arguments)
    write_change(Project.load(ini), kind, f"check {kind}", phases)
    return ini, template


def drop(server: str, template: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
