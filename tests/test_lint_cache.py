"""lint's cache: a rerun on unchanged files replays the report without loading the
linter; anything that could change a verdict (the file, the settings, the application
code a revision imports) makes it lint again; --no-cache neither reads nor writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SAFE = "ALTER TABLE users ADD COLUMN nickname text;\n"
UNSAFE = "CREATE INDEX ix_users_email ON users (email);\n"

REVISION = """
from alembic import op

from app_tables import TABLE

revision = "r1"
down_revision = None


def upgrade():
    op.execute(f"ALTER TABLE {TABLE} ADD COLUMN note text")


def downgrade():
    op.execute(f"ALTER TABLE {TABLE} DROP COLUMN note")
"""


def lint(root: Path, *args: str, cache: Path) -> tuple[dict, str]:
    """One lint run in a fresh process: its JSON report and the modules it imported."""
    env = {**os.environ, "EXPANDCONTRACT_CACHE_DIR": str(cache), "PYTHONPATH": str(root)}
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "expandcontract",
            "lint",
            "--exit-zero",
            "--format",
            "json",
            *args,
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout), result.stderr


def codes(report: dict) -> list[tuple[str, str]]:
    return sorted((f["path"], f["code"]) for f in report["findings"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql" / "0001.sql").write_text(SAFE)
    (tmp_path / "sql" / "0002.sql").write_text(UNSAFE)
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "r1_note.py").write_text(textwrap.dedent(REVISION))
    (tmp_path / "app_tables.py").write_text('TABLE = "users"\n')
    return tmp_path


def test_a_rerun_replays_the_report_without_loading_the_linter(project: Path) -> None:
    cache = project / "cache"
    first, imported = lint(project, "sql", "--revisions", "migrations/versions", cache=cache)
    assert "expandcontract.linters" in imported
    again, imported = lint(project, "sql", "--revisions", "migrations/versions", cache=cache)
    assert again == first
    assert "sqlglot" not in imported and "expandcontract.linters" not in imported
    assert (cache / ".gitignore").is_file() and (cache / "CACHEDIR.TAG").is_file()


def test_a_changed_file_or_setting_is_linted_again(project: Path) -> None:
    cache = project / "cache"
    first, _ = lint(project, "sql", cache=cache)
    assert ("sql/0002.sql", "EC301") in codes(first)
    assert first == lint(project, "sql", "--no-cache", cache=cache)[0]
    (project / "sql" / "0001.sql").write_text(SAFE + UNSAFE.replace("ix_users", "ix_more"))
    changed, imported = lint(project, "sql", cache=cache)
    assert ("sql/0001.sql", "EC301") in codes(changed)
    assert changed == lint(project, "sql", "--no-cache", cache=cache)[0]
    assert "expandcontract.linters" in imported
    ignoring, _ = lint(project, "sql", "--ignore", "EC301", cache=cache)
    assert "EC301" not in {code for _, code in codes(ignoring)}
    assert ignoring == lint(project, "sql", "--ignore", "EC301", "--no-cache", cache=cache)[0]


def test_a_revision_is_linted_again_when_the_code_it_imports_changes(project: Path) -> None:
    cache = project / "cache"
    first, _ = lint(project, "--revisions", "migrations/versions", cache=cache)
    # the app now names a table whose rendered SQL drops one: another verdict
    (project / "app_tables.py").write_text('TABLE = "users; DROP TABLE users; --"\n')
    os.utime(project / "app_tables.py", ns=(1, 1))  # a different stamp, whatever the clock
    changed, _ = lint(project, "--revisions", "migrations/versions", cache=cache)
    assert changed != first
    assert (
        changed == lint(project, "--revisions", "migrations/versions", "--no-cache", cache=cache)[0]
    )


def test_no_cache_reads_and_writes_nothing(project: Path) -> None:
    cache = project / "cache"
    report, imported = lint(project, "sql", "--no-cache", cache=cache)
    assert ("sql/0002.sql", "EC301") in codes(report) and "expandcontract.linters" in imported
    assert not cache.exists()


def test_a_cache_it_cannot_write_still_lints(project: Path) -> None:
    cache = project / "cache"
    cache.write_text("a file where the folder would be")
    report, _ = lint(project, "sql", cache=cache)
    assert report == lint(project, "sql", "--no-cache", cache=project / "elsewhere")[0]
