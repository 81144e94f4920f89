"""Verdicts that hang on what a column is today: the schema replayed from earlier SQL
files (in the order a migration tool runs them), or read from a real database with
--schema-from. Each verdict is checked on PostgreSQL: a flagged type change is one that
changed the table's relfilenode (a rewrite), an unflagged one did not."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
from click.testing import CliRunner

from expandcontract.cli import cli

FILES = {
    "V1__users.sql": "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(50), note text, "
    "amount numeric(10,2));\nINSERT INTO users SELECT g, 'n' || g, 't', g FROM "
    "generate_series(1, 100) g;\n",
    "V2__widen.sql": "ALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n"
    "ALTER TABLE users ALTER COLUMN note TYPE varchar(20);\n",
    # V10 after V2 (numbers as numbers), where a lexical sort would put it first
    "V10__narrow.sql": "ALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n"
    "ALTER TABLE users ALTER COLUMN amount TYPE numeric(12,2);\n"
    "ALTER TABLE users ALTER COLUMN amount TYPE numeric(12,4);\n"
    "ALTER TABLE users ALTER COLUMN note TYPE text;\n",
}
ORDER = ["V1__users.sql", "V2__widen.sql", "V10__narrow.sql"]


def _lint(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["lint", "--no-cache", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _rewrites(conn: psycopg.Connection, folder: Path) -> set[tuple[str, int]]:
    """Run the files in order; (file, line) of each statement that rewrote users."""
    found = set()
    for name in ORDER:
        for line, sql in enumerate((folder / name).read_text().splitlines(), 1):
            if not sql.strip():
                continue
            before = (
                conn.execute("SELECT to_regclass('users')").fetchone()[0]
                and conn.execute(
                    "SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass"
                ).fetchone()[0]
            )
            conn.execute(sql)
            after = conn.execute(
                "SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass"
            ).fetchone()[0]
            if before and before != after:
                found.add((name, line))
    return found


def test_earlier_files_tell_what_a_column_is(tmp_path: Path, conn: psycopg.Connection) -> None:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    report = _lint(str(tmp_path))
    flagged = {
        (Path(f["path"]).name, f["line"]) for f in report["findings"] if f["code"] == "EC110"
    }
    unverified = [f for f in report["findings"] if f["code"] == "EC111"]
    assert unverified == []  # every old type is known from the files before
    assert flagged == _rewrites(conn, tmp_path)
    assert flagged == {("V2__widen.sql", 2), ("V10__narrow.sql", 1), ("V10__narrow.sql", 3)}


def test_schema_from_a_database(tmp_path: Path, database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(50), note text);"
            "CREATE TABLE measurements (ts timestamptz) PARTITION BY RANGE (ts);"
        )
    change = tmp_path / "0042_change.sql"
    change.write_text(
        "ALTER TABLE users ALTER COLUMN name TYPE varchar(100);\n"
        "ALTER TABLE users ALTER COLUMN note TYPE varchar(20);\n"
        "COMMIT;\n"
        "CREATE INDEX CONCURRENTLY ix_m_ts ON measurements (ts);\n"
    )
    blind = _lint(str(change))
    assert {f["code"] for f in blind["findings"] if f["line"] == 1} == {"EC111", "EC004"}
    assert not any(f["line"] == 4 and f["severity"] == "error" for f in blind["findings"])
    known = _lint(str(change), "--schema-from", database_url)
    by_line = {}
    for f in known["findings"]:
        by_line.setdefault(f["line"], set()).add(f["code"])
    assert "EC110" not in by_line.get(1, set()) and "EC111" not in by_line.get(1, set())
    assert "EC110" in by_line[2]
    assert "EC305" in by_line[4]  # CONCURRENTLY is refused on a partitioned table
    with psycopg.connect(database_url, autocommit=True) as conn:
        node = "SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass"
        first = conn.execute(node).fetchone()[0]
        conn.execute("ALTER TABLE users ALTER COLUMN name TYPE varchar(100)")
        second = conn.execute(node).fetchone()[0]
        conn.execute("ALTER TABLE users ALTER COLUMN note TYPE varchar(20)")
        third = conn.execute(node).fetchone()[0]
        assert first == second != third  # free, then a rewrite: as the linter said
        try:
            conn.execute("CREATE INDEX CONCURRENTLY ix_m_ts ON measurements (ts)")
            refused = False
        except psycopg.errors.FeatureNotSupported:
            refused = True
        assert refused


def test_schema_from_an_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("SELECT 1;\n")
    result = CliRunner().invoke(
        cli, ["lint", str(tmp_path / "a.sql"), "--schema-from", "postgresql://nobody@127.0.0.1:1/x"]
    )
    assert result.exit_code == 2 and "--schema-from" in result.output
    assert "Traceback" not in result.output


ENV_PY = """
from alembic import context
from sqlalchemy import create_engine

with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as connection:
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()
"""


def _revision(rev: str, down: str | None, upgrade: str) -> str:
    return (
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\n\n\n"
        f"def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    pass\n"
    )


def test_an_alembic_chain_tells_what_a_column_is(tmp_path: Path, database_url: str) -> None:
    """No existing_type given: the types come from the revisions before."""
    import subprocess
    import sys

    from expandcontract.urls import sqlalchemy_url

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "migrations" / "env.py").write_text(ENV_PY)
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = migrations\nsqlalchemy.url = {sqlalchemy_url(database_url)}\n"
    )
    steps = {
        "r1": (
            None,
            'op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True), '
            'sa.Column("name", sa.String(50)))\n    op.execute("INSERT INTO users '
            "SELECT g, 'n' || g FROM generate_series(1, 50) g\")",
        ),
        "r2": ("r1", 'op.alter_column("users", "name", type_=sa.String(100))'),
        "r3": ("r2", 'op.alter_column("users", "name", type_=sa.String(20))'),
    }
    for rev, (down, upgrade) in steps.items():
        (versions / f"{rev}.py").write_text(_revision(rev, down, upgrade))
    report = _lint(str(versions))
    codes = {(Path(f["path"]).stem, f["code"]) for f in report["findings"]}
    assert ("r2", "EC110") not in codes and ("r2", "EC111") not in codes
    assert ("r3", "EC110") in codes
    # and on PostgreSQL: r2 is catalog-only, r3 rewrites
    nodes = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        for rev in steps:
            result = subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", rev],
                cwd=tmp_path,
                capture_output=True,
                text=True,
            )
            assert result.returncode == 0, result.stderr
            nodes.append(
                conn.execute(
                    "SELECT relfilenode FROM pg_class WHERE oid = 'users'::regclass"
                ).fetchone()[0]
            )
    assert nodes[0] == nodes[1] != nodes[2]


def test_the_binary_casts_are_postgresql_s_own(any_server) -> None:
    """Every binary-coercible cast between the column types we list is one pg_cast has,
    on each server here; and pg_cast has none between them we miss."""
    from expandcontract.sql.postgres.facts import BINARY_CASTS

    _, conn = any_server
    names = {name for pair in BINARY_CASTS for name in pair}
    rows = conn.execute(
        "SELECT format_type(castsource, NULL), format_type(casttarget, NULL) FROM pg_cast "
        "WHERE castmethod = 'b' AND castcontext IN ('i', 'a')"
    ).fetchall()
    assert {pair for pair in rows if set(pair) <= names} == set(BINARY_CASTS)


def test_a_relabel_is_free_and_postgresql_keeps_the_table(tmp_path: Path, conn) -> None:
    conn.execute(
        "CREATE TABLE hosts (id int, addr cidr, doc xml);"
        "INSERT INTO hosts SELECT g, '10.0.0.0/8', '<a/>' FROM generate_series(1, 20) g"
    )
    (tmp_path / "V1__hosts.sql").write_text("CREATE TABLE hosts (id int, addr cidr, doc xml);\n")
    (tmp_path / "V2__relabel.sql").write_text(
        "\n\n"
        "ALTER TABLE hosts ALTER COLUMN addr TYPE inet;\n"
        "ALTER TABLE hosts ALTER COLUMN doc TYPE text;\n"
        "ALTER TABLE hosts ALTER COLUMN id TYPE bigint;\n"
    )
    report = _lint(str(tmp_path))
    flagged = {f["line"] for f in report["findings"] if f["code"] in ("EC110", "EC111")}
    node = "SELECT relfilenode FROM pg_class WHERE oid = 'hosts'::regclass"
    rewritten = set()
    for line, change in ((3, "addr TYPE inet"), (4, "doc TYPE text"), (5, "id TYPE bigint")):
        before = conn.execute(node).fetchone()[0]
        conn.execute(f"ALTER TABLE hosts ALTER COLUMN {change}")
        if conn.execute(node).fetchone()[0] != before:
            rewritten.add(line)
    assert flagged == rewritten == {5}
