"""rename-column and change-type lose nothing, on a realistic schema, up and all the way back.

The table carries what real tables do: an identity primary key, a foreign key
out, UNIQUE and CHECK constraints, a partial and an expression index, a default,
NOT NULL, a comment, column grants, a statistics target; it sits in ``public``,
in another schema, or has a mixed-case quoted name. The test reads the
catalog's inventory of the table itself (not our inventory code) before the
change, after contract and after the full rollback: after contract it must equal
the original with the column renamed, after the rollback the original. At each
step the old and the new application version write as the phase allows, and
none of their statements may fail.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

TARGETS = {
    "public": ("orders", "orders"),
    "schema": ("billing.invoices", "billing.invoices"),
    "mixed-case": ("Orders", '"Orders"'),
}
# the table whose foreign key points at the target's key, beside it
LINES = {"public": "order_lines", "schema": "billing.invoice_lines", "mixed-case": '"OrderLines"'}

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS billing;
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL);
INSERT INTO customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 50) g;
CREATE TABLE {q} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    code text NOT NULL DEFAULT 'x',
    amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0),
    note text
);
ALTER TABLE {q} ADD CONSTRAINT {p}_code_key UNIQUE (code);
ALTER TABLE {q} ADD CONSTRAINT {p}_code_check CHECK (length(code) BETWEEN 1 AND 40);
CREATE INDEX {p}_code_lower ON {q} (lower(code));
CREATE INDEX {p}_customer_open ON {q} (customer_id) WHERE code <> 'void';
COMMENT ON COLUMN {q}.code IS 'the order''s public code';
GRANT SELECT (code), UPDATE (code) ON {q} TO {role};
ALTER TABLE {q} ALTER COLUMN code SET STATISTICS 500;
INSERT INTO {q} (customer_id, code, amount, note)
SELECT g % 50 + 1, 'code-' || g, g, 'n' || g FROM generate_series(1, 400) g;
CREATE TABLE {lines} (id bigint PRIMARY KEY,
                      order_id bigint NOT NULL REFERENCES {q} (id) ON DELETE CASCADE);
INSERT INTO {lines} SELECT g, g % 400 + 1 FROM generate_series(1, 800) g;
"""


def _inventory(conn: psycopg.Connection, table: str, column: str) -> dict:
    """What the catalog says hangs on ``table`` and on its ``column``, names kept."""
    rel = conn.execute("SELECT to_regclass(%s)::oid", (table,)).fetchone()[0]
    indexes = conn.execute(
        "SELECT c.relname, regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s",
        (rel,),
    ).fetchall()
    constraints = conn.execute(
        "SELECT conname, contype, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
        "WHERE conrelid = %s AND contype <> 'n'",
        (rel,),
    ).fetchall()
    attribute = conn.execute(
        "SELECT attnotnull, pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, "
        "a.attnum), attstattarget, (SELECT array_agg(x::text ORDER BY x::text) FROM "
        "unnest(attacl) x) FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = "
        "a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = %s AND a.attname = %s "
        "AND NOT attisdropped",
        (rel, column),
    ).fetchone()
    triggers = conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal", (rel,)
    ).fetchall()
    columns = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attname",
        (rel,),
    ).fetchall()
    return {
        "indexes": sorted(indexes),
        "constraints": sorted(constraints),
        "column": attribute,
        "triggers": sorted(triggers),
        "columns": [c[0] for c in columns],
    }


def _renamed(inventory: dict, old: str, new: str) -> dict:
    """The inventory with the column's references (not the objects' names) renamed."""

    def sub(definition: str) -> str:
        # a foreign key's referenced columns are another table's: only its own change
        own, sep, referenced = definition.partition(" REFERENCES ")
        return re.sub(rf"\b{old}\b", new, own) + sep + referenced

    return {
        "indexes": sorted((n, sub(d)) for n, d in inventory["indexes"]),
        "constraints": sorted((n, t, sub(d), v) for n, t, d, v in inventory["constraints"]),
        "column": inventory["column"],
        "triggers": inventory["triggers"],
        "columns": sorted(new if c == old else c for c in inventory["columns"]),
    }


def _data(conn: psycopg.Connection, q: str, column: str) -> list:
    return conn.execute(f"SELECT id, {column}::text, amount, note FROM {q} ORDER BY id").fetchall()


@pytest.fixture
def role(database_url: str):
    name = f"ec_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name}")
    yield name
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"DROP OWNED BY {name}")
        conn.execute(f"DROP ROLE {name}")


def _project(tmp_path: Path, database_url: str, target: str, role: str):
    table, q = TARGETS[target]
    prefix = "ix" if target == "mixed-case" else table.split(".")[-1]
    base = SCHEMA.format(q=q, p=prefix, role=role, lines=LINES[target])
    project = PhaseProject(tmp_path, database_url, base)
    return project, table, q


def _run(project: PhaseProject, action: str, phase: str) -> None:
    result = project.phase(action, phase)
    assert result.exit_code == 0, f"{action} {phase}: {result.output}"


@pytest.mark.parametrize("target", list(TARGETS))
def test_rename_column_carries_everything_and_restores_it(
    tmp_path: Path, database_url: str, role: str, target: str
) -> None:
    project, table, q = _project(tmp_path, database_url, target, role)
    project.new("rename-column", table, "code", "ref")
    failed: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _inventory(conn, q, "code")
        data_before = _data(conn, q, "code")

        def old_app(n: int) -> None:  # names code, never ref
            try:
                conn.execute(
                    f"INSERT INTO {q} (customer_id, code, amount) VALUES (1, %s, 1)", (f"old{n}",)
                )
                conn.execute(f"UPDATE {q} SET code = %s WHERE code = %s", (f"old{n}u", f"old{n}"))
                conn.execute(f"DELETE FROM {q} WHERE code = %s", (f"old{n}u",))
            except psycopg.Error as err:
                failed.append(f"old app #{n}: {err}")

        def new_app(n: int) -> None:  # names ref, never code
            try:
                conn.execute(f"INSERT INTO {q} (customer_id, ref) VALUES (2, %s)", (f"new{n}",))
                conn.execute(f"UPDATE {q} SET ref = %s WHERE ref = %s", (f"new{n}u", f"new{n}"))
                conn.execute(f"DELETE FROM {q} WHERE ref = %s", (f"new{n}u",))
            except psycopg.Error as err:
                failed.append(f"new app #{n}: {err}")

        step = 0
        for phase, apps in (
            ("expand", (old_app,)),
            ("migrate", (old_app, new_app)),
            ("switch", (old_app, new_app)),
            ("contract", (new_app,)),
        ):
            _run(project, "upgrade", phase)
            for app in apps:
                step += 1
                app(step)
        after = _inventory(conn, q, "ref")
        assert after == _renamed(before, "code", "ref")
        # the carried UNIQUE and CHECK hold for the new column
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(f"INSERT INTO {q} (customer_id, ref) VALUES (1, 'code-1')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(f"INSERT INTO {q} (customer_id, ref) VALUES (1, '')")
        assert _data(conn, q, "ref") == data_before
        for phase, apps in (
            ("contract", (new_app,)),
            ("switch", (old_app, new_app)),
            ("migrate", (old_app,)),
            ("expand", (old_app,)),
        ):
            _run(project, "downgrade", phase)
            for app in apps:
                step += 1
                app(step)
        assert _inventory(conn, q, "code") == before
        assert _data(conn, q, "code") == data_before
    assert failed == []


@pytest.mark.parametrize("target", list(TARGETS))
def test_change_type_of_a_foreign_key_column_keeps_the_key_and_its_index(
    tmp_path: Path, database_url: str, role: str, target: str
) -> None:
    project, table, q = _project(tmp_path, database_url, target, role)
    project.new("change-type", table, "customer_id", "bigint")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _inventory(conn, q, "customer_id")
        for phase in ("expand", "migrate", "switch", "contract"):
            _run(project, "upgrade", phase)
        # the new column took the old one's name, and everything under the original names
        after = _inventory(conn, q, "customer_id")
        assert after["indexes"] == before["indexes"]
        assert after["constraints"] == before["constraints"]
        assert after["column"] == before["column"]
        assert after["triggers"] == before["triggers"]
        # the foreign key is enforced on the new column: no row for a missing customer
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(f"INSERT INTO {q} (customer_id, code) VALUES (999999, 'orphan')")
        for phase in ("contract", "switch", "migrate", "expand"):
            _run(project, "downgrade", phase)
        assert _inventory(conn, q, "customer_id") == before


def test_change_type_moves_the_default_for_the_new_version(
    tmp_path: Path, database_url: str, role: str
) -> None:
    project, table, q = _project(tmp_path, database_url, "public", role)
    project.new("change-type", table, "amount", "numeric(14,2)")
    with psycopg.connect(database_url, autocommit=True) as conn:
        for phase in ("expand", "migrate", "switch", "contract"):
            _run(project, "upgrade", phase)
        # the new version inserts without naming the amount: the default must be there
        conn.execute(f"INSERT INTO {q} (customer_id, code) VALUES (1, 'defaulted')")
        row = conn.execute(f"SELECT amount FROM {q} WHERE code = 'defaulted'").fetchone()
        assert row == (0,)
        with pytest.raises(psycopg.errors.CheckViolation):  # the CHECK came along
            conn.execute(f"INSERT INTO {q} (customer_id, code, amount) VALUES (1, 'n', -1)")
        for phase in ("contract", "switch", "migrate", "expand"):
            _run(project, "downgrade", phase)
        default = conn.execute(
            "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef d JOIN pg_attribute a ON "
            "a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = %s::regclass "
            "AND a.attname = 'amount'",
            (q,),
        ).fetchone()
        assert default == ("0",)


@pytest.mark.parametrize(
    ("kind", "column", "setup", "says"),
    [
        (
            "rename-column",
            "code",
            "CREATE POLICY own_codes ON orders USING (EXISTS (SELECT WHERE code <> 'secret'))",
            "row-level security policy own_codes on orders uses code",
        ),
        (
            "rename-column",
            "note",
            "CREATE MATERIALIZED VIEW order_notes AS SELECT id, note FROM orders",
            "materialized view order_notes reads orders.note",
        ),
        (
            "rename-column",
            "note",
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
            "'BEGIN RETURN NEW; END'; CREATE TRIGGER touch_note BEFORE UPDATE OF note ON orders "
            "FOR EACH ROW EXECUTE FUNCTION touch()",
            "trigger touch_note on orders fires on UPDATE OF note",
        ),
    ],
)
def test_what_cannot_be_carried_is_refused_before_anything_runs(
    tmp_path: Path, database_url: str, role: str, kind: str, column: str, setup: str, says: str
) -> None:
    project, table, q = _project(tmp_path, database_url, "public", role)
    with psycopg.connect(database_url, autocommit=True) as conn:
        if setup:
            conn.execute(setup)
        columns_before = _inventory(conn, q, column)["columns"]
        args = [kind, table, column, "bigint" if kind == "change-type" else f"{column}_renamed"]
        versions = project.root / "migrations" / "versions"
        files = sorted(versions.iterdir())
        ini = str(project.root / "alembic.ini")
        refused = project.cli("new", *args, "-m", "change", "-c", ini)
        assert refused.exit_code == 2, refused.output  # `new` asks the database first
        assert says in refused.output and "Traceback" not in refused.output
        assert sorted(versions.iterdir()) == files  # nothing written
        # written without asking, the expand phase refuses before it changes anything
        project.new(*args, "--no-database-check")
        result = project.phase("upgrade", "expand")
        assert result.exit_code == 1, result.output
        assert says in result.output, result.output
        assert _inventory(conn, q, column)["columns"] == columns_before  # nothing added
        status = project.cli("status", "-c", str(project.root / "alembic.ini"))
        assert "expand    0 applied, 1 pending" in status.stdout


def _key_state(conn: psycopg.Connection, q: str, lines: str, column: str) -> dict:
    """The key's own inventory and what the lines table's foreign key points at."""
    return {
        "table": _inventory(conn, q, column),
        "lines": conn.execute(
            "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY 1",
            (lines,),
        ).fetchall(),
        "identity": conn.execute(
            "SELECT attidentity FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s",
            (q, column),
        ).fetchone(),
    }


@pytest.mark.parametrize("target", list(TARGETS))
def test_rename_of_an_identity_primary_key_referenced_by_another_table(
    tmp_path: Path, database_url: str, role: str, target: str
) -> None:
    project, table, q = _project(tmp_path, database_url, target, role)
    lines = LINES[target]
    project.new("rename-column", table, "id", "order_no")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _key_state(conn, q, lines, "id")
        rows = conn.execute(f"SELECT id, code FROM {q} ORDER BY id").fetchall()
        for phase in ("expand", "migrate", "switch"):
            _run(project, "upgrade", phase)
            # the old version inserts without an id: the identity still numbers it
            conn.execute(f"INSERT INTO {q} (customer_id, code) VALUES (1, %s)", (f"o-{phase}",))
        _run(project, "upgrade", "contract")
        after = _key_state(conn, q, lines, "order_no")
        expected = _renamed(before["table"], "id", "order_no")
        for key in expected:
            assert after["table"][key] == expected[key], key
        assert after["lines"] == [
            (n, re.sub(r"\(id\)", "(order_no)", d) if "REFERENCES" in d else d, v)
            for n, d, v in before["lines"]
        ]
        assert after["identity"] == before["identity"] == ("a",)
        # the new version inserts without a key: numbering goes on where it was
        new_id = conn.execute(
            f"INSERT INTO {q} (customer_id, code) VALUES (1, 'n-1') RETURNING order_no"
        ).fetchone()[0]
        assert new_id == 404
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(f"INSERT INTO {lines} VALUES (100000, 999999)")
        conn.execute(f"DELETE FROM {q} WHERE order_no = 404")
        for phase in ("contract", "switch", "migrate", "expand"):
            _run(project, "downgrade", phase)
        assert _key_state(conn, q, lines, "id") == before
        conn.execute(f"DELETE FROM {q} WHERE code LIKE 'o-%'")
        assert conn.execute(f"SELECT id, code FROM {q} ORDER BY id").fetchall() == rows
        again = conn.execute(
            f"INSERT INTO {q} (customer_id, code) VALUES (1, 'a-1') RETURNING id"
        ).fetchone()[0]
        assert again == 405  # the restored identity goes on from the moved one


def test_change_type_of_a_serial_primary_key_referenced_by_another_table(
    tmp_path: Path, database_url: str, role: str
) -> None:
    project, _, q = _project(tmp_path, database_url, "public", role)
    project.new("change-type", "customers", "id", "bigint")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _key_state(conn, "customers", q, "id")
        for phase in ("expand", "migrate", "switch", "contract"):
            _run(project, "upgrade", phase)
        after = _key_state(conn, "customers", q, "id")  # the new column took the name
        assert [c[:2] for c in after["table"]["constraints"]] == [
            c[:2] for c in before["table"]["constraints"]
        ]
        assert after["table"]["indexes"] == before["table"]["indexes"]
        sequence = conn.execute("SELECT pg_get_serial_sequence('customers', 'id')")
        assert sequence.fetchone() == ("public.customers_id_seq",)  # kept, not dropped
        assert conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'customers'::regclass AND attname = 'id'"
        ).fetchone() == ("bigint",)
        new_id = conn.execute(
            "INSERT INTO customers (email) VALUES ('new') RETURNING id"
        ).fetchone()[0]
        assert new_id == 51  # the default came along, and the sequence goes on
        fk = [d for n, d, _ in after["lines"] if n == "orders_customer_id_fkey"]
        assert fk == ["FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE"]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(f"INSERT INTO {q} (customer_id, code) VALUES (999999, 'orphan')")
        conn.execute("DELETE FROM customers WHERE id = 51")
        for phase in ("contract", "switch", "migrate", "expand"):
            _run(project, "downgrade", phase)
        restored = _key_state(conn, "customers", q, "id")
        assert restored["table"] == before["table"]
        assert restored["lines"] == before["lines"]


def test_verify_passes_on_the_realistic_project(
    tmp_path: Path, database_url: str, role: str
) -> None:
    """The stairway (each revision up, down, compared, up again) over six changes on the
    realistic tables: a carried column, a retyped serial key, a renamed identity key, a
    UNIQUE, a dropped column and a NOT NULL."""
    import subprocess
    import sys

    from tests.conftest import ADMIN_URL, assert_dropped

    project, _, _ = _project(tmp_path, database_url, "public", role)
    base = project.root / "migrations" / "versions" / "r0001_base.py"
    base.write_text(
        base.read_text().replace(
            "def downgrade():\n    pass",
            'def downgrade():\n    op.execute("DROP TABLE order_lines, orders, customers")',
        )
    )
    project.new("rename-column", "orders", "code", "ref")
    project.new("change-type", "customers", "id", "bigint")
    project.new("rename-column", "orders", "id", "order_no")
    # changes that start at a later phase depend on every phase branch's head: Alembic
    # merges those in its version table, which verify's order must follow
    project.new("add-unique", "orders", "note")
    project.new("drop-column", "orders", "amount")
    project.new("set-not-null", "orders", "note", "--backfill", "'none'")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "expandcontract",
            "verify",
            "-c",
            str(project.root / "alembic.ini"),
            "--database-url",
            ADMIN_URL,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    report = json.loads(result.stdout)
    failed = {
        r["revision"]: [p["message"] for p in r["problems"] if p["severity"] == "error"]
        for r in report["revisions"]
        if r["status"] == "failed"
    }
    assert result.returncode == 0 and not failed, failed
    assert len(report["revisions"]) == 20
    assert_dropped(result.stderr)
