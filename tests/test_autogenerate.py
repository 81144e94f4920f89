"""`alembic revision --autogenerate` with `**phased()` in env.py, on real PostgreSQL.

For each model change: the phases written, that they lint clean, apply phase by phase
with the old and the new model both reading and writing where phases.md says they
must, verify clean, and leave `alembic check` with nothing to report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from expandcontract.cli import cli
from expandcontract.config import Config
from expandcontract.lint.runner import Options, lint_paths
from expandcontract.urls import sqlalchemy_url
from tests.conftest import ADMIN_URL

ENV_PY = """
import importlib.util
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine

from expandcontract.alembic_integration.autogenerate import phased

spec = importlib.util.spec_from_file_location("models", Path(__file__).parents[1] / "models.py")
models = importlib.util.module_from_spec(spec)
spec.loader.exec_module(models)

with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as connection:
    context.configure(connection=connection, target_metadata=models.metadata, **phased())
    with context.begin_transaction():
        context.run_migrations()
"""

V1 = """
users = sa.Table("users", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("score", sa.Integer),
)
teams = sa.Table("teams", metadata, sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False))
legacy = sa.Table("legacy", metadata, sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
                  sa.Column("note", sa.Text))
"""

# scenario -> (model source after the change, the phases expected)
SCENARIOS = {
    "not null column with a server default": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("tier", sa.Text, nullable=False, server_default="free"),',
        ),
        ["expand", "migrate", "switch"],
    ),
    "not null column with a backfill expression": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("handle", sa.Text, nullable=False,'
            ' info={"expandcontract": {"backfill": "lower(name)"}}),',
        ),
        ["expand", "migrate", "switch", "contract"],
    ),
    "dropped column": (V1.replace('    sa.Column("score", sa.Integer),\n', ""), ["contract"]),
    "dropped table": (V1[: V1.index("legacy = ")], ["contract"]),
    "type change": (
        V1.replace('sa.Column("score", sa.Integer)', 'sa.Column("score", sa.BigInteger)'),
        ["expand", "migrate", "switch", "contract"],
    ),
    "nullable to not null": (
        V1.replace('sa.Column("email", sa.Text)', 'sa.Column("email", sa.Text, nullable=False)'),
        ["switch"],
    ),
    "new index": (V1 + 'sa.Index("ix_users_score", users.c.score)\n', ["expand"]),
    "new unique constraint": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.UniqueConstraint("email", name="uq_users_email"),',
        ),
        ["expand", "switch"],
    ),
    "new foreign key": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("team_id", sa.BigInteger, sa.ForeignKey("teams.id")),',
        ),
        ["expand", "switch"],
    ),
    "rename by renamed_from": (
        V1.replace(
            'sa.Column("name", sa.Text, nullable=False)',
            'sa.Column("full_name", sa.Text, nullable=False,'
            ' info={"expandcontract": {"renamed_from": "name"}})',
        ),
        ["expand", "migrate", "switch", "contract"],
    ),
    "safe changes only": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("bio", sa.Text),',
        )
        + 'extra = sa.Table("extra", metadata, sa.Column("id", sa.BigInteger, primary_key=True))\n',
        ["expand"],
    ),
}


class Project:
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        (root / "migrations" / "versions").mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(ENV_PY)
        (root / "migrations" / "script.py.mako").write_text(
            (
                Path(sa.__file__).parents[1]
                / "alembic"
                / "templates"
                / "generic"
                / "script.py.mako"
            ).read_text()
        )
        (root / "alembic.ini").write_text(
            f"[alembic]\nscript_location = migrations\nsqlalchemy.url = {url}\n"
        )

    def models(self, source: str) -> sa.MetaData:
        text = "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n" + textwrap.dedent(source)
        (self.root / "models.py").write_text(text)
        namespace: dict = {}
        exec(compile(text, "models.py", "exec"), namespace)
        return namespace["metadata"]

    def alembic(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "alembic", *args], cwd=self.root, capture_output=True, text=True
        )

    def autogenerate(self) -> list[Path]:
        before = set(self.versions())
        result = self.alembic("revision", "--autogenerate", "-m", "change")
        assert result.returncode == 0, result.stdout + result.stderr
        return sorted(
            set(self.versions()) - before, key=lambda p: PHASE_ORDER[p.name.split("_")[1]]
        )

    def versions(self) -> list[Path]:
        return list((self.root / "migrations" / "versions").glob("*.py"))

    def phase(self, action: str, phase: str) -> None:
        result = CliRunner().invoke(cli, [action, phase, "-c", str(self.root / "alembic.ini")])
        assert result.exit_code == 0, result.output


PHASE_ORDER = {"expand": 0, "migrate": 1, "switch": 2, "contract": 3}


def _value(column: sa.Column, n: int):
    if column.foreign_keys:
        return 1
    if isinstance(column.type, sa.Integer):
        return n
    return f"v{n}"


def app_works(engine: sa.Engine, metadata: sa.MetaData, n: int) -> None:
    """An app version's writes and reads: insert a row into every table, read them all."""
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            values = {
                c.name: _value(c, n)
                for c in table.columns
                if c.server_default is None or c.primary_key
            }
            conn.execute(table.insert().values(**values))
            conn.execute(sa.select(table)).fetchall()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_autogenerated_phases(scenario: str, tmp_path: Path, database_url: str) -> None:
    url = sqlalchemy_url(database_url)
    project = Project(tmp_path, url)
    engine = sa.create_engine(url)

    old = project.models(V1)
    (first,) = project.autogenerate()  # new tables: one expand revision, nothing else
    assert "_expand_" in first.name
    project.phase("upgrade", "expand")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO teams VALUES (1)"))
        conn.execute(
            sa.text(
                "INSERT INTO users SELECT g, 'n' || g, 'e' || g, g FROM generate_series(1, 30) g"
            )
        )
        conn.execute(sa.text("INSERT INTO legacy SELECT g, 'x' FROM generate_series(1, 5) g"))

    source, expected = SCENARIOS[scenario]
    new = project.models(source)
    written = project.autogenerate()
    assert [p.name.split("_")[1] for p in written] == expected

    report, problems = lint_paths([str(p) for p in written], Config(), Options())
    assert not problems and report.errors == 0, [f"{f.code} {f.message}" for f in report.findings]

    n = iter(range(1000, 2000))
    for phase in expected:
        project.phase("upgrade", phase)
        if phase in ("expand", "migrate", "switch"):
            app_works(engine, old, next(n))
        if phase in ("switch", "contract") or (phase == expected[-1] and phase == "expand"):
            app_works(engine, new, next(n))
    check = project.alembic("check")
    assert check.returncode == 0, check.stdout + check.stderr

    result = CliRunner().invoke(
        cli,
        [
            "verify",
            "-c",
            str(tmp_path / "alembic.ini"),
            "--database-url",
            ADMIN_URL,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    statuses = {r["status"] for r in json.loads(result.stdout)["revisions"]}
    assert statuses <= {"ok", "irreversible"}

    for phase in reversed(expected):
        project.phase("downgrade", phase)
    app_works(engine, old, next(n))
    engine.dispose()


# NOT NULL with nothing to fill existing rows with
V1_WITH_REGION = V1.replace(
    'sa.Column("score", sa.Integer),',
    'sa.Column("score", sa.Integer),\n    sa.Column("region", sa.Text, nullable=False),',
)


def _applied_v1(tmp_path: Path, database_url: str) -> Project:
    project = Project(tmp_path, sqlalchemy_url(database_url))
    project.models(V1)
    project.autogenerate()
    project.phase("upgrade", "expand")
    return project


def test_a_change_it_cannot_make_safe_is_written_with_a_comment_and_a_lint_error(
    tmp_path: Path, database_url: str
) -> None:
    project = _applied_v1(tmp_path, database_url)
    project.models(V1_WITH_REGION)
    (written,) = project.autogenerate()
    text = written.read_text()
    assert "cannot make this change lock-safe automatically" in text
    report, _ = lint_paths([str(written)], Config(), Options())
    assert "EC105" in {f.code for f in report.findings if f.severity == "error"}


def test_the_post_write_lint_hook_runs_on_the_phases_autogenerate_writes(
    tmp_path: Path, database_url: str
) -> None:
    project = _applied_v1(tmp_path, database_url)
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + "\n[post_write_hooks]\nhooks = expandcontract\nexpandcontract.type = expandcontract\n"
    )
    project.models(V1_WITH_REGION)
    result = project.alembic("revision", "--autogenerate", "-m", "region")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "EC105" in result.stdout + result.stderr
    assert "error(s) in" in result.stdout + result.stderr


SCHEMA_V1 = """
invoices = sa.Table("invoices", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    schema="billing",
)
decoy = sa.Table("invoices", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
)
"""


def test_a_change_in_another_schema_is_written_and_run_there(
    tmp_path: Path, database_url: str
) -> None:
    """A type change, an index and a NOT NULL column on billing.invoices, with a
    public.invoices beside it that must not be touched."""
    url = sqlalchemy_url(database_url)
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA billing"))
    project = Project(tmp_path, url)
    env = project.root / "migrations" / "env.py"
    env.write_text(env.read_text().replace("**phased()", "include_schemas=True, **phased()"))
    project.models(SCHEMA_V1)
    project.autogenerate()
    project.phase("upgrade", "expand")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in ("billing.invoices", "invoices"):
            conn.execute(
                sa.text(f"INSERT INTO {table} SELECT g, g, 'n' || g FROM generate_series(1, 20) g")
            )
    changed = SCHEMA_V1.replace(
        'sa.Column("amount", sa.Integer, nullable=False),\n    sa.Column("note", sa.Text),\n    schema',
        'sa.Column("amount", sa.BigInteger, nullable=False),\n    sa.Column("note", sa.Text),\n'
        '    sa.Column("state", sa.Text, nullable=False, server_default="open"),\n'
        '    sa.Index("ix_invoices_note", "note"),\n    schema',
    )
    assert changed != SCHEMA_V1
    project.models(changed)
    written = project.autogenerate()
    assert [p.name.split("_")[1] for p in written] == ["expand", "migrate", "switch", "contract"]
    for phase in ("expand", "migrate", "switch", "contract"):
        project.phase("upgrade", phase)

    def shape(conn) -> dict:
        columns = conn.execute(
            sa.text(
                "SELECT table_schema || '.' || column_name, data_type FROM "
                "information_schema.columns WHERE table_name = 'invoices' ORDER BY 1"
            )
        ).fetchall()
        indexes = conn.execute(
            sa.text(
                "SELECT schemaname || '.' || indexname FROM pg_indexes WHERE tablename = 'invoices'"
            )
        ).fetchall()
        return {"columns": dict(columns), "indexes": sorted(i[0] for i in indexes)}

    with engine.connect() as conn:
        after = shape(conn)
    assert after["columns"]["billing.amount"] == "bigint"
    assert after["columns"]["billing.state"] == "text"
    assert after["columns"]["public.amount"] == "integer"  # the decoy is untouched
    assert "public.state" not in after["columns"]
    assert "billing.ix_invoices_note" in after["indexes"]
    assert not any(i.startswith("public.ix_invoices_note") for i in after["indexes"])
    check = project.alembic("check")
    assert check.returncode == 0, check.stdout + check.stderr
    for phase in ("contract", "switch", "migrate", "expand"):
        project.phase("downgrade", phase)
    with engine.connect() as conn:
        back = shape(conn)
    assert back["columns"]["billing.amount"] == "integer"
    assert "billing.state" not in back["columns"]
    assert "billing.ix_invoices_note" not in back["indexes"]
    engine.dispose()
