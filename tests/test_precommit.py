"""The pre-commit hook, for real: a temporary git repository whose .pre-commit-config.yaml
points at this checkout; an unsafe revision staged is refused, a safe one accepted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNSAFE = """from alembic import op
revision = "r1"
down_revision = None

def upgrade():
    op.create_index("ix_users_email", "users", ["email"])

def downgrade():
    op.drop_index("ix_users_email", table_name="users")
"""
SAFE = (
    UNSAFE.replace('["email"])', '["email"], postgresql_concurrently=True)')
    .replace(
        "    op.create_index",
        "    with op.get_context().autocommit_block():\n        op.create_index",
    )
    .replace('table_name="users")', 'table_name="users", postgresql_concurrently=True)')
    .replace(
        "    op.drop_index", "    with op.get_context().autocommit_block():\n        op.drop_index"
    )
)


def _head_has_hook() -> str | None:
    result = subprocess.run(
        ["git", "-C", str(ROOT), "show", "HEAD:.pre-commit-hooks.yaml"], capture_output=True
    )
    if result.returncode != 0:
        return None
    return subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", "HEAD"], text=True).strip()


def _refused_then_accepted(tmp_path: Path, config: str, path: str | None = None) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is a dev dependency: pip install -e '.[dev]'"
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    if path is not None:
        env["PATH"] = path
    repo = tmp_path / "app"
    versions = repo / "migrations" / "versions"
    versions.mkdir(parents=True)

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)

    run("git", "init", "-q")
    (repo / ".pre-commit-config.yaml").write_text(config)
    assert run(pre_commit, "install").returncode == 0

    (versions / "r1_add_index.py").write_text(UNSAFE)
    run("git", "add", ".")
    refused = run("git", "commit", "-m", "add index")
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "EC301 create-index-not-concurrently" in refused.stdout + refused.stderr

    (versions / "r1_add_index.py").write_text(SAFE)
    run("git", "add", ".")
    accepted = run("git", "commit", "-m", "add index concurrently")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_commit_refused_then_accepted(tmp_path: Path) -> None:
    """The published form: this repository as a pre-commit hook repository."""
    sha = _head_has_hook()
    if sha is None:
        pytest.skip("this checkout has no committed .pre-commit-hooks.yaml at HEAD")
    config = f"repos:\n- repo: {ROOT}\n  rev: {sha}\n  hooks:\n  - id: expandcontract-lint\n"
    _refused_then_accepted(tmp_path, config)


def test_the_readme_local_hook_works_as_written(tmp_path: Path) -> None:
    """The README's `repo: local` snippet, with expandcontract installed where git runs."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("repos:\n- repo: local")
    config = readme[start : readme.index("```", start)]
    bin_dir = str(Path(sys.executable).parent)
    _refused_then_accepted(tmp_path, config, f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
