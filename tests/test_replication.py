"""A table in logical replication: its replica identity survives every phase and the rollback.

A table published for UPDATE and DELETE needs a replica identity; with ``REPLICA
IDENTITY USING INDEX`` on the changed column, the contract's DROP COLUMN takes that
index with it and every later UPDATE and DELETE fails (``cannot update table ...
because it does not have a replica identity and publishes updates``). The carried
index must become the replica identity in the same transaction, and the original
again when the contract is undone. A publication whose column list or row filter
names the column cannot be carried (the subscribers' tables follow the list) and
is refused before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

SCHEMA = """
CREATE TABLE accounts (id bigint PRIMARY KEY, code text NOT NULL, note text);
CREATE UNIQUE INDEX accounts_code_key ON accounts (code);
ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_code_key;
INSERT INTO accounts SELECT g, 'code-' || g, 'n' || g FROM generate_series(1, 300) g;
CREATE PUBLICATION accounts_feed FOR TABLE accounts;
CREATE PUBLICATION accounts_notes FOR TABLE accounts (id, note) WITH (publish = 'insert');
"""


def _identity(conn: psycopg.Connection) -> tuple:
    """The table's replica identity setting and the index it uses, with its columns."""
    return conn.execute(
        "SELECT c.relreplident, (SELECT ic.relname || ' ' || pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid "
        "WHERE i.indrelid = c.oid AND i.indisreplident) FROM pg_class c "
        "WHERE c.oid = 'accounts'::regclass"
    ).fetchone()


@pytest.mark.parametrize(
    ("kind", "args", "after"),
    [
        ("rename-column", ("ref",), "ref"),
        ("change-type", ("varchar(64)",), "code"),
    ],
)
def test_replica_identity_moves_with_the_column(
    tmp_path: Path, database_url: str, kind: str, args: tuple, after: str
) -> None:
    project = PhaseProject(tmp_path, database_url, SCHEMA)
    project.new(kind, "accounts", "code", *args)
    new = args[0] if kind == "rename-column" else None
    failed: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _identity(conn)
        assert before[0] == "i" and before[1].startswith("accounts_code_key ")
        step = 0

        def write(column: str) -> None:
            nonlocal step
            step += 1
            try:
                conn.execute(
                    f"INSERT INTO accounts (id, {column}, note) VALUES (%s, %s, 'w')",
                    (10_000 + step, f"w-{step}"),
                )
                conn.execute("UPDATE accounts SET note = %s WHERE id = %s", (f"u{step}", step))
                conn.execute("DELETE FROM accounts WHERE id = %s", (10_000 + step,))
            except psycopg.Error as err:
                failed.append(f"step {step} ({column}): {err}")

        phases = ("expand", "migrate", "switch", "contract")
        for phase in phases:
            result = project.phase("upgrade", phase)
            assert result.exit_code == 0, f"upgrade {phase}: {result.output}"
            if phase != "contract":
                write("code")
            if new and phase in ("migrate", "switch", "contract"):
                write(new)
        if kind == "change-type":
            write("code")
        state = _identity(conn)
        assert state[0] == "i", state
        # the index under the original name, on the column the new version reads
        assert state[1] == "accounts_code_key CREATE UNIQUE INDEX accounts_code_key ON " + (
            f"public.accounts USING btree ({after})"
        )
        for phase in reversed(phases):
            result = project.phase("downgrade", phase)
            assert result.exit_code == 0, f"downgrade {phase}: {result.output}"
            write("code")
        assert _identity(conn) == before
    assert failed == []


PUBLISHED = """
CREATE PUBLICATION code_list FOR TABLE accounts (id, code);
CREATE PUBLICATION code_filter FOR TABLE accounts WHERE (code <> 'internal');
"""


def _published(conn: psycopg.Connection) -> list:
    """Each publication of accounts: its column list by name, and its row filter."""
    return conn.execute(
        "SELECT p.pubname, ARRAY(SELECT attname FROM unnest(pr.prattrs::int2[]) k "
        "JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k), "
        "pg_get_expr(pr.prqual, pr.prrelid) FROM pg_publication_rel pr "
        "JOIN pg_publication p ON p.oid = pr.prpubid "
        "WHERE pr.prrelid = 'accounts'::regclass ORDER BY 1"
    ).fetchall()


@pytest.mark.parametrize(
    ("args", "after"),
    [
        (("rename-column", "accounts", "code", "ref"), "ref"),
        (("change-type", "accounts", "code", "varchar(64)"), "code"),
    ],
    ids=["rename-column", "change-type"],
)
def test_a_publication_column_list_and_row_filter_follow_the_column(
    tmp_path: Path, database_url: str, args: tuple, after: str
) -> None:
    """PostgreSQL refuses the contract's DROP COLUMN while a publication's column list or
    row filter names the column: the contract gives the table to each publication again,
    naming the new column, in the same transaction; undoing it names the old again."""
    project = PhaseProject(tmp_path, database_url, SCHEMA + PUBLISHED)
    project.new(*args)
    phases = ("expand", "migrate", "switch", "contract")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _published(conn)
        assert [p[0] for p in before] == [
            "accounts_feed",
            "accounts_notes",
            "code_filter",
            "code_list",
        ]

        def writes(step: str) -> None:  # both need the replica identity in the list
            conn.execute("UPDATE accounts SET note = %s WHERE id = 7", (step,))
            conn.execute("DELETE FROM accounts WHERE id = (SELECT max(id) FROM accounts)")

        for phase in phases:
            result = project.phase("upgrade", phase)
            assert result.exit_code == 0, f"upgrade {phase}: {result.output}"
            writes(phase)
        carried = {p[0]: p[1:] for p in _published(conn)}
        assert carried["code_list"][0] == ["id", after]
        assert after in carried["code_filter"][1] and "internal" in carried["code_filter"][1]
        for phase in reversed(phases):
            result = project.phase("downgrade", phase)
            assert result.exit_code == 0, f"downgrade {phase}: {result.output}"
            writes(phase)
        assert _published(conn) == before


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ("", "accounts.code is in index accounts_code_key, the table's replica identity"),
        (
            "ALTER TABLE accounts REPLICA IDENTITY DEFAULT; "
            "CREATE PUBLICATION code_list FOR TABLE accounts (id, code)",
            "publication code_list names accounts.code in its column list",
        ),
    ],
    ids=["replica-identity", "column-list"],
)
def test_dropping_what_replication_needs_is_refused(
    tmp_path: Path, database_url: str, setup: str, says: str
) -> None:
    project = PhaseProject(tmp_path, database_url, SCHEMA + setup + ";")
    ini = str(project.root / "alembic.ini")
    refused = project.cli("new", "drop-column", "accounts", "code", "-m", "c", "-c", ini)
    assert refused.exit_code == 2, refused.output
    assert says in " ".join(refused.output.split()), refused.output
    project.new("drop-column", "accounts", "code", "--no-database-check")
    for phase in ("expand", "migrate", "switch"):
        assert project.phase("upgrade", phase).exit_code == 0
    result = project.phase("upgrade", "contract")
    assert result.exit_code == 1 and says in " ".join(result.output.split()), result.output
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE accounts SET note = 'still' WHERE id = 1")  # identity kept
        assert conn.execute("SELECT count(*) FROM accounts WHERE code IS NOT NULL").fetchone()


def test_a_primary_key_named_as_replica_identity_moves_too(
    tmp_path: Path, database_url: str
) -> None:
    """The primary key's index named explicitly (REPLICA IDENTITY USING INDEX on the key):
    the carried key is the replica identity after contract, the original after rollback."""
    schema = SCHEMA + (  # a column list naming the key is refused (see below)
        "DROP PUBLICATION accounts_notes; "
        "ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_pkey;"
    )
    project = PhaseProject(tmp_path, database_url, schema)
    project.new("rename-column", "accounts", "id", "account_no")
    phases = ("expand", "migrate", "switch", "contract")
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _identity(conn)
        assert before[1].startswith("accounts_pkey ")
        for phase in phases:
            assert project.phase("upgrade", phase).exit_code == 0, phase
        assert _identity(conn) == (
            "i",
            "accounts_pkey CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree "
            "(account_no)",
        )
        conn.execute("UPDATE accounts SET note = 'after' WHERE account_no = 2")
        conn.execute("DELETE FROM accounts WHERE account_no = 3")
        for phase in reversed(phases):
            assert project.phase("downgrade", phase).exit_code == 0, phase
            conn.execute("UPDATE accounts SET note = %s WHERE id = 4", (phase,))
        assert _identity(conn) == before


def test_dropping_a_column_a_view_reads_is_refused_up_front(
    tmp_path: Path, database_url: str
) -> None:
    """Found by new, not when the contract's DROP COLUMN fails."""
    setup = "CREATE VIEW account_notes AS SELECT id, note FROM accounts;"
    project = PhaseProject(tmp_path, database_url, SCHEMA + setup)
    ini = str(project.root / "alembic.ini")
    refused = project.cli("new", "drop-column", "accounts", "note", "-m", "c", "-c", ini)
    assert refused.exit_code == 2, refused.output
    assert "view public.account_notes reads accounts.note" in refused.output


def test_a_rollback_does_not_drop_the_replica_identity_index(
    tmp_path: Path, database_url: str
) -> None:
    """An index made by add-index that became the replica identity since: undoing the
    expand refuses to drop it, saying what to do, and drops it once that is done."""
    project = PhaseProject(tmp_path, database_url, SCHEMA)
    project.new("add-index", "accounts", "note", "id", "--unique")
    assert project.phase("upgrade", "expand").exit_code == 0
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE accounts SET note = 'n' || id")
        conn.execute("ALTER TABLE accounts ALTER COLUMN note SET NOT NULL")
        (index,) = conn.execute(
            "SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = "
            "'accounts'::regclass AND NOT indisprimary AND indkey::text = '3 1'"
        ).fetchone()
        conn.execute(f"ALTER TABLE accounts REPLICA IDENTITY USING INDEX {index}")
        result = project.phase("downgrade", "expand")
        assert result.exit_code == 1, result.output
        assert f"index {index} is the replica identity of accounts" in " ".join(
            result.output.split()
        )
        conn.execute("UPDATE accounts SET note = 'still' WHERE id = 1")  # identity kept
        conn.execute("ALTER TABLE accounts REPLICA IDENTITY USING INDEX accounts_code_key")
        assert project.phase("downgrade", "expand").exit_code == 0
        assert conn.execute("SELECT to_regclass(%s)", (index,)).fetchone() == (None,)
