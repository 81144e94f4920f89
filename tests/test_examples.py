"""The bundled SQL example: what the README shows is what the linter says, and the SQL is
real PostgreSQL (each path runs on a fresh database, statement by statement, autocommit)."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from expandcontract.cli import cli
from expandcontract.sql.postgres.split import split

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sql-migrations"


def test_lint_verdicts_on_the_example() -> None:
    result = CliRunner().invoke(cli, ["lint", "--format", "json", str(EXAMPLE)])
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    by_file: dict[str, set[str]] = {}
    for f in findings:
        by_file.setdefault(Path(f["path"]).name, set()).add(f["code"])
    assert set(by_file) == {"0002_naive_change.sql"}
    assert by_file["0002_naive_change.sql"] >= {
        "EC101",
        "EC110",
        "EC301",
        "EC201",
        "EC105",
        "EC109",
        "EC501",
    }


@pytest.mark.parametrize("change", ["0002_naive_change.sql", "0003_safe_change.sql"])
def test_example_sql_runs_on_postgres(conn: psycopg.Connection, change: str) -> None:
    for name in ("0001_create_shop.sql", change):
        for stmt in split((EXAMPLE / name).read_text()).statements:
            conn.execute(stmt.text)
    columns = {
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'"
        )
    }
    assert "public_id" in columns
