"""Row-level security holds through every name a phase gives a table.

rename-table's view ran as its owner: a tenant-limited role saw every tenant's rows
through the new name (1,000) and its own through the old one (500). The view is
``security_invoker`` on PostgreSQL 15+, and refused before 15 when the table has RLS.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

SCHEMA = """
CREATE TABLE docs (id bigint PRIMARY KEY, tenant int NOT NULL, body text);
INSERT INTO docs SELECT g, g % 2, 'b' || g FROM generate_series(1, 1000) g;
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_tenant ON docs TO {role} USING (tenant = 1) WITH CHECK (tenant = 1);
GRANT SELECT, INSERT, UPDATE, DELETE ON docs TO {role};
"""


@pytest.fixture
def tenant(database_url: str) -> Iterator[str]:
    """A role of one tenant, not the tables' owner (shared server: ecatt_ prefix)."""
    name = f"ecatt_tenant_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name}")
    yield name
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def _seen(conn: psycopg.Connection, role: str, relation: str) -> int:
    """Rows ``role`` sees through ``relation``."""
    with conn.transaction():
        conn.execute(f"SET LOCAL ROLE {role}")
        return conn.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]


def test_rename_table_view_keeps_row_security(
    tmp_path: Path, database_url: str, tenant: str
) -> None:
    project = PhaseProject(tmp_path, database_url, SCHEMA.format(role=tenant))
    project.new("rename-table", "docs", "papers")
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert _seen(conn, tenant, "docs") == 500
        assert project.phase("upgrade", "expand").exit_code == 0
        assert _seen(conn, tenant, "docs") == _seen(conn, tenant, "papers") == 500
        # the tenant writes through the new name as through the old: its policy applies
        with conn.transaction():
            conn.execute(f"SET LOCAL ROLE {tenant}")
            conn.execute("UPDATE papers SET body = 'seen'")
            # the policy's WITH CHECK applies through the view
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute("INSERT INTO papers VALUES (5000, 0, 'other tenant')")
        assert conn.execute("SELECT count(*) FROM docs WHERE body = 'seen'").fetchone() == (500,)
        assert project.phase("upgrade", "contract").exit_code == 0
        assert _seen(conn, tenant, "papers") == 500
        assert project.phase("downgrade", "contract").exit_code == 0
        assert _seen(conn, tenant, "docs") == _seen(conn, tenant, "papers") == 500


def test_rename_table_of_a_table_with_rls_is_refused_before_15(
    tmp_path: Path, database_url: str, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expandcontract.catalog import probes

    project = PhaseProject(tmp_path, database_url, SCHEMA.format(role=tenant))
    monkeypatch.setattr(probes, "server_version", lambda bind: 140010)
    ini = str(project.root / "alembic.ini")
    refused = project.cli("new", "rename-table", "docs", "papers", "-m", "c", "-c", ini)
    assert refused.exit_code == 2, refused.output
    assert "docs has row-level security" in refused.output, refused.output
    project.new("rename-table", "docs", "papers", "--no-database-check")
    result = project.phase("upgrade", "expand")
    assert result.exit_code == 1 and "docs has row-level security" in result.output
    with psycopg.connect(database_url, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('papers')").fetchone() == (None,)
