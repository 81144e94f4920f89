"""What real Alembic revisions do, each pattern a small project written here and linted.

The patterns come from public projects' histories (a CKAN-style helper reading the
migration context's Config, warehouse's enum types created through the bind and
swapped for new ones, fides' row-count guards, dispatch's and lemur's SQLAlchemy 1.x
habits, autogenerate's index drops before their column's, batch operations, downgrades
that refuse to run, prefect's history per dialect, Flask-Migrate's layout), rewritten
small; none is copied.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract.cli import cli

HEADER = """\
from alembic import op
import sqlalchemy as sa
{extra}
revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None

"""


class Project:
    def __init__(self, root: Path, ini: str = "[alembic]\nscript_location = migrations\n"):
        self.root = root
        self.versions = root / "migrations" / "versions"
        self.versions.mkdir(parents=True)
        (root / "alembic.ini").write_text(ini)
        (root / "migrations" / "env.py").write_text("")

    def revision(
        self, rev, down, upgrade, downgrade="pass", extra="", folder: Path | None = None
    ) -> Path:
        body = HEADER.format(rev=rev, down=down, extra=extra)
        for name, code in (("upgrade", upgrade), ("downgrade", downgrade)):
            body += f"\ndef {name}():\n" + textwrap.indent(textwrap.dedent(code).strip(), "    ")
            body += "\n\n"
        path = (folder or self.versions) / f"{rev}.py"
        path.write_text(body)
        return path


BASE = """
op.create_table("users", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.Text),
                sa.Column("status", sa.Text), sa.Column("legacy", sa.Text))
op.create_index("ix_users_legacy", "users", ["legacy"])
op.create_index("ix_users_email", "users", ["email"])
op.create_table("logs", sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.Integer))
op.create_index("ix_logs_at", "logs", ["at"])
op.execute("CREATE TYPE mood AS ENUM ('happy', 'sad')")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    proj = Project(tmp_path)
    proj.revision("r0", None, BASE)
    return proj


def lint(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, ["lint", "--format", "json", "--no-cache", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


def of(findings: list[dict], name: str, *ignore: str) -> list[tuple[int, str]]:
    return [
        (f["line"], f["code"])
        for f in findings
        if Path(f["path"]).name == name and f["code"] not in ("EC004", *ignore)
    ]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_the_migration_context_has_the_project_config(project: Project) -> None:
    (project.root / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nlegacy_version = 7\n"
    )
    path = project.revision(
        "r1",
        "r0",
        """
        config = op.get_context().config
        if int(config.get_main_option("legacy_version") or 0) >= 5:
            op.create_index("ix_users_status", "users", ["status"])
        """,
    )
    assert of(lint(), "r1.py") == [(line_of(path, "ix_users_status"), "EC301")]


def test_the_bind_is_a_real_connection_whose_catalog_is_the_history(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        bind = op.get_bind()
        assert bind.engine.url.get_backend_name() == "postgresql"
        assert bind.dialect.name == "postgresql"
        inspector = sa.inspect(bind)
        if not inspector.has_table("users"):
            op.create_table("users", sa.Column("id", sa.Integer))
        if "email" in [c["name"] for c in inspector.get_columns("users")]:
            op.alter_column("users", "email", nullable=False)
        if "ix_users_email" in [i["name"] for i in inspector.get_indexes("users")]:
            op.drop_index("ix_users_email", table_name="users")
        with bind.connect() as conn:
            conn.execute(sa.text("UPDATE users SET status = 'new'"))
        rows = bind.execute(sa.text("SELECT id, email FROM users"))
        assert list(rows.keys()) and rows.mappings().all() == []
        bind.execute("DELETE FROM logs")  # SQLAlchemy 1.x: a string
        """,
    )
    assert of(lint(), "r1.py") == [
        (line_of(path, "nullable=False"), "EC112"),
        (line_of(path, "drop_index"), "EC303"),
        (line_of(path, "UPDATE users"), "EC501"),
        (line_of(path, "DELETE FROM logs"), "EC501"),
    ]


def test_types_created_through_the_bind_and_orm_sessions(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        bind = op.get_bind()
        sa.Enum("happy", "sad", name="mood").create(bind, checkfirst=True)  # exists: skipped
        color = postgresql.ENUM("red", "blue", name="color")
        color.create(bind)
        op.add_column("users", sa.Column("color", color))
        session = Session(bind=bind)
        for user in session.query(User).filter(User.email.is_(None)).all():
            user.email = "unknown"
        session.commit()
        op.create_index("ix_users_color", "users", ["color"])
        """,
        extra=textwrap.dedent(
            """
            from sqlalchemy.dialects import postgresql
            from sqlalchemy.orm import Session, declarative_base

            Base = declarative_base()


            class User(Base):
                __tablename__ = "users"
                id = sa.Column(sa.Integer, primary_key=True)
                email = sa.Column(sa.Text)
            """
        ),
    )
    findings = lint()
    assert of(findings, "r1.py") == [(line_of(path, "ix_users_color"), "EC301")]
    report = CliRunner().invoke(cli, ["lint", "--format", "json", "--no-cache", str(path)])
    assert json.loads(report.stdout)["statements"] >= 4  # CREATE TYPE color, ADD COLUMN, ...


def test_a_count_guard_takes_the_branch_of_an_empty_table(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        rows = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM users")).scalar()
        if rows < 1000000:
            op.create_index("ix_users_status", "users", ["status"])
        first = op.get_bind().execute(sa.text("SELECT count(*) FROM logs")).fetchone()[0]
        assert first == 0
        """,
    )
    assert of(lint(), "r1.py") == [(line_of(path, "ix_users_status"), "EC301")]


def test_the_server_version_is_the_one_linted_for(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        bind = op.get_bind()
        major = int(bind.execute("SHOW server_version;").fetchone()[0].split(".")[0])
        number = int(bind.execute(sa.text("SELECT current_setting('server_version_num')")).scalar())
        assert number == major * 10000
        if major >= 11:
            op.add_column("users", sa.Column("n", sa.Integer, server_default="0", nullable=False))
        else:
            op.create_index("ix_users_status", "users", ["status"])
        """,
    )
    assert of(lint("--pg-version", "15"), "r1.py") == []  # PG 11+: the default is free
    assert of(lint("--pg-version", "10"), "r1.py") == [(line_of(path, "ix_users_status"), "EC301")]


def test_env_py_imports_run_first(project: Project) -> None:
    """A plugin that registers an operation, imported by env.py only."""
    (project.root / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nprepend_sys_path = .\npath_separator = os\n"
    )
    (project.root / "ec_lr_plugin.py").write_text(
        textwrap.dedent(
            """
            from alembic.operations import MigrateOperation, Operations


            @Operations.register_operation("recreate_view")
            class RecreateView(MigrateOperation):
                def __init__(self, name, sql):
                    self.name, self.sql = name, sql

                @classmethod
                def recreate_view(cls, operations, name, sql):
                    return operations.invoke(cls(name, sql))

                def to_sql(self):
                    return f"DROP VIEW {self.name}; CREATE VIEW {self.name} AS {self.sql}"


            @Operations.implementation_for(RecreateView)
            def recreate_view(operations, operation):
                operations.execute(operation.to_sql())
            """
        )
    )
    (project.root / "migrations" / "env.py").write_text(
        "import ec_lr_plugin  # noqa: F401\nraise RuntimeError('only the imports run')\n"
    )
    path = project.revision("r1", "r0", 'op.recreate_view("active", "SELECT 1")')
    assert of(lint(), "r1.py") == [(line_of(path, "recreate_view"), "EC411")]


def test_a_downgrade_that_raises_on_purpose_is_irreversible(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        'op.add_column("users", sa.Column("nick", sa.Text))',
        downgrade="""
        op.drop_index("ix_logs_at", table_name="logs")
        raise NotImplementedError("the old addresses cannot be rebuilt")
        """,
    )
    # the statements before the raise are judged; the raise is no revision-error
    assert of(lint(), "r1.py") == [(line_of(path, "drop_index"), "EC303")]


def test_an_accidental_error_in_a_downgrade_is_still_reported(project: Project) -> None:
    path = project.revision("r1", "r0", "pass", downgrade='op.drop_column("users", undefined_name)')
    assert of(lint(), "r1.py") == [(line_of(path, "undefined_name"), "EC005")]


def test_index_drops_made_moot_by_a_later_drop(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        op.drop_index("ix_users_legacy", table_name="users")
        op.drop_index("ix_users_email", table_name="users")
        op.drop_column("users", "legacy")
        op.drop_index("ix_logs_at")
        op.execute("DROP INDEX IF EXISTS ix_logs_at")
        op.drop_table("logs")
        """,
    )
    assert of(lint(), "r1.py") == [
        (line_of(path, '"ix_users_email"'), "EC303"),  # its column stays: a real drop
        (line_of(path, "drop_column"), "EC108"),
        (line_of(path, "drop_table"), "EC402"),
    ]


def test_an_index_drop_in_a_batch_before_its_table_drop(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        with op.batch_alter_table("logs") as batch_op:
            batch_op.drop_index("ix_logs_at")
        with op.batch_alter_table("users") as batch_op:
            batch_op.drop_index("ix_users_email")
        op.drop_table("logs")
        """,
    )
    assert of(lint(), "r1.py") == [
        (line_of(path, '"ix_users_email"'), "EC303"),
        (line_of(path, "drop_table"), "EC402"),
    ]


def test_batch_operations_are_reported_at_their_own_lines(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        with op.batch_alter_table("users", schema=None) as batch_op:
            batch_op.add_column(sa.Column("nick", sa.Text))
            batch_op.alter_column("email", nullable=False)
            batch_op.create_index("ix_users_nick", ["nick"])
            batch_op.alter_column("status", existing_type=sa.Text, type_=sa.Integer)
        """,
    )
    assert of(lint(), "r1.py") == [
        (line_of(path, "nullable=False"), "EC112"),
        (line_of(path, "ix_users_nick"), "EC301"),
        (line_of(path, "type_=sa.Integer"), "EC110"),
    ]


def test_the_enum_swap_is_judged_as_its_column_rewrite(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        op.add_column("users", sa.Column("feeling", sa.Enum("happy", "sad", name="mood", create_type=False)))
        op.execute("ALTER TYPE mood RENAME TO mood_old")
        sa.Enum("happy", "sad", "meh", name="mood").create(op.get_bind())
        op.execute("ALTER TABLE users ALTER COLUMN feeling TYPE mood USING feeling::text::mood")
        op.execute("DROP TYPE mood_old")
        op.execute("DROP TYPE unrelated")
        """,
        downgrade="""
        op.execute("ALTER TYPE mood RENAME TO mood_new; CREATE TYPE mood AS ENUM ('happy', 'sad'); "
                   "ALTER TABLE users ALTER COLUMN feeling TYPE mood USING feeling::text::mood; "
                   "DROP TYPE mood_new")
        """,
    )
    found = of(lint(), "r1.py", "EC108")
    assert found == [
        (line_of(path, "ALTER TABLE users ALTER COLUMN"), "EC110"),
        (line_of(path, "unrelated"), "EC411"),  # a drop with no swap is still one
        (line_of(path, "RENAME TO mood_new"), "EC110"),
    ]


def test_missing_lock_timeout_names_the_table_of_an_index(project: Project) -> None:
    path = project.revision("r1", "r0", 'op.drop_index("ix_users_email")')
    (warning,) = [f for f in lint() if f["code"] == "EC004" and f["path"].endswith("r1.py")]
    assert warning["line"] == line_of(path, "drop_index")
    assert "on users with no lock_timeout" in warning["message"], warning
    project.revision("r2", "r1", 'op.execute("DROP TYPE mood")')
    assert not [f for f in lint() if f["code"] == "EC004" and f["path"].endswith("r2.py")]


def test_version_locations_are_searched_as_alembic_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history per dialect (versions/postgresql, versions/sqlite, chosen in env.py):
    Alembic loads neither from versions/ unless recursive_version_locations is on."""
    monkeypatch.chdir(tmp_path)
    proj = Project(tmp_path)
    for dialect in ("postgresql", "sqlite"):
        (proj.versions / dialect).mkdir()
        proj.revision(f"{dialect}1", None, "pass", folder=proj.versions / dialect)
    proj.revision("top", None, 'op.create_index("ix", "t", ["c"])')
    linted = CliRunner().invoke(cli, ["lint", "--format", "json", "--no-cache", "alembic.ini"])
    assert json.loads(linted.stdout)["files"] == 1
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\nrecursive_version_locations = true\n"
    )
    linted = CliRunner().invoke(cli, ["lint", "--format", "json", "--no-cache", "alembic.ini"])
    assert json.loads(linted.stdout)["files"] == 3


def test_a_multi_section_ini_is_linted_per_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for section in ("core", "tenant"):
        (tmp_path / section / "versions").mkdir(parents=True)
        (tmp_path / section / "env.py").write_text("")
    (tmp_path / "alembic.ini").write_text(
        "[alembic]\n[core]\nscript_location = core\n[tenant]\nscript_location = tenant\n"
    )
    proj = Project.__new__(Project)
    proj.versions = tmp_path / "tenant" / "versions"
    path = proj.revision("t1", None, 'op.create_index("ix", "t", ["c"])')
    found = lint("alembic.ini", "-n", "tenant")
    assert of(found, "t1.py") == [(line_of(path, "create_index"), "EC301")]
    result = CliRunner().invoke(cli, ["lint", "alembic.ini"])
    assert result.exit_code == 2 and "no script_location" in result.output
    assert "Traceback" not in result.output


def test_flask_migrate_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """migrations/alembic.ini with no script_location: Flask-Migrate sets it, in code."""
    monkeypatch.chdir(tmp_path)
    migrations = tmp_path / "migrations"
    (migrations / "versions").mkdir(parents=True)
    (migrations / "alembic.ini").write_text("[alembic]\n# template used to generate files\n")
    (migrations / "env.py").write_text("from flask import current_app  # not installed here\n")
    proj = Project.__new__(Project)
    proj.versions = migrations / "versions"
    path = proj.revision("f1", None, 'op.create_index("ix", "t", ["c"])')
    expected = [(line_of(path, "create_index"), "EC301")]
    assert of(lint("migrations/alembic.ini"), "f1.py") == expected
    assert of(lint(), "f1.py") == expected  # found from the project's root too


@pytest.fixture
def needs_a_server(project: Project) -> Path:
    """A revision whose code needs a real answer (a catalog read) before its ops."""
    return project.revision(
        "r1",
        "r0",
        """
        bind = op.get_bind()
        oid = bind.execute(sa.text("SELECT oid FROM pg_class WHERE relname = 'users'")).scalar_one()
        if oid:
            op.create_index("ix_users_status", "users", ["status"])
        op.add_column("users", sa.Column("token", sa.Text, server_default=sa.text("md5(random()::text)")))
        """,
    )


def test_execute_runs_what_cannot_be_rendered_offline(
    needs_a_server: Path, embedded_server: tuple[int, str]
) -> None:
    path = needs_a_server
    offline = of(lint(), "r1.py")
    assert offline == [(line_of(path, "scalar_one"), "EC005")]
    _, conninfo = embedded_server
    executed = of(lint("--execute", _url(conninfo)), "r1.py")
    assert executed == [
        (line_of(path, "ix_users_status"), "EC301"),
        (line_of(path, "md5(random()"), "EC101"),
    ]


def test_execute_says_when_a_revision_fails_on_postgresql_too(
    project: Project, embedded_server: tuple[int, str]
) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        missing = op.get_bind().execute(sa.text("SELECT id FROM users")).scalar_one()
        op.create_index("ix_users_status", "users", ["status"])
        """,
    )
    _, conninfo = embedded_server
    found = [f for f in lint("--execute", _url(conninfo)) if f["path"].endswith("r1.py")]
    assert [(f["line"], f["code"]) for f in found] == [(line_of(path, "scalar_one"), "EC005")]
    assert "fails on PostgreSQL too" in found[0]["message"], found


def test_execute_uses_the_embedded_postgresql_by_default(
    needs_a_server: Path, embedded_server: tuple[int, str]
) -> None:
    assert [code for _, code in of(lint("--execute"), "r1.py")] == ["EC301", "EC101"]


def _url(conninfo: str) -> str:
    import psycopg

    params = psycopg.conninfo.conninfo_to_dict(conninfo)
    return (
        f"postgresql://{params.get('user', 'postgres')}@/{params.get('dbname', 'postgres')}"
        f"?host={params['host']}&port={params.get('port', 5432)}"
    )


def test_the_output_of_alembic_upgrade_sql_is_linted_revision_by_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way to lint without importing anything: the SQL `alembic upgrade --sql`
    wrote (where the revisions' code may run), linted as a .sql file."""
    monkeypatch.chdir(tmp_path)
    sql = textwrap.dedent(
        """\
        BEGIN;

        CREATE TABLE alembic_version (
            version_num VARCHAR(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        );

        -- Running upgrade  -> r0

        CREATE TABLE users (id SERIAL NOT NULL, status TEXT, PRIMARY KEY (id));

        CREATE INDEX ix_users_id ON users (id);

        INSERT INTO alembic_version (version_num) VALUES ('r0') RETURNING alembic_version.version_num;

        -- Running upgrade r0 -> r1

        CREATE INDEX ix_users_status ON users (status);

        COMMIT;

        CREATE INDEX CONCURRENTLY ix_users_both ON users (id, status);

        BEGIN;

        UPDATE alembic_version SET version_num='r1' WHERE alembic_version.version_num = 'r0';

        COMMIT;
        """
    )
    (tmp_path / "upgrade.sql").write_text(sql)
    found = [(f["line"], f["code"]) for f in lint("upgrade.sql") if f["code"] != "EC004"]
    lines = sql.splitlines()
    # r1's index is on a table an earlier revision made: not new, so it blocks writes
    assert found == [(next(i for i, x in enumerate(lines, 1) if "ix_users_status" in x), "EC301")]


def test_a_table_created_earlier_in_the_function_is_there_to_reflect(project: Project) -> None:
    path = project.revision(
        "r1",
        "r0",
        """
        op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
        meta = sa.MetaData()
        meta.reflect(op.get_bind())
        tags, users = meta.tables["tags"], meta.tables["users"]
        op.execute(users.update().values(status=tags.c.name).where(users.c.id == tags.c.id))
        op.create_index("ix_users_status", "users", ["status"])
        """,
    )
    assert of(lint(), "r1.py") == [(line_of(path, "ix_users_status"), "EC301")]


def test_index_columns_are_known_from_batches_tables_and_names(project: Project) -> None:
    project.revision(
        "r1",
        "r0",
        """
        op.create_table("runs", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("queue_id", sa.Integer, index=True), sa.Column("pool", sa.Text),
                        sa.Column("state", sa.Text), sa.Index("runs_by_state", "state"))
        with op.batch_alter_table("runs") as batch_op:
            batch_op.create_index("runs_pool_lookup", ["pool"])
        op.create_index("runs_root_per_pool", "runs", ["id"], unique=True,
                        postgresql_where=sa.text("queue_id IS NULL"))
        """,
    )
    path = project.revision(
        "r2",
        "r1",
        """
        op.drop_index("runs_root_per_pool", table_name="runs")  # its predicate's column goes
        with op.batch_alter_table("runs") as batch_op:
            batch_op.drop_index("ix_runs_queue_id")
            batch_op.drop_index("runs_by_state")
            batch_op.drop_index("runs_pool_lookup")
            batch_op.drop_column("queue_id")
            batch_op.drop_column("state")
            batch_op.drop_column("pool")
        op.execute("DROP INDEX ix_users__status")  # its columns unknown: named for the column
        op.drop_column("users", "status")
        op.drop_index("ix_users_email_status")  # named for two columns: not moot
        op.drop_column("users", "email")
        """,
    )
    found = of(lint(), "r2.py")
    assert [code for _, code in found] == ["EC108"] * 3 + ["EC108", "EC303", "EC108"], found
    assert (line_of(path, "ix_users_email_status"), "EC303") in of(lint(), "r2.py")
