"""The Alembic plugin's post-write hook: `alembic revision` lints what it just wrote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = '''"""${message}"""
from alembic import op
import sqlalchemy as sa

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade():
    BODY


def downgrade():
    pass
'''


def make_project(root: Path, body: str, hook: bool = True) -> None:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "migrations" / "script.py.mako").write_text(TEMPLATE.replace("BODY", body))
    (root / "migrations" / "env.py").write_text(
        "raise RuntimeError('not run by alembic revision')\n"
    )
    ini = "[alembic]\nscript_location = migrations\n"
    if hook:
        ini += (
            "\n[post_write_hooks]\nhooks = expandcontract\nexpandcontract.type = expandcontract\n"
        )
    (root / "alembic.ini").write_text(ini)


def alembic_revision(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alembic", "revision", "-m", "change"],
        cwd=root,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("body", "hook", "fails"),
    [
        ('op.create_index("ix", "users", ["email"])', True, True),
        ('op.add_column("users", sa.Column("nick", sa.Text))', True, False),
        ('op.create_index("ix", "users", ["email"])', False, False),
    ],
)
def test_alembic_revision_runs_the_lint_hook(
    tmp_path: Path, body: str, hook: bool, fails: bool
) -> None:
    make_project(tmp_path, body, hook)
    result = alembic_revision(tmp_path)
    written = list((tmp_path / "migrations" / "versions").glob("*.py"))
    assert len(written) == 1  # the file is written either way
    if fails:
        assert result.returncode != 0
        assert "EC301 create-index-not-concurrently" in result.stdout
        assert "1 error(s)" in result.stdout + result.stderr
    else:
        assert result.returncode == 0, result.stdout + result.stderr
