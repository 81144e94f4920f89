"""pytest plugin (``pytest11`` entry point): verify a project's migrations in its own suite.

One test file is enough::

    def test_migrations(expandcontract_verify):
        report = expandcontract_verify()
        assert report.ok, report.text()

Configuration, in pytest's ini options (``[tool.pytest.ini_options]``) or flags:
``expandcontract_alembic_ini`` (default ``alembic.ini``, relative to the rootdir) and
``expandcontract_database_url`` / ``--expandcontract-database-url`` (a server where
verify creates, and drops, its own database; default: ``$EXPANDCONTRACT_DATABASE_URL``,
else a local throwaway cluster or Docker, as ``expandcontract verify`` chooses).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_addoption(parser) -> None:
    group = parser.getgroup("expandcontract")
    group.addoption(
        "--expandcontract-database-url",
        default=None,
        help="server where expandcontract_verify creates its throwaway database",
    )
    parser.addini(
        "expandcontract_alembic_ini", "the Alembic configuration to verify", default="alembic.ini"
    )
    parser.addini("expandcontract_database_url", "server for expandcontract_verify", default="")


@pytest.fixture
def expandcontract_verify(request):
    """Run ``expandcontract verify`` on the project; returns the VerifyReport."""

    def run(
        alembic_ini: str | os.PathLike | None = None,
        database_url: str | None = None,
        seed_rows: int = 2,
    ):
        from expandcontract.project import Project
        from expandcontract.verify.databases import choose
        from expandcontract.verify.verifier import Verifier

        config = request.config
        ini = Path(alembic_ini or config.getini("expandcontract_alembic_ini"))
        if not ini.is_absolute():
            ini = Path(config.rootpath) / ini
        url = (
            database_url
            or config.getoption("--expandcontract-database-url")
            or config.getini("expandcontract_database_url")
            or os.environ.get("EXPANDCONTRACT_DATABASE_URL")
        )
        backend, _ = choose(url or None, None, False, None)
        verifier = Verifier(Project.load(ini), seed_rows=seed_rows)
        with backend as database:
            return verifier.run(database)

    return run
