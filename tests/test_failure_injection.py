"""A failure at every DDL step of every phase, up and down: status tells the truth and
a rerun finishes the phase, leaving exactly what a clean run leaves.

The failure is PostgreSQL's own: an event trigger on ``ddl_command_start`` raises
an error (``error``), or terminates the migration's own backend as a killed process
or a dropped connection would (``kill``), at the k-th DDL statement the phase runs,
for every k until the phase gets through. The change is rename-column on the
realistic table of test_carry_over (indexes, UNIQUE, CHECKs, a foreign key, comment,
grants, statistics), so every carry-over step is among those interrupted.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.test_carry_over import _inventory, _project, _renamed
from tests.test_carry_over import role as role  # the fixture
from tests.test_hostile_names import KINDS

INJECT = """
CREATE SEQUENCE IF NOT EXISTS ec_inject_count;
CREATE OR REPLACE FUNCTION ec_inject() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_query() LIKE '%expandcontract_phase_log%'
       OR current_query() LIKE '%expandcontract_runner%' THEN
        RETURN;  -- the runner's own log of the run and its lease, around the run
    END IF;
    IF nextval('ec_inject_count') = {k} THEN
        IF '{mode}' = 'kill' THEN
            PERFORM pg_terminate_backend(pg_backend_pid());
        END IF;
        RAISE EXCEPTION 'injected failure at DDL statement {k}';
    END IF;
END $$;
DROP EVENT TRIGGER IF EXISTS ec_inject;
CREATE EVENT TRIGGER ec_inject ON ddl_command_start EXECUTE FUNCTION ec_inject();
"""
CLEAR = "DROP EVENT TRIGGER IF EXISTS ec_inject; DROP SEQUENCE IF EXISTS ec_inject_count"


def _status(project) -> dict:
    result = project.cli("status", "-c", str(project.root / "alembic.ini"), "--format", "json")
    return {s["phase"]: s for s in json.loads(result.stdout)}


def _fail_each_step(conn, project, action: str, phase: str, mode: str) -> int:
    """Inject at k = 1, 2, ... until the phase runs through; after each failure check
    status and rerun. Returns how many steps were interrupted."""
    k = 0
    while True:
        k += 1
        conn.execute(INJECT.format(k=k, mode=mode))
        result = project.phase(action, phase)
        conn.execute(CLEAR)
        if result.exit_code == 0:
            # fewer than k DDL statements: the phase ran clean. Undo it for the caller's
            # next step to find it as before (the injection loop ends here)
            return k - 1
        assert result.exit_code in (1, 130), result.output
        assert "Traceback" not in result.output
        assert k < 100, "the phase never gets through"
        if mode == "error" and "injected failure" not in result.output:
            # the event trigger itself is in the way (DROP INDEX CONCURRENTLY must be the
            # first action of its transaction, and the trigger acted first): no more steps
            # can be failed this way; the rerun below still has to finish the phase
            conn.execute(CLEAR)
            rerun = project.phase(action, phase)
            assert rerun.exit_code == 0, rerun.output
            back = project.phase("downgrade" if action == "upgrade" else "upgrade", phase)
            assert back.exit_code == 0, back.output
            return k - 1
        state = _status(project)[phase]
        # the version table says not done, and status says a run did not finish
        if action == "upgrade":
            assert state["pending"], state
        else:
            assert state["applied"], state
        assert state["interrupted"], state
        assert state["interrupted"][0]["direction"] == ("up" if action == "upgrade" else "down")
        rerun = project.phase(action, phase)
        assert rerun.exit_code == 0, f"rerun of {action} {phase} after step {k}: {rerun.output}"
        assert not _status(project)[phase]["interrupted"]
        back = project.phase("downgrade" if action == "upgrade" else "upgrade", phase)
        assert back.exit_code == 0, back.output


CHANGES = {
    # column carried: indexes, UNIQUE, CHECK, comment, grants, statistics
    "rename code": ("orders", "rename-column", "code", "ref"),
    # an identity primary key another table's foreign key points at
    "rename key": ("orders", "rename-column", "id", "order_no"),
    # a serial primary key, referenced, its sequence and default moving
    "retype key": ("customers", "change-type", "id", "bigint"),
}


@pytest.mark.parametrize(
    ("change", "mode"),
    [
        ("rename code", "error"),
        ("rename code", "kill"),
        ("rename key", "error"),
        ("retype key", "kill"),
    ],
)
def test_a_failure_at_every_step_is_reported_and_finished_by_a_rerun(
    tmp_path: Path,
    database_url: str,
    role: str,
    change: str,
    mode: str,
) -> None:
    project, _, _ = _project(tmp_path, database_url, "public", role)
    table, kind, column, argument = CHANGES[change]
    project.new(kind, table, column, argument)
    new = argument if kind == "rename-column" else column  # change-type keeps the name
    steps = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _inventory(conn, table, column)
        clean = {}
        for phase in ("expand", "migrate", "switch", "contract"):
            steps[f"up {phase}"] = _fail_each_step(conn, project, "upgrade", phase, mode)
            assert project.phase("upgrade", phase).exit_code == 0
        clean = _inventory(conn, table, new)
        if kind == "rename-column":
            assert clean == _renamed(before, column, argument)
        for phase in ("contract", "switch", "migrate", "expand"):
            steps[f"down {phase}"] = _fail_each_step(conn, project, "downgrade", phase, mode)
            assert project.phase("downgrade", phase).exit_code == 0
        assert _inventory(conn, table, column) == before
    # every phase that issues DDL was interrupted at each of its statements
    assert steps["up expand"] >= 3 and steps["up contract"] >= 3 and steps["down contract"] >= 3


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "rename-column"])  # above
def test_every_kind_survives_a_failure_at_every_step(
    tmp_path: Path, database_url: str, kind: str
) -> None:
    """The other kinds, on a table in a schema with a quoted mixed-case name: a failure at
    each DDL step, up and down, then the rerun; the end state is the start state."""
    from tests.phase_project import PhaseProject
    from tests.test_hostile_names import _base, _kind_args, _shape

    name = "billing.Orders"
    project = PhaseProject(tmp_path, database_url, _base(name))
    project.new(*_kind_args(kind, name))
    versions = project.root / "migrations" / "versions"
    phases = [
        p
        for p in ("expand", "migrate", "switch", "contract")
        if any(f"({p})" in f.read_text() for f in versions.iterdir())
    ]
    with psycopg.connect(database_url, autocommit=True) as conn:
        before = _shape(conn)
        for phase in phases:
            _fail_each_step(conn, project, "upgrade", phase, "error")
            assert project.phase("upgrade", phase).exit_code == 0
        for phase in reversed(phases):
            _fail_each_step(conn, project, "downgrade", phase, "error")
            assert project.phase("downgrade", phase).exit_code == 0
        assert _shape(conn) == before
