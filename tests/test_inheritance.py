"""Inheritance children (``pg_inherits``, not partitions) are refused before anything runs.

A sync trigger on the parent does not fire for rows written to a child: an old-version
UPDATE of a child row after the backfill never reached the new column, and the
child's own index on the column was dropped at contract and not restored by the
rollback. Until the trigger and the carried objects go on every child, ``new`` and
the expand phase refuse the change, naming the children, and nothing is changed.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.phase_project import PhaseProject

SCHEMA = """
CREATE TABLE events (id bigint PRIMARY KEY, code text NOT NULL, note text);
CREATE TABLE events_2025 (CHECK (id < 1000)) INHERITS (events);
CREATE TABLE events_2026 (CHECK (id >= 1000)) INHERITS (events);
ALTER TABLE events_2025 ADD PRIMARY KEY (id);
ALTER TABLE events_2026 ADD PRIMARY KEY (id);
CREATE INDEX events_2026_code ON events_2026 (code);
INSERT INTO events SELECT g, 'p' || g FROM generate_series(1, 50) g;
INSERT INTO events_2025 SELECT g, 'a' || g FROM generate_series(100, 150) g;
INSERT INTO events_2026 SELECT g, 'b' || g FROM generate_series(1000, 1050) g;
"""


def _columns(conn: psycopg.Connection) -> list:
    return conn.execute(
        "SELECT attrelid::regclass::text, attname FROM pg_attribute WHERE attnum > 0 "
        "AND NOT attisdropped AND attrelid IN ('events'::regclass, 'events_2025'::regclass, "
        "'events_2026'::regclass) ORDER BY 1, 2"
    ).fetchall()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("rename-column", "events", "code", "ref"),
            "events has inheritance children (events_2025, events_2026)",
        ),
        (
            ("change-type", "events", "code", "varchar(40)"),
            "events has inheritance children (events_2025, events_2026)",
        ),
        (
            ("rename-column", "events_2026", "code", "ref"),
            "events_2026.code is inherited from events: PostgreSQL renames or retypes it "
            "only there",
        ),
    ],
)
def test_a_table_with_inheritance_children_is_refused(
    tmp_path: Path, database_url: str, args: tuple, says: str
) -> None:
    project = PhaseProject(tmp_path, database_url, SCHEMA)
    ini = str(project.root / "alembic.ini")
    versions = project.root / "migrations" / "versions"
    files = sorted(versions.iterdir())
    refused = project.cli("new", *args, "-m", "c", "-c", ini)
    assert refused.exit_code == 2, refused.output
    assert says in " ".join(refused.output.split()), refused.output
    assert "maintenance window" in refused.output or "instead" in refused.output
    assert sorted(versions.iterdir()) == files  # nothing written
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _columns(conn)
        # written without asking (or before the children existed): expand refuses too
        project.new(*args, "--no-database-check")
        result = project.phase("upgrade", "expand")
        assert result.exit_code == 1, result.output
        assert says in " ".join(result.output.split()), result.output
        assert _columns(conn) == before
        # an old-version write to a child still lands, and nothing half-made is left
        conn.execute("UPDATE events_2026 SET code = 'late' WHERE id = 1000")
        triggers = conn.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN "
            "('events'::regclass, 'events_2025'::regclass, 'events_2026'::regclass)"
        ).fetchone()
        assert triggers == (0,)
