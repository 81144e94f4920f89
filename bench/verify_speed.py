"""Verify speed: a generated 50-revision chain, `expandcontract verify` side by side with
pytest-alembic's `test_upgrade` + `test_up_down_consistency`, in one run.

    python bench/verify_speed.py [--revisions 50] [--database-url URL] [--runs 2]

pytest-alembic runs from its own virtualenv (created once under the system temp
directory), so its pins never touch ours. Both run as fresh processes against the
same server, each in databases of its own; the best of the runs is kept for each.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import venv
from pathlib import Path

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

ENV_PY = """
from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection


def run(connection):
    context.configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")  # pytest-alembic passes an engine
if isinstance(given, Connection):
    run(given)
else:
    engine = given or create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        run(connection)
"""

CONFTEST = """
import uuid

import psycopg
import pytest
from sqlalchemy import create_engine

ADMIN = {admin!r}


@pytest.fixture
def alembic_engine():
    name = f"ec_bench_pa_{{uuid.uuid4().hex[:10]}}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{{name}}"')
    url = psycopg.conninfo.make_conninfo(ADMIN, dbname=name)
    params = psycopg.conninfo.conninfo_to_dict(url)
    engine = create_engine(
        f"postgresql+psycopg://{{params.get('user', 'postgres')}}@{{params.get('host', '127.0.0.1')}}"
        f":{{params.get('port', 5432)}}/{{name}}"
    )
    yield engine
    engine.dispose()
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{{name}}" WITH (FORCE)')
"""

TESTS = "from pytest_alembic.tests import test_upgrade, test_up_down_consistency  # noqa: F401\n"

# one revision each: a realistic mix of what migrations do, every one reversible
KINDS = [
    (
        'op.create_table("t{i}", sa.Column("id", sa.BigInteger, primary_key=True), '
        'sa.Column("name", sa.Text, nullable=False, server_default="x"))',
        'op.drop_table("t{i}")',
    ),
    ('op.add_column("t{t}", sa.Column("c{i}", sa.Integer))', 'op.drop_column("t{t}", "c{i}")'),
    ('op.create_index("ix_{i}", "t{t}", ["name"])', 'op.drop_index("ix_{i}", table_name="t{t}")'),
    (
        'op.create_check_constraint("ck_{i}", "t{t}", "length(name) < 100")',
        'op.drop_constraint("ck_{i}", "t{t}")',
    ),
    (
        'op.alter_column("t{t}", "name", server_default="y{i}")',
        'op.alter_column("t{t}", "name", server_default="x")',
    ),
]


def write_chain(root: Path, revisions: int) -> None:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "env.py").write_text(ENV_PY)
    (root / "migrations" / "script.py.mako").write_text("")
    (root / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {root / 'migrations'}\n"
        "sqlalchemy.url = postgresql+psycopg://unused/none\n"
    )
    last_table = 0
    for i in range(revisions):
        up, down = KINDS[i % len(KINDS)]
        if i % len(KINDS) == 0:
            last_table = i
        body = textwrap.dedent(f"""
            from alembic import op
            import sqlalchemy as sa

            revision = "r{i:03d}"
            down_revision = {f'"r{i - 1:03d}"' if i else None}


            def upgrade():
                {up.format(i=i, t=last_table)}


            def downgrade():
                {down.format(i=i, t=last_table)}
        """)
        (versions / f"r{i:03d}.py").write_text(body)


def pytest_alembic_python() -> Path:
    env = Path(tempfile.gettempdir()) / "expandcontract-bench-pytest-alembic"
    python = env / "bin" / "python"
    if not python.exists():
        venv.create(env, with_pip=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "pytest-alembic",
                "pytest",
                "psycopg[binary]",
                "sqlalchemy",
                "alembic",
            ],
            check=True,
        )
    return python


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=50)
    parser.add_argument("--database-url", default=ADMIN)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    pa_python = pytest_alembic_python()
    ours = Path(sys.executable).with_name("expandcontract")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_chain(root, args.revisions)
        (root / "conftest.py").write_text(CONFTEST.format(admin=args.database_url))
        (root / "test_migrations.py").write_text(TESTS)
        env_clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        best: dict[str, float] = {}
        for _ in range(args.runs):
            elapsed, result = timed(
                [str(ours), "verify", "--database-url", args.database_url, "--format", "json"], root
            )
            if result.returncode != 0:
                sys.exit(
                    f"expandcontract verify failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
                )
            best["expandcontract verify"] = min(best.get("expandcontract verify", elapsed), elapsed)
            started = time.perf_counter()
            result = subprocess.run(
                [
                    str(pa_python),
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "test_migrations.py",
                ],
                cwd=root,
                capture_output=True,
                text=True,
                env=env_clean,
            )
            elapsed = time.perf_counter() - started
            if result.returncode != 0:
                sys.exit(f"pytest-alembic failed:\n{result.stdout[-3000:]}")
            best["pytest-alembic"] = min(best.get("pytest-alembic", elapsed), elapsed)

    print(f"{args.revisions}-revision chain, best of {args.runs} runs\n")
    print(f"{'':<24}{'seconds':>10}  checks")
    print(
        f"{'expandcontract verify':<24}{best['expandcontract verify']:>10.2f}  up, down, exact schema "
        "+ data compare, re-up, lock/rewrite trace, per revision"
    )
    print(
        f"{'pytest-alembic':<24}{best['pytest-alembic']:>10.2f}  test_upgrade + "
        "test_up_down_consistency"
    )
    ratio = best["pytest-alembic"] / best["expandcontract verify"]
    print(f"\npytest-alembic / expandcontract time ratio: {ratio:.2f} (above 1: verify is faster)")


if __name__ == "__main__":
    main()
