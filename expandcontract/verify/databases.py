"""Throwaway databases for ``verify``: on a server, in Docker, or in a local cluster.

Whichever is used, ``verify`` works in a database it created, with a unique
name, and drops it (and stops what it started) at the end, on failure and on
Ctrl-C alike. It never touches another database.

With no choice given the order is: a local throwaway cluster when PostgreSQL's
server binaries are on the machine (``--local``), else Docker when an engine
answers (``--docker``); otherwise ``--database-url`` must be given.
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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from expandcontract.connections import connect
from expandcontract.errors import InputError
from expandcontract.urls import display_url, sqlalchemy_url, to_conninfo


@dataclass(frozen=True)
class Database:
    conninfo: str  # for psycopg
    description: str

    @property
    def sqlalchemy_url(self) -> str:

        return sqlalchemy_url(self.conninfo)


@contextlib.contextmanager
def on_server(server_url: str, label: str | None = None) -> Iterator[Database]:
    """A new database ``ec_verify_<hex>`` on the server, dropped afterwards."""
    import psycopg

    try:
        admin = connect(to_conninfo(server_url), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise InputError(f"cannot connect to {display_url(server_url)}: {reason}") from None
    name = f"ec_verify_{uuid.uuid4().hex[:12]}"
    with admin:
        try:
            admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.errors.InsufficientPrivilege:
            user = admin.info.user
            raise InputError(
                f"role {user} may not create databases on {display_url(server_url)}: verify "
                "works in a throwaway database of its own; give it a role with CREATEDB, "
                "or use --local or --docker"
            ) from None
        try:
            conninfo = psycopg.conninfo.make_conninfo(to_conninfo(server_url), dbname=name)
            yield Database(conninfo, f"{label or display_url(server_url)}, database {name}")
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def docker_available() -> str | None:
    """None when a Docker engine answers, else the reason it does not."""
    try:
        import docker

        docker.from_env(timeout=5).ping()
        return None
    except Exception as err:  # no socket, no daemon, no permission
        return f"no Docker engine answers ({type(err).__name__}: {str(err)[:120]})"


@contextlib.contextmanager
def in_docker(image: str) -> Iterator[Database]:
    """testcontainers' PostgreSQL in ``image``; the container is removed afterwards."""
    reason = docker_available()
    if reason:
        raise InputError(f"--docker: {reason}; use --local or --database-url")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer(image, driver=None) as container:
        url = container.get_connection_url()
        with on_server(url, f"Docker {image}") as database:
            yield database


def local_binaries() -> str | None:
    """The bin directory of the newest PostgreSQL server installed here."""
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    if not candidates:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            bindir = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
            if os.path.exists(os.path.join(bindir, "initdb")):
                return bindir
        return None
    return os.path.dirname(candidates[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_cluster() -> Iterator[Database]:
    """A throwaway cluster from the local binaries, stopped and deleted afterwards.

    ``initdb`` refuses to run as root: as root, the cluster belongs to the
    ``postgres`` user and its commands run as that user.
    """
    bindir = local_binaries()
    if bindir is None:
        raise InputError("--local: no PostgreSQL server binaries (initdb) on this machine")
    prefix: list[str] = []
    directory = tempfile.mkdtemp(prefix="expandcontract-verify-")
    if os.geteuid() == 0:
        import pwd

        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(directory, ignore_errors=True)
            raise InputError(
                "--local: running as root and there is no 'postgres' user for "
                "initdb; use --database-url"
            ) from None
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        runuser = shutil.which("runuser")
        prefix = (
            [runuser, "-u", "postgres", "--"]
            if runuser
            else ["su", "postgres", "-s", "/bin/sh", "-c"]
        )
    data = os.path.join(directory, "data")
    port = _free_port()

    def run(*args: str) -> None:
        command = [os.path.join(bindir, args[0]), *args[1:]]
        if prefix and prefix[0] == "su":
            command = [*prefix, " ".join(command)]
        else:
            command = [*prefix, *command]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise InputError(f"--local: {args[0]} failed: {result.stderr.strip()[-300:]}")

    started = False
    try:
        run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        run(
            "pg_ctl",
            "-D",
            data,
            "-l",
            os.path.join(directory, "log"),
            "-w",
            "-o",
            f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )
        started = True
        deadline = time.monotonic() + 30
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        while True:
            try:
                connect(url, connect_timeout=2).close()
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with on_server(url, f"local cluster {bindir} on port {port}") as database:
            yield database
    finally:
        if started:
            with contextlib.suppress(InputError):
                run("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(directory, ignore_errors=True)


def choose(
    database_url: str | None, docker: str | None, local: bool, pg_version: int
) -> tuple[contextlib.AbstractContextManager[Database], str]:
    """The backend to use and the sentence that says why."""
    if database_url:
        return on_server(database_url), "using the server given by --database-url"
    if docker:
        image = docker if docker != "default" else f"postgres:{pg_version}"
        return in_docker(image), f"using Docker image {image} (--docker)"
    if local:
        return local_cluster(), "using a throwaway local cluster (--local)"
    if local_binaries() is not None:
        return local_cluster(), "no database given: using a throwaway local cluster (--local)"
    if docker_available() is None:
        image = f"postgres:{pg_version}"
        return in_docker(image), f"no database given: using Docker image {image} (--docker)"
    raise InputError(
        "no database to verify on: pass --database-url URL (a server where verify may create "
        "and drop its own database), --local (needs PostgreSQL's server binaries) or --docker"
    )
