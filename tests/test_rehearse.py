"""`expandcontract rehearse` on the bundled examples and on broken inputs, real PostgreSQL.

CI runs every example end to end at a small size: the phased run must show no failed
query in any phase or downgrade and no lock wait beyond lock_timeout; the naive one-step
migration of the same change must show the failures the phases avoid.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN_URL, assert_dropped, databases_named_in

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CASES = {
    "rename-column": "naive/0002_rename_naive.py",
    "change-type": "naive/0002_payload_jsonb_naive.py",
    "not-null-column": "naive/0002_order_number_naive.py",
    "key-change": "naive/0002_customer_id_bigint_naive.py",
}


def command(example: Path, *args: str, url: str = ADMIN_URL) -> list[str]:
    return [
        sys.executable,
        "-m",
        "expandcontract",
        "rehearse",
        "-c",
        str(example / "alembic.ini"),
        "--workload",
        str(example / "workload.py"),
        "--database-url",
        url,
        *args,
    ]


def rehearse(example: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(command(example, *args), capture_output=True, text=True)


@pytest.mark.parametrize("name", list(CASES))
def test_example_phases_have_zero_failed_queries(name: str, tmp_path: Path) -> None:
    example = EXAMPLES / name
    result = rehearse(
        example,
        "--rows",
        "3000",
        "--duration",
        "0.4",
        "--naive",
        str(example / CASES[name]),
        "--format",
        "json",
        "--plot",
        str(tmp_path / "latency.png"),
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0, result.stderr[-2000:]
    phases = report["phases"]
    assert {p["phase"] for p in phases} <= {"expand", "migrate", "switch", "contract"}
    assert {p["direction"] for p in phases} == {"up", "down"}
    for phase in phases:
        assert set(phase) >= {
            "phase",
            "direction",
            "queries",
            "failed",
            "p50_ms",
            "p99_ms",
            "max_ms",
            "max_lock_wait_ms",
            "throughput_ratio",
            "seconds",
        }
        assert phase["queries"] > 0
        assert phase["failed"] == 0, phase
        assert phase["max_lock_wait_ms"] < 2000, phase  # under the default lock_timeout
    if name != "key-change":  # a retype in place keeps the name: it blocks, not breaks
        assert report["naive"]["failed"] > 0, report["naive"]  # what the phases saved
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert_dropped(result.stderr)


def test_a_workload_that_fails_on_its_own_stops_the_run(tmp_path: Path) -> None:
    workload = tmp_path / "workload.py"
    workload.write_text(
        "def old_app(connection, i):\n    raise RuntimeError('the app is broken')\n\n"
        "def new_app(connection, i):\n    pass\n"
    )
    result = rehearse(
        EXAMPLES / "rename-column",
        "--workload",
        str(workload),
        "--rows",
        "100",
        "--duration",
        "0.2",
    )
    assert result.returncode == 1
    assert "the workload fails before any migration ran" in result.stdout
    assert "RuntimeError: the app is broken" in result.stdout
    assert "Traceback" not in result.stderr
    assert_dropped(result.stderr)


def test_a_workload_file_that_is_not_one_is_a_usage_error(tmp_path: Path) -> None:
    workload = tmp_path / "workload.py"
    workload.write_text("def old_app(connection, i):\n    pass\n")
    result = rehearse(EXAMPLES / "rename-column", "--workload", str(workload))
    assert result.returncode == 2 and "must define new_app(connection, i)" in result.stderr


def _interrupt(example: Path, action) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        command(example, "--rows", "2000", "--duration", "1.5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    early = []
    for line in proc.stderr:  # the run names its own database; others may share the server
        early.append(line)
        if databases_named_in(line):
            (name,) = databases_named_in(line)
            break
    else:
        pytest.fail("rehearse never named its database:\n" + "".join(early))
    deadline = time.monotonic() + 60
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        while time.monotonic() < deadline:  # wait for the load to run
            busy = admin.execute(
                "SELECT count(*) >= 4 FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchone()
            if busy and busy[0]:
                break
            time.sleep(0.05)
        for line in proc.stderr:  # into the phases: the run says when it starts one
            early.append(line)
            if "rehearse: applying" in line:
                break
        action(proc, admin, name)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(early) + err)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_reports_partial_results_and_cleans_up(sig) -> None:
    result = _interrupt(EXAMPLES / "rename-column", lambda proc, admin, db: proc.send_signal(sig))
    assert result.returncode == 130, result.stderr[-1500:]
    assert "baseline" in result.stdout and "Interrupted" in result.stderr
    assert "Traceback" not in result.stderr
    assert_dropped(result.stderr)


def test_a_database_that_goes_away_reports_partial_results() -> None:
    def kill(proc, admin, db):
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (db,)
        )

    result = _interrupt(EXAMPLES / "rename-column", kill)
    assert result.returncode == 1, result.stderr[-1500:]
    assert "stopped early" in result.stdout and "baseline" in result.stdout
    assert "Traceback" not in result.stderr
    assert_dropped(result.stderr)


BROKEN_WORKLOADS = {
    "hangs": (
        "import time\ndef old_app(connection, i):\n    time.sleep(3600)\n",
        "completed no unit of work",
    ),
    "exits": ("import sys\ndef old_app(connection, i):\n    sys.exit(3)\n", "SystemExit"),
    "interrupts itself": (
        "def old_app(connection, i):\n    raise KeyboardInterrupt\n",
        "KeyboardInterrupt",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN_WORKLOADS))
def test_a_workload_that_measures_nothing_is_an_error(tmp_path: Path, case: str) -> None:
    source, says = BROKEN_WORKLOADS[case]
    workload = tmp_path / "workload.py"
    workload.write_text(source + "\ndef new_app(connection, i):\n    pass\n")
    result = rehearse(
        EXAMPLES / "rename-column",
        "--workload",
        str(workload),
        "--rows",
        "100",
        "--duration",
        "0.5",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert says in result.stdout, result.stdout
    assert "Traceback" not in result.stderr
    assert_dropped(result.stderr)


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("WORKERS = 0\n", "WORKERS must be a whole number from 1 to 64, not 0"),
        ("WORKERS = 'many'\n", "WORKERS must be a whole number from 1 to 64, not 'many'"),
    ],
)
def test_workload_settings_are_validated(tmp_path: Path, source: str, says: str) -> None:
    workload = tmp_path / "workload.py"
    workload.write_text(
        source + "def old_app(connection, i):\n    pass\n\ndef new_app(connection, i):\n    pass\n"
    )
    result = rehearse(EXAMPLES / "rename-column", "--workload", str(workload))
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def test_a_seed_that_raises_shows_its_own_error(tmp_path: Path) -> None:
    workload = tmp_path / "workload.py"
    workload.write_text(
        "def seed(connection, rows):\n    raise ValueError('no fixtures for you')\n\n"
        "def old_app(connection, i):\n    pass\n\ndef new_app(connection, i):\n    pass\n"
    )
    for fmt in ("text", "json", "markdown"):
        result = rehearse(EXAMPLES / "rename-column", "--workload", str(workload), "--format", fmt)
        assert result.returncode == 1, result.stderr
        assert "ValueError: no fixtures for you" in result.stdout, result.stdout
        assert "Traceback" not in result.stderr


def test_rows_are_bounded() -> None:
    result = rehearse(EXAMPLES / "rename-column", "--rows", "1000000000000")
    assert result.returncode == 2 and "--rows" in result.stderr


def test_plot_without_matplotlib_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from expandcontract.cli import cli

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    monkeypatch.chdir(tmp_path)  # no project either: the plot is refused first
    started = time.monotonic()
    (tmp_path / "w.py").write_text("def new_app(connection, i):\n    pass\n")
    args = ["rehearse", "--workload", str(tmp_path / "w.py"), "--plot", str(tmp_path / "p.png")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "needs matplotlib" in result.output and "pip install" in result.output
    assert "expandcontract[" not in result.output
    assert time.monotonic() - started < 10
