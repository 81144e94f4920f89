"""Views and row-level security policies reading a replaced column follow it.

They were refused, with advice that could not be followed ("redefine it on the new
column first": the new column does not exist before expand). The contract now
points them at the new column in the transaction that drops the old one (a view
keeps its output columns, so its grants and the views on it stay), and undoing the
contract points them back. A tenant role sees the same rows, through the view and
under its policy, after every phase and after the rollback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

SCHEMA = """
CREATE TABLE orders (id bigint PRIMARY KEY, code text NOT NULL, tenant int NOT NULL, note text);
INSERT INTO orders SELECT g, CASE WHEN g % 10 = 1 THEN 'hidden' ELSE 'c' || g END, g % 2, 'n'
FROM generate_series(1, 1000) g;
CREATE VIEW open_orders WITH (security_barrier) AS
    SELECT o.id, o.code, upper(o.code) AS shout, o.tenant FROM orders o WHERE o.code <> 'void';
CREATE VIEW open_codes AS SELECT code FROM open_orders WHERE code LIKE 'c1%';
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_tenant ON orders TO {role}
    USING (tenant = 1 AND code <> 'hidden') WITH CHECK (code <> 'hidden');
GRANT SELECT, INSERT, UPDATE, DELETE ON orders TO {role};
GRANT SELECT ON open_orders, open_codes TO {role};
"""


@pytest.fixture
def tenant(database_url: str) -> Iterator[str]:
    name = f"ecatt_tenant_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name}")
    yield name
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def _state(conn: psycopg.Connection, role: str) -> dict:
    """What the readers give: the views' rows and columns, and the rows the role sees."""
    with conn.transaction():
        conn.execute(f"SET LOCAL ROLE {role}")
        seen = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
    return {
        "open_orders": conn.execute("SELECT * FROM open_orders ORDER BY id").fetchall(),
        "open_codes": conn.execute("SELECT * FROM open_codes ORDER BY 1").fetchall(),
        "columns": conn.execute(
            "SELECT attrelid::regclass::text, attname, format_type(atttypid, atttypmod) "
            "FROM pg_attribute WHERE attrelid IN ('open_orders'::regclass, "
            "'open_codes'::regclass) AND attnum > 0 ORDER BY 1, attnum"
        ).fetchall(),
        "options": conn.execute(
            "SELECT reloptions FROM pg_class WHERE oid = 'open_orders'::regclass"
        ).fetchone(),
        "grants": conn.execute(
            "SELECT relacl::text FROM pg_class WHERE oid = 'open_orders'::regclass"
        ).fetchone(),
        "seen": seen,
    }


def _policy(conn: psycopg.Connection) -> tuple:
    return conn.execute(
        "SELECT pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid) "
        "FROM pg_policy WHERE polname = 'orders_tenant'"
    ).fetchone()


@pytest.mark.parametrize(
    ("args", "reads"),
    [(("ref",), "o.ref AS code"), (("varchar(64)",), "(o.code)::text AS code")],
    ids=["rename-column", "change-type"],
)
def test_views_and_policies_follow_the_column(
    tmp_path: Path, database_url: str, tenant: str, args: tuple, reads: str
) -> None:
    kind = "rename-column" if args == ("ref",) else "change-type"
    project = PhaseProject(tmp_path, database_url, SCHEMA.format(role=tenant))
    project.new(kind, "orders", "code", *args)
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _state(conn, tenant)
        policy = _policy(conn)
        assert before["seen"] == 400
        phases = ("expand", "migrate", "switch", "contract")
        for phase in phases:
            result = project.phase("upgrade", phase)
            assert result.exit_code == 0, f"upgrade {phase}: {result.output}"
            assert _state(conn, tenant) == before, phase
        definition = conn.execute("SELECT pg_get_viewdef('open_orders'::regclass)").fetchone()
        assert reads in definition[0]
        if kind == "rename-column":
            assert _policy(conn) == (
                "((tenant = 1) AND (ref <> 'hidden'::text))",
                "(ref <> 'hidden'::text)",
            )
            new = "ref"
        else:
            new = "code"
        # the policy's WITH CHECK still holds the new version's writes
        with conn.transaction():
            conn.execute(f"SET LOCAL ROLE {tenant}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"INSERT INTO orders (id, {new}, tenant) VALUES (5000, 'hidden', 1)")
        for phase in reversed(phases):
            result = project.phase("downgrade", phase)
            assert result.exit_code == 0, f"downgrade {phase}: {result.output}"
            assert _state(conn, tenant) == before, phase
        assert _policy(conn) == policy


@pytest.mark.parametrize(
    ("setup", "table", "says"),
    [
        (
            "CREATE MATERIALIZED VIEW order_codes AS SELECT id, code FROM orders",
            "orders",
            "before this change's expand, drop it (DROP MATERIALIZED VIEW public.order_codes)",
        ),
        (
            "ALTER TABLE orders ADD COLUMN code_upper text GENERATED ALWAYS AS (upper(code)) "
            "STORED",
            "orders",
            "ALTER TABLE orders ALTER COLUMN code_upper DROP EXPRESSION",
        ),
        (
            "CREATE TABLE events (id bigint, code text NOT NULL) PARTITION BY RANGE (id); "
            "CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (1000)",
            "events",
            "plain revision outside the phase branches",
        ),
    ],
    ids=["materialized-view", "generated-column", "partitioned"],
)
def test_what_is_refused_says_what_to_do_and_when(
    tmp_path: Path, database_url: str, tenant: str, setup: str, table: str, says: str
) -> None:
    project = PhaseProject(tmp_path, database_url, SCHEMA.format(role=tenant) + setup + ";")
    ini = str(project.root / "alembic.ini")
    refused = project.cli("new", "rename-column", table, "code", "ref", "-m", "c", "-c", ini)
    assert refused.exit_code == 2, refused.output
    assert says in " ".join(refused.output.split()), refused.output
    assert "first" not in refused.output  # no advice to act on a column not there yet


def test_views_and_policies_on_a_mixed_case_table_in_a_schema(
    tmp_path: Path, database_url: str, tenant: str
) -> None:
    schema = f"""
    CREATE SCHEMA billing;
    CREATE TABLE billing."Orders" (id bigint PRIMARY KEY, "Code" text NOT NULL, tenant int);
    INSERT INTO billing."Orders" SELECT g, 'c' || g, g % 2 FROM generate_series(1, 100) g;
    CREATE VIEW billing."OpenOrders" AS SELECT "Code", id FROM billing."Orders"
        WHERE "Code" <> 'c1';
    ALTER TABLE billing."Orders" ENABLE ROW LEVEL SECURITY;
    CREATE POLICY "Own" ON billing."Orders" TO {tenant} USING ("Code" <> 'c3' AND tenant = 1);
    GRANT USAGE ON SCHEMA billing TO {tenant};
    GRANT SELECT ON billing."Orders" TO {tenant};
    """
    project = PhaseProject(tmp_path, database_url, schema)
    project.new("rename-column", "billing.Orders", "Code", "Ref")

    def state(conn: psycopg.Connection) -> tuple:
        rows = conn.execute('SELECT * FROM billing."OpenOrders" ORDER BY id').fetchall()
        with conn.transaction():
            conn.execute(f"SET LOCAL ROLE {tenant}")
            seen = conn.execute('SELECT count(*) FROM billing."Orders"').fetchone()[0]
        return rows, seen

    phases = ("expand", "migrate", "switch", "contract")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = state(conn)
        assert len(before[0]) == 99 and before[1] == 49
        for phase in phases:
            result = project.phase("upgrade", phase)
            assert result.exit_code == 0, f"upgrade {phase}: {result.output}"
            assert state(conn) == before, phase
        for phase in reversed(phases):
            result = project.phase("downgrade", phase)
            assert result.exit_code == 0, f"downgrade {phase}: {result.output}"
            assert state(conn) == before, phase
