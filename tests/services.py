"""Real services the tests start and stop themselves: PgBouncer and a streaming replica.

Both run in a temporary folder on a free loopback port, in front of (or copied from)
the test server, and are stopped and deleted afterwards. As root they run as the
``postgres`` user, which both require. A test that needs one skips, naming the
reason, only when the binary is not installed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import ADMIN_URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _own_folder(prefix: str) -> str:
    directory = tempfile.mkdtemp(prefix=prefix)
    if os.geteuid() == 0:
        import pwd

        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
    return directory


def _wait_for(conninfo: str, what: str, log: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            psycopg.connect(conninfo, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                tail = Path(log).read_text()[-1500:] if os.path.exists(log) else ""
                raise RuntimeError(f"{what} did not start:\n{tail}") from None
            time.sleep(0.1)


def _server() -> dict:
    params = psycopg.conninfo.conninfo_to_dict(ADMIN_URL)
    return {"host": params.get("host", "127.0.0.1"), "port": int(params.get("port", 5432))}


@contextlib.contextmanager
def pgbouncer(pool_mode: str = "transaction", pool_size: int = 10) -> Iterator[str]:
    """PgBouncer in front of the test server; yields the admin URL through it."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(binary):
        pytest.skip("PgBouncer is not installed here (Debian: apt-get install pgbouncer)")
    server = _server()
    directory = _own_folder("ec-pgbouncer-")
    port = free_port()
    ini = os.path.join(directory, "pgbouncer.ini")
    users = os.path.join(directory, "users.txt")
    log = os.path.join(directory, "pgbouncer.log")
    with open(users, "w") as handle:
        handle.write('"postgres" ""\n"root" ""\n')
    with open(ini, "w") as handle:
        handle.write(
            f"""[databases]
* = host={server["host"]} port={server["port"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {users}
admin_users = postgres
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = 500
ignore_startup_parameters = extra_float_digits,options
logfile = {log}
pidfile = {directory}/pgbouncer.pid
"""
        )
    for path in (ini, users):
        os.chmod(path, 0o644)
    process = subprocess.Popen(
        _as_postgres([binary, ini]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        _wait_for(url, "PgBouncer", log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(directory, ignore_errors=True)


def _bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return os.path.dirname(found[-1])
    path = shutil.which("initdb")
    return os.path.dirname(path) if path else None


def _pg(bindir: str, *args: str, timeout: float = 120) -> None:
    result = subprocess.run(
        _as_postgres([os.path.join(bindir, args[0]), *args[1:]]),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stderr[-800:]}")


@contextlib.contextmanager
def primary_and_replica() -> Iterator[tuple[str, str]]:
    """A throwaway primary of our own and its streaming replica (``pg_basebackup -R``),
    each on a free loopback port; yields their URLs. Our own primary, so the shared test
    server's replication settings are left alone."""
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_basebackup) are not installed here")
    directory = _own_folder("ec-replication-")
    primary, standby = os.path.join(directory, "primary"), os.path.join(directory, "replica")
    ports = free_port(), free_port()
    running: list[str] = []
    try:
        _pg(bindir, "initdb", "-D", primary, "-A", "trust", "-U", "postgres", "--no-sync")
        with open(os.path.join(primary, "postgresql.conf"), "a") as handle:
            handle.write(
                "\nlisten_addresses = '127.0.0.1'\nwal_level = replica\nmax_wal_senders = 5\n"
                f"unix_socket_directories = '{directory}'\nfsync = off\n"
            )
        with open(os.path.join(primary, "pg_hba.conf"), "a") as handle:
            handle.write("host replication all 127.0.0.1/32 trust\n")
        for data, port in ((primary, ports[0]),):
            _pg(
                bindir, "pg_ctl", "-D", data, "-l", f"{data}.log", "-w", "-o", f"-p {port}", "start"
            )
            running.append(data)
        _pg(
            bindir,
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(ports[0]),
            "-U",
            "postgres",
            "-D",
            standby,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        _pg(
            bindir,
            "pg_ctl",
            "-D",
            standby,
            "-l",
            f"{standby}.log",
            "-w",
            "-o",
            f"-p {ports[1]}",
            "start",
        )
        running.append(standby)
        urls = tuple(f"postgresql://postgres@127.0.0.1:{port}/postgres" for port in ports)
        for url, data in zip(urls, running, strict=True):
            _wait_for(url, data, f"{data}.log")
        yield urls
    finally:
        for data in reversed(running):
            with contextlib.suppress(Exception):
                _pg(bindir, "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(directory, ignore_errors=True)
