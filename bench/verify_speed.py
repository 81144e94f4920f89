"""Verify speed: generated chains of 50, 200 and 500 revisions, `expandcontract verify`
side by side with pytest-alembic's `test_upgrade` + `test_up_down_consistency`.

    python bench/verify_speed.py [--sizes 50 200 500] [--runs 3] [--database-url URL]

pytest-alembic runs from its own virtualenv (created once under the system temp
directory), so its pins never touch ours. Both run as fresh processes against the
same server, each in databases of its own, alternating run by run (this machine is
noisy); the table shows the median of the runs, wall and CPU (user + system of the
process and its children), the ratio ours / pytest-alembic's (below 1: verify is
faster), verify's wall time per revision, and what one more revision costs between
consecutive sizes (start-up taken out), which must stay flat as the chain grows.

Then, on the largest chain kept in git, one more revision is committed and
`verify --changed-since HEAD~1` is timed, beside a plain `alembic upgrade` of the
chain before it (the "upgrade to the base" that run starts with).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import statistics
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
        "[alembic]\nscript_location = migrations\n"
        "sqlalchemy.url = postgresql+psycopg://unused/none\n"
    )
    for i in range(revisions):
        write_revision(versions, i, i - i % len(KINDS))


def write_revision(versions: Path, i: int, table: int) -> None:
    """Revision ``i`` of the chain; ``table``: the latest table the kinds act on."""
    up, down = KINDS[i % len(KINDS)]
    body = textwrap.dedent(f"""
        from alembic import op
        import sqlalchemy as sa

        revision = "r{i:03d}"
        down_revision = {f'"r{i - 1:03d}"' if i else None}


        def upgrade():
            {up.format(i=i, t=table)}


        def downgrade():
            {down.format(i=i, t=table)}
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


def timed(
    command: list[str], cwd: Path, env=None
) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall, CPU) seconds of one fresh process, and its result."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def changed_since(root: Path, ours: Path, database_url: str, revisions: int) -> tuple[float, float]:
    """(verify --changed-since HEAD~1 wall, plain alembic upgrade of the base wall) after one
    more revision is committed on top of the chain."""
    import psycopg

    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "the chain")
    write_revision(root / "migrations" / "versions", revisions, revisions - revisions % len(KINDS))
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "one more")
    wall, _, result = timed(
        [str(ours), "verify", "--database-url", database_url, "--changed-since", "HEAD~1"], root
    )
    if result.returncode != 0:
        sys.exit(f"verify --changed-since failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    name = f"ec_bench_base_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
        params = psycopg.conninfo.conninfo_to_dict(url)
        sa_url = (
            f"postgresql+psycopg://{params.get('user', 'postgres')}@"
            f"{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
        )
        ini = root / "alembic.ini"
        ini.write_text(ini.read_text().replace("postgresql+psycopg://unused/none", sa_url))
        base = f"r{revisions - 1:03d}"
        alembic = [sys.executable, "-m", "alembic", "upgrade", base]
        base_wall, _, result = timed(alembic, root)
        if result.returncode != 0:
            sys.exit(f"alembic upgrade failed:\n{result.stderr[-2000:]}")
    finally:
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return wall, base_wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--database-url", default=ADMIN)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    pa_python = pytest_alembic_python()
    ours = Path(sys.executable).with_name("expandcontract")
    env_clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_chain(root, size)
            (root / "conftest.py").write_text(CONFTEST.format(admin=args.database_url))
            (root / "test_migrations.py").write_text(TESTS)
            times: dict[str, list[tuple[float, float]]] = {"ours": [], "theirs": []}
            for _ in range(args.runs):
                wall, cpu, result = timed(
                    [str(ours), "verify", "--database-url", args.database_url, "--quiet"], root
                )
                if result.returncode != 0:
                    sys.exit(f"verify failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
                times["ours"].append((wall, cpu))
                pytest = [str(pa_python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
                wall, cpu, result = timed([*pytest, "test_migrations.py"], root, env_clean)
                if result.returncode != 0:
                    sys.exit(f"pytest-alembic failed:\n{result.stdout[-3000:]}")
                times["theirs"].append((wall, cpu))
            median = {
                k: tuple(statistics.median(r[i] for r in v) for i in (0, 1))
                for k, v in times.items()
            }
            rows.append((size, median["ours"], median["theirs"]))
            if size == max(args.sizes):
                since = changed_since(root, ours, args.database_url, size)

    print(f"median of {args.runs} runs each, side by side; CPU = user + system\n")
    print(
        f"{'revisions':>9}{'verify wall':>13}{'verify CPU':>12}{'p-a wall':>10}{'p-a CPU':>9}"
        f"{'wall ratio':>12}{'CPU ratio':>11}{'verify ms/rev':>15}"
    )
    per_revision = []
    for size, (wall, cpu), (their_wall, their_cpu) in rows:
        per_revision.append(wall / size * 1000)
        print(
            f"{size:>9}{wall:>13.2f}{cpu:>12.2f}{their_wall:>10.2f}{their_cpu:>9.2f}"
            f"{wall / their_wall:>11.2f}x{cpu / their_cpu:>10.2f}x{per_revision[-1]:>15.1f}"
        )
    # what one more revision costs, start-up (imports, the database, the first full
    # snapshot) taken out: the slope between consecutive sizes
    pairs = list(itertools.pairwise(rows))
    slopes = [
        (wall_b - wall_a) / (size_b - size_a) * 1000
        for (size_a, (wall_a, _), _), (size_b, (wall_b, _), _) in pairs
    ]
    if slopes:
        spread = (max(slopes) - min(slopes)) / min(slopes) * 100
        between = ", ".join(
            f"{a[0]}->{b[0]}: {slope:.1f} ms" for (a, b), slope in zip(pairs, slopes, strict=True)
        )
        print(f"\nverify's cost of one more revision: {between} (spread {spread:.0f} %)")
    wall, base = since
    print(
        f"verify --changed-since HEAD~1 on {max(args.sizes)} + 1 revisions: {wall:.2f} s in all; "
        f"a plain alembic upgrade of the {max(args.sizes)}-revision base alone: {base:.2f} s"
    )


if __name__ == "__main__":
    main()
