"""A real Alembic project in a temp dir, on its own fresh database, for the phase tests."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from expandcontract.cli import cli

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

url = context.config.get_main_option("sqlalchemy.url")
with create_engine(url).connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
"""

BASE = '''
from alembic import op

revision = "r0001"
down_revision = None


def upgrade():
    op.execute("""{sql}""")


def downgrade():
    pass
'''


class PhaseProject:
    def __init__(self, root: Path, database_url: str, base_sql: str, pyproject: str = "") -> None:
        self.root = root
        self.url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        if "://" not in self.url:  # a libpq conninfo string
            params = dict(p.split("=", 1) for p in database_url.split())
            self.url = (
                f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
                f":{params.get('port', '5432')}/{params['dbname']}"
            )
        versions = root / "migrations" / "versions"
        versions.mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(ENV_PY)
        (root / "migrations" / "script.py.mako").write_text("")
        (root / "alembic.ini").write_text(
            f"[alembic]\nscript_location = {root / 'migrations'}\nsqlalchemy.url = {self.url}\n"
        )
        if pyproject:
            (root / "pyproject.toml").write_text(pyproject)
        (versions / "r0001_base.py").write_text(BASE.format(sql=base_sql))
        from alembic import command
        from alembic.config import Config

        command.upgrade(Config(str(root / "alembic.ini")), "r0001")

    def cli(self, *args: str):
        return CliRunner().invoke(cli, [*args], catch_exceptions=False)

    def new(self, *args: str) -> list[Path]:
        result = self.cli("new", *args, "-m", "change", "-c", str(self.root / "alembic.ini"))
        assert result.exit_code == 0, result.output
        return [Path(line) for line in result.stdout.split()]

    def phase(self, action: str, phase: str):
        return self.cli(action, phase, "-c", str(self.root / "alembic.ini"))
