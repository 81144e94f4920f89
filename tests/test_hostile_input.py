"""Issue 26, the lint and command-line side: input a hostile or unlucky user gives, each
refused with a clear message (exit 2) or handled, never a traceback, never a silent pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract.cli import cli

UNSAFE = "CREATE INDEX ix_orders_customer ON orders (customer_id);\n"


def run(*args: str, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPANDCONTRACT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


# --- settings: validated at load -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('lock_timeout = "0"', "lock_timeout must be more than 0"),
        ('lock_timeout = "0ms"', "lock_timeout must be more than 0"),
        ('lock_timeout = "soon"', "lock_timeout must be a duration"),
        ("backfill_pause = nan", "backfill_pause must be a finite number"),
        ("backfill_pause = inf", "backfill_pause must be a finite number"),
        ("backfill_batch_size = 100000000", "backfill_batch_size must be at most 100,000"),
        ("revision_timeout = nan", "revision_timeout must be a finite number"),
        ("revision_timeout = inf", "revision_timeout must be a finite number"),
        ("revision_timeout = 1e-300", "revision_timeout must be 0 (no limit) or from 0.1"),
        ("wait_timeout = inf", "wait_timeout must be a finite number"),
    ],
)
def test_unsafe_settings_are_refused_at_load(here: Path, body: str, message: str) -> None:
    (here / "pyproject.toml").write_text(f"[tool.expandcontract]\n{body}\n")
    (here / "m.sql").write_text(UNSAFE)
    result = run("lint", "m.sql")
    assert result.exit_code == 2, result.output
    assert f"pyproject.toml:2: {message}" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "body",
    [
        'lock_timeout = "2s"',
        'lock_timeout = "500ms"',
        "lock_timeout = '1min'",
        "revision_timeout = 0",
        "backfill_batch_size = 100000",
        "backfill_pause = 0.5",
    ],
)
def test_sane_settings_are_accepted(here: Path, body: str) -> None:
    (here / "pyproject.toml").write_text(f"[tool.expandcontract]\n{body}\n")
    (here / "m.sql").write_text("SELECT 1;\n")
    assert run("lint", "m.sql").exit_code == 0


def test_config_search_stops_at_the_first_pyproject(here: Path) -> None:
    # a parent folder's configuration (here: one that ignores the rule) must not reach a
    # project that has its own pyproject.toml, with our section or without
    (here / "pyproject.toml").write_text('[tool.expandcontract]\nignore = ["EC301"]\n')
    app = here / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (app / "m.sql").write_text(UNSAFE)
    import os

    os.chdir(app)
    assert run("lint", "m.sql").exit_code == 1
    os.chdir(here)
    assert run("lint", "app/m.sql").exit_code == 0  # from the parent, its own file applies
