"""Linting Alembic revisions natively: real Alembic projects written to a temp dir."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract.cli import cli

HEADER = """\
from alembic import op
import sqlalchemy as sa

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None

"""


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions = root / "migrations" / "versions"
        self.versions.mkdir(parents=True)
        (root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
        (root / "migrations" / "env.py").write_text("raise RuntimeError('env.py must not run')\n")

    def revision(self, rev, down, upgrade, downgrade="pass", labels=None, name=None) -> Path:
        body = HEADER.format(rev=rev, down=down, labels=labels)
        body += "def upgrade():\n" + textwrap.indent(
            textwrap.dedent(upgrade).strip() or "pass", "    "
        )
        body += "\n\n\ndef downgrade():\n" + textwrap.indent(
            textwrap.dedent(downgrade).strip(), "    "
        )
        path = self.versions / f"{name or rev}.py"
        path.write_text(body + "\n")
        return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)
    proj = Project(tmp_path)
    proj.revision(
        "base",
        None,
        'op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("email", sa.Text))',
    )
    return proj


def lint(*args: str) -> tuple[int, list[dict]]:
    result = CliRunner().invoke(cli, ["lint", "--format", "json", "--ignore", "EC004", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)["findings"]


def at(findings: list[dict]) -> list[tuple[str, int, str]]:
    return [(Path(f["path"]).name, f["line"], f["code"]) for f in findings]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_each_unsafe_op_is_reported_at_its_own_line(project: Project) -> None:
    path = project.revision(
        "r1",
        "base",
        """
        op.add_column("users", sa.Column("token", sa.Text, server_default=sa.text("gen_random_uuid()::text")))
        op.create_index("ix_users_email", "users", ["email"])
        op.alter_column("users", "email", nullable=False)
        op.alter_column("users", "id", type_=sa.Integer)
        op.create_foreign_key("fk", "users", "users", ["id"], ["id"])
        op.create_check_constraint("ck", "users", "id > 0")
        op.create_unique_constraint("uq", "users", ["email"])
        op.drop_column("users", "email")
        op.execute("UPDATE users SET email = lower(email)")
        op.execute(sa.text("ALTER TABLE users RENAME COLUMN id TO user_id"))
        op.rename_table("users", "people")
        op.drop_table("people")
    """,
    )
    code, findings = lint(str(path))
    assert code == 1
    expected = [
        ("token", "EC101"),
        ("ix_users_email", "EC301"),
        ("nullable=False", "EC112"),
        ("type_=sa.Integer", "EC110"),
        ("create_foreign_key", "EC202"),
        ("create_check_constraint", "EC201"),
        ("create_unique_constraint", "EC203"),
        ("drop_column", "EC108"),
        ("UPDATE users", "EC501"),
        ("RENAME COLUMN", "EC109"),
        ("rename_table", "EC401"),
        ("drop_table", "EC402"),
    ]
    assert at(findings) == [("r1.py", line_of(path, needle), c) for needle, c in expected]
    assert all(f["column"] == 5 for f in findings)
    # unphased: breaking changes carry the hint to split into phases
    drop = next(f for f in findings if f["code"] == "EC108")
    assert "no phase branch" in drop["hint"]


def test_safe_spellings_are_not_reported(project: Project) -> None:
    path = project.revision(
        "r1",
        "base",
        """
        op.execute("SET lock_timeout = '2s'")
        op.create_table("orders", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("user_id", sa.BigInteger))
        op.create_index("ix_orders_user", "orders", ["user_id"])
        op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"])
        op.add_column("users", sa.Column("created", sa.DateTime, server_default=sa.text("now()")))
        op.add_column("users", sa.Column("flag", sa.Boolean, server_default=sa.false(), nullable=False))
        op.create_check_constraint("ck_id", "users", "id > 0", postgresql_not_valid=True)
        op.create_foreign_key("fk_self", "users", "users", ["id"], ["id"], postgresql_not_valid=True)
        with op.get_context().autocommit_block():
            op.create_index("ix_users_email", "users", ["email"], postgresql_concurrently=True, if_not_exists=True)
            op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck_id")
    """,
        downgrade="""
        with op.get_context().autocommit_block():
            op.drop_index("ix_users_email", table_name="users", postgresql_concurrently=True)
        op.drop_constraint("fk_self", "users")
        op.drop_constraint("ck_id", "users")
        op.drop_column("users", "flag")
        op.drop_column("users", "created")
        op.drop_table("orders")
    """,
    )
    assert lint(str(path)) == (0, [])


def test_concurrently_outside_autocommit_block_is_an_error(project: Project) -> None:
    path = project.revision(
        "r1",
        "base",
        """
        op.create_index("ix", "users", ["email"], postgresql_concurrently=True)
    """,
    )
    assert at(lint(str(path))[1]) == [("r1.py", line_of(path, "ix"), "EC302")]


def test_validate_in_the_same_revision_transaction(project: Project) -> None:
    path = project.revision(
        "r1",
        "base",
        """
        op.create_check_constraint("ck", "users", "id > 0", postgresql_not_valid=True)
        op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck")
    """,
    )
    assert [f["code"] for f in lint(str(path))[1]] == ["EC205"]


def test_python_suppression_on_the_line_or_above(project: Project) -> None:
    path = project.revision(
        "r1",
        "base",
        """
        op.create_index("ix_a", "users", ["email"])  # expandcontract: ignore EC301 -- tiny table
        # expandcontract: ignore create-index-not-concurrently -- tiny table
        op.create_index("ix_b", "users", ["email"])
        op.create_index("ix_c", "users", ["email"])
        # expandcontract: ignore drop-table -- nothing to drop here
        op.execute("SELECT 1")
    """,
    )
    findings = lint(str(path))[1]
    assert at(findings) == [
        ("r1.py", line_of(path, "ix_c"), "EC301"),
        ("r1.py", line_of(path, "nothing to drop"), "EC002"),
    ]


def test_revision_that_does_not_import_is_a_finding_and_others_go_on(project: Project) -> None:
    broken = project.versions / "broken.py"
    broken.write_text(
        "revision = 'x'\ndown_revision = 'base'\nimport no_such_module_here\n\ndef upgrade():\n    pass\n"
    )
    syntax = project.versions / "syntax.py"
    syntax.write_text("revision = 'y'\ndown_revision = 'base'\n\ndef upgrade(:\n    pass\n")
    bad = project.revision("r1", "base", 'op.create_index("ix", "users", ["email"])')
    code, findings = lint(str(project.versions))
    assert code == 1
    assert ("broken.py", 3, "EC005") in at(findings)
    assert ("syntax.py", 4, "EC005") in at(findings)
    assert ("r1.py", line_of(bad, '"ix"'), "EC301") in at(findings)
    message = next(f["message"] for f in findings if f["path"].endswith("broken.py"))
    assert "no_such_module_here" in message


def test_project_discovery_without_running_env_py(project: Project) -> None:
    project.revision("r1", "base", 'op.create_index("ix", "users", ["email"])')
    for args in ((), ("alembic.ini",), ("migrations/versions",)):
        code, findings = lint(*args)
        assert code == 1 and [f["code"] for f in findings] == ["EC301"], args
    Path("alembic.ini").unlink()
    Path("pyproject.toml").write_text('[tool.alembic]\nscript_location = "migrations"\n')
    assert lint()[0] == 1


def phased(project: Project) -> None:
    for phase in ("expand", "migrate", "switch", "contract"):
        project.revision(f"{phase}0", "base", "pass", labels=(phase,))


@pytest.mark.parametrize(
    ("phase", "upgrade", "code"),
    [
        ("expand", 'op.drop_column("users", "email")', "EC601"),
        ("expand", 'op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck")', "EC601"),
        ("migrate", 'op.add_column("users", sa.Column("x", sa.Text))', "EC602"),
        ("switch", 'op.drop_column("users", "email")', "EC603"),
        ("contract", 'op.add_column("users", sa.Column("x", sa.Text))', "EC604"),
    ],
)
def test_phase_violations(project: Project, phase: str, upgrade: str, code: str) -> None:
    phased(project)
    path = project.revision("r1", f"{phase}0", upgrade)
    codes = [f["code"] for f in lint(str(path))[1]]
    assert code in codes


def test_each_phase_accepts_its_own_work(project: Project) -> None:
    phased(project)
    revisions = {
        "expand": (
            'op.add_column("users", sa.Column("email2", sa.Text))',
            'op.drop_column("users", "email2")',
        ),
        "migrate": (
            'op.execute("UPDATE users SET email2 = email WHERE id > 0 AND id <= 1000")',
            "pass",
        ),
        "switch": (
            'op.create_check_constraint("ck", "users", "email2 IS NOT NULL", postgresql_not_valid=True)',
            'op.drop_constraint("ck", "users")',
        ),
        "contract": (
            'op.drop_column("users", "email")',
            'op.add_column("users", sa.Column("email", sa.Text))',
        ),
    }
    for phase, (up, down) in revisions.items():
        path = project.revision(f"{phase}1", f"{phase}0", up, down)
        assert lint(str(path)) == (0, []), phase


def test_changed_since_lints_only_changed_revisions(project: Project) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], check=True, capture_output=True)

    project.revision("r1", "base", 'op.create_index("ix1", "users", ["email"])')
    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    project.revision("r2", "r1", 'op.create_index("ix2", "users", ["email"])')
    _, findings = lint("--changed-since", "HEAD", str(project.versions))
    assert at(findings) == [("r2.py", line_of(project.versions / "r2.py", "ix2"), "EC301")]
    result = CliRunner().invoke(cli, ["lint", "--changed-since", "no-such-ref", "."])
    assert result.exit_code == 2 and "no-such-ref" in result.stderr


def test_validate_in_a_later_revision_of_the_same_transaction(project: Project) -> None:
    project.revision(
        "r1",
        "base",
        'op.create_check_constraint("ck", "users", "id > 0", postgresql_not_valid=True)',
    )
    r2 = project.revision("r2", "r1", 'op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck")')
    # Alembic's default: one `alembic upgrade` runs r1 and r2 in one transaction
    findings = lint(str(project.versions))[1]
    assert at(findings) == [("r2.py", line_of(r2, "VALIDATE"), "EC205")]
    assert "revision r1" in findings[0]["message"]
    # transaction_per_migration=True in env.py (read, not run) separates them
    env = project.root / "migrations" / "env.py"
    env.write_text(env.read_text() + "context.configure(transaction_per_migration=True)\n")
    assert lint(str(project.versions)) == (0, [])


def test_autocommit_block_between_revisions_ends_the_shared_transaction(project: Project) -> None:
    project.revision(
        "r1",
        "base",
        """
        op.create_check_constraint("ck", "users", "id > 0", postgresql_not_valid=True)
        with op.get_context().autocommit_block():
            op.execute("SELECT 1")
    """,
    )
    project.revision("r2", "r1", 'op.execute("ALTER TABLE users VALIDATE CONSTRAINT ck")')
    assert lint(str(project.versions)) == (0, [])
