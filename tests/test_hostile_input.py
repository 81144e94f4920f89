"""Issue 26, the lint and command-line side: input a hostile or unlucky user gives, each
refused with a clear message (exit 2) or handled, never a traceback, never a silent pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract.cli import cli

UNSAFE = "CREATE INDEX ix_orders_customer ON orders (customer_id);\n"


def run(*args: str, stdin: str | bytes | None = None):
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPANDCONTRACT_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


# --- settings: validated at load -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('lock_timeout = "0"', "lock_timeout must be more than 0"),
        ('lock_timeout = "0ms"', "lock_timeout must be more than 0"),
        ('lock_timeout = "soon"', "lock_timeout must be a duration"),
        ("backfill_pause = nan", "backfill_pause must be a finite number"),
        ("backfill_pause = inf", "backfill_pause must be a finite number"),
        ("backfill_batch_size = 100000000", "backfill_batch_size must be at most 100,000"),
        ("revision_timeout = nan", "revision_timeout must be a finite number"),
        ("revision_timeout = inf", "revision_timeout must be a finite number"),
        ("revision_timeout = 1e-300", "revision_timeout must be 0 (no limit) or from 0.1"),
        ("wait_timeout = inf", "wait_timeout must be a finite number"),
    ],
)
def test_unsafe_settings_are_refused_at_load(here: Path, body: str, message: str) -> None:
    (here / "pyproject.toml").write_text(f"[tool.expandcontract]\n{body}\n")
    (here / "m.sql").write_text(UNSAFE)
    result = run("lint", "m.sql")
    assert result.exit_code == 2, result.output
    assert f"pyproject.toml:2: {message}" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "body",
    [
        'lock_timeout = "2s"',
        'lock_timeout = "500ms"',
        "lock_timeout = '1min'",
        "revision_timeout = 0",
        "backfill_batch_size = 100000",
        "backfill_pause = 0.5",
    ],
)
def test_sane_settings_are_accepted(here: Path, body: str) -> None:
    (here / "pyproject.toml").write_text(f"[tool.expandcontract]\n{body}\n")
    (here / "m.sql").write_text("SELECT 1;\n")
    assert run("lint", "m.sql").exit_code == 0


def test_config_search_stops_at_the_first_pyproject(here: Path) -> None:
    # a parent folder's configuration (here: one that ignores the rule) must not reach a
    # project that has its own pyproject.toml, with our section or without
    (here / "pyproject.toml").write_text('[tool.expandcontract]\nignore = ["EC301"]\n')
    app = here / "app"
    app.mkdir()
    (app / "pyproject.toml").write_text('[project]\nname = "app"\n')
    (app / "m.sql").write_text(UNSAFE)
    import os

    os.chdir(app)
    assert run("lint", "m.sql").exit_code == 1
    os.chdir(here)
    assert run("lint", "app/m.sql").exit_code == 0  # from the parent, its own file applies


# --- the lint cache: trusted only when it is ours ---------------------------------------------


def _json(result) -> dict:
    import json

    return json.loads(result.stdout)


@pytest.mark.parametrize("how", ["other owner", "writable by others"])
def test_a_cache_someone_else_can_write_is_ignored(here: Path, how: str) -> None:
    import os

    (here / "m.sql").write_text(UNSAFE)
    assert run("lint", "m.sql").exit_code == 1  # fills the cache
    cache = here / "cache"
    # someone rewrites every entry as "All clear"
    for entry in cache.rglob("*.json"):
        entry.write_text(
            '{"findings": [], "files": 1, "statements": 1, "paths": ["m.sql"], '
            '"problems": [], "imports": [], "schema": {"columns": [], '
            '"partitioned": []}}'
        )
    assert run("lint", "m.sql").exit_code == 0  # what a writer of the cache can do
    if how == "other owner":
        if os.geteuid() != 0:
            pytest.skip("giving a folder to another user needs root")
        os.chown(cache, 65534, 65534)
    else:
        cache.chmod(0o777)
    result = run("lint", "m.sql")
    assert result.exit_code == 1, result.output
    assert f"warning: cache {cache} ignored" in result.stderr


def test_a_malformed_cache_entry_is_a_miss(here: Path) -> None:
    (here / "m.sql").write_text(UNSAFE)
    (here / "n.sql").write_text("SELECT 1;\n")
    first = run("lint", "m.sql", "n.sql", "--format", "json")
    assert first.exit_code == 1
    garbage = [
        "[]",
        "{}",
        '{"findings": "x"}',
        '{"findings": [1], "files": 1}',
        "not json",
        '{"findings": [1], "files": 1, "statements": 1, "paths": [], "problems": [], '
        '"imports": [], "schema": {}}',
    ]
    for round_ in garbage:
        for entry in (here / "cache").rglob("*.json"):
            entry.write_text(round_)
        again = run("lint", "m.sql", "n.sql", "--format", "json")
        assert again.exit_code == 1, (round_, again.output)
        assert _json(again)["findings"] == _json(first)["findings"]
    # a revision's entry, too
    versions = here / "versions"
    versions.mkdir()
    (versions / "r1.py").write_text(
        "from alembic import op\nrevision = 'r1'\ndown_revision = None\n\n"
        "def upgrade():\n    op.create_index('ix', 't', ['a'])\n\n"
        "def downgrade():\n    pass\n"
    )
    (here / "alembic.ini").write_text(
        "[alembic]\nscript_location = .\nversion_locations = versions\n"
    )
    first = run("lint", "alembic.ini", "--format", "json")
    assert first.exit_code == 1, first.output
    for entry in (here / "cache").rglob("*.json"):
        entry.write_text(
            '{"findings": [{"path": 1}], "statements": 1, "open": [], '
            '"imports": [], "schema": {}, "files": 1, "paths": [], "problems": []}'
        )
    again = run("lint", "alembic.ini", "--format", "json")
    assert again.exit_code == 1 and _json(again)["findings"] == _json(first)["findings"]


def test_the_cache_key_covers_the_libraries_and_python(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    from expandcontract.lint import cache as cache_module

    (here / "m.sql").write_text(UNSAFE)
    keys = set()
    real = importlib.metadata.version
    for bumped in (None, "sqlglot", "alembic", "sqlalchemy"):
        cache_module._versions.cache_clear()
        monkeypatch.setattr(
            "importlib.metadata.version",
            lambda name, bumped=bumped: "999.0" if name == bumped else real(name),
        )
        keys.add(cache_module.Cache("same settings").run_key([here / "m.sql"]))
    monkeypatch.setattr("sys.version_info", (3, 99, 0, "final", 0))
    cache_module._versions.cache_clear()
    keys.add(cache_module.Cache("same settings").run_key([here / "m.sql"]))
    cache_module._versions.cache_clear()
    assert len(keys) == 5


# --- database URLs: a password is never echoed, whatever its characters -----------------------

HOSTILE_URLS = [
    # (url, the secret, host it must connect to)
    ("postgresql://app:Tail@9Secret@127.0.0.1:1/db", ("Tail", "9Secret"), "127.0.0.1"),
    ("postgresql+psycopg://app:a@b@c:d@127.0.0.1:1/db", ("a@b", "c:d"), "127.0.0.1"),
    ("postgresql://app:Kv Secret2PW@127.0.0.1:1/db", ("Kv", "Secret2PW"), "127.0.0.1"),
    ("postgresql://app:pa/ss?wd@127.0.0.1:1/db", ("pa/ss", "wd"), "127.0.0.1"),
    ("host=127.0.0.1 port=1 user=app password=Kv Secret2PW", ("Kv", "Secret2PW"), None),
    ("host=127.0.0.1 port=1 user=app password='Kv Secret2PW'", ("Kv", "Secret2PW"), None),
    ("postgresql://app@127.0.0.1:1/db?password=Kv Secret2PW", ("Kv", "Secret2PW"), "127.0.0.1"),
]


@pytest.mark.parametrize(("url", "secret", "host"), HOSTILE_URLS)
def test_a_password_with_odd_characters_is_never_displayed(url, secret, host) -> None:
    from expandcontract.errors import InputError
    from expandcontract.urls import display_url, to_conninfo

    shown = [display_url(url)]
    try:
        conninfo = to_conninfo(url)
    except InputError as err:
        shown.append(err.message)
    else:
        shown.append(display_url(conninfo))
        import psycopg

        params = psycopg.conninfo.conninfo_to_dict(conninfo)
        assert params["host"] == "127.0.0.1"  # never a piece of the password
        assert secret[0] in params["password"] and secret[1] in params["password"]
    for text in shown:
        for piece in secret:
            assert piece not in text, text


@pytest.mark.parametrize(("url", "secret", "host"), HOSTILE_URLS)
def test_status_on_a_hostile_url_echoes_no_password(here: Path, url, secret, host) -> None:
    (here / "alembic.ini").write_text("[alembic]\nscript_location = mig\n")
    (here / "mig" / "versions").mkdir(parents=True)
    (here / "mig" / "env.py").write_text("")
    result = CliRunner().invoke(cli, ["status", "--database-url", url])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for piece in secret:
        assert piece not in result.output, result.output


def test_a_typo_in_a_connection_option_is_named(here: Path) -> None:
    (here / "alembic.ini").write_text("[alembic]\nscript_location = mig\n")
    (here / "mig" / "versions").mkdir(parents=True)
    (here / "mig" / "env.py").write_text("")
    for url in (
        "postgresql://app:S3cret@127.0.0.1:1/db?sslmod=require",
        "host=127.0.0.1 port=1 sslmod=require password=S3cret",
    ):
        result = CliRunner().invoke(cli, ["status", "--database-url", url])
        assert result.exit_code == 2, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "unknown connection option 'sslmod' (did you mean 'sslmode'?)" in result.output
        assert "S3cret" not in result.output


# --- purge: only archives, by record and by name; asks first ---------------------------------


@pytest.mark.pg
def test_purge_drops_only_archives_and_asks_first(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    from expandcontract.catalog import bookkeeping
    from expandcontract.catalog.bookkeeping import ARCHIVES
    from expandcontract.connections import engine
    from expandcontract.ops.tables import archive_name
    from expandcontract.urls import sqlalchemy_url
    from tests.phase_project import PhaseProject

    project = PhaseProject(tmp_path, database_url, "CREATE TABLE orders (id int);")
    archive = archive_name("old")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {archive} (id int)")
    eng = engine(sqlalchemy_url(database_url))
    with eng.begin() as conn:
        bookkeeping.ensure(conn, ARCHIVES)
        from sqlalchemy import text

        for name, original in ((archive, "old"), ("orders", "orders"), ("orders", "x")):
            conn.execute(
                text(
                    f"INSERT INTO {ARCHIVES} (archive, original, foreign_keys) "
                    "VALUES (:a, :o, '[]') ON CONFLICT DO NOTHING"
                ),
                {"a": name, "o": original},
            )
    eng.dispose()
    ini = ["-c", str(project.root / "alembic.ini")]

    def exists(table: str) -> bool:
        with psycopg.connect(database_url) as conn:
            return conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is not None

    # on a terminal, purge asks; "no" drops nothing
    monkeypatch.setattr("expandcontract.cli._interactive", lambda: True)
    declined = CliRunner().invoke(cli, ["purge", *ini], input="n\n")
    assert declined.exit_code in (0, 1), declined.output
    assert f"would drop {archive}" in declined.output and "Drop these 1 tables?" in declined.output
    assert exists(archive) and exists("orders")
    assert "left alone" in declined.output
    # --yes: the archive goes; the live table a forged record names stays
    dropped = CliRunner().invoke(cli, ["purge", *ini, "--yes"])
    assert dropped.exit_code == 0, dropped.output
    assert f"dropping {archive}" in dropped.output
    assert "dropping orders" not in dropped.output
    assert not exists(archive) and exists("orders")


# --- user values to subprocesses; names in reports --------------------------------------------


def test_changed_since_is_never_an_option_to_git(here: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q"], check=True)
    (here / "m.sql").write_text(UNSAFE)
    target = here / "written-by-git"
    for ref in (f"--output={target}", "-p", "--no-index"):
        result = run("lint", "m.sql", f"--changed-since={ref}")
        assert result.exit_code == 2, result.output
        assert "not a git revision" in result.stderr
    assert not target.exists()
    assert run("lint", "m.sql", "--changed-since", "nosuchref").exit_code == 2


HOSTILE_NAME = "evil\n::error file=x.sql,line=1::pwned.sql"


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit", "gitlab"])
def test_a_file_name_cannot_start_a_line_of_a_report(here: Path, fmt: str) -> None:
    (here / "sql").mkdir()
    (here / "sql" / HOSTILE_NAME).write_text(UNSAFE)
    (here / "sql" / "bad\udcff.sql").write_bytes(UNSAFE.encode())  # not UTF-8: byte 0xff
    result = run("lint", "sql", "--format", fmt)
    assert result.exit_code == 1, result.output
    commands = [line for line in result.output.splitlines() if line.lstrip().startswith("::")]
    if fmt == "github":
        assert len(commands) == 2 and all(c.startswith("::error file=sql/") for c in commands)
        assert all("%3A%3Aerror" in c or "bad" in c for c in commands)
    else:
        assert commands == []
    if fmt in ("text", "junit"):  # called by its name, the newline shown as an escape
        assert "evil\\n::error" in result.output


def test_verify_github_fences_its_text_report() -> None:
    from expandcontract.formats import render
    from expandcontract.verify.verifier import RevisionReport, VerifyReport

    report = VerifyReport(
        database="db",
        revisions=[RevisionReport("r1\n::error::x", None, "doc\n::warning::y", path="v/r1.py")],
        unverified=["r2\n::error::z"],
    )
    out = render("verify", "github", report)
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("::stop-commands::"))
    token = lines[start].split("::")[2]
    assert lines[-1] == f"::{token}::"
    # before the fence: only our own annotations, each one line
    assert all(line.startswith(("::error ", "::warning ")) for line in lines[:start])
    assert "::error::x" not in "\n".join(lines[:start])


# --- lint never imports Python it was not told is a revision ----------------------------------

HELPER = """
revision = "x"
down_revision = None


def upgrade():
    open({marker!r}, "w").write("ran")
"""


def test_python_in_a_sql_folder_is_never_imported(here: Path) -> None:
    marker = here / "RAN"
    (here / "sql").mkdir()
    (here / "sql" / "0001.sql").write_text(UNSAFE)
    (here / "sql" / "helper.py").write_text(HELPER.format(marker=str(marker)))
    env = here / "sql" / "env"  # a virtualenv named env/, with a revision-looking module
    (env / "lib").mkdir(parents=True)
    (env / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (env / "lib" / "mod.py").write_text(HELPER.format(marker=str(marker)))
    (env / "lib" / "x.sql").write_text(UNSAFE)
    result = run("lint", "sql", "--format", "json")
    assert result.exit_code == 1, result.output
    assert not marker.exists()
    assert _json(result)["files"] == 1
    assert {f["path"] for f in _json(result)["findings"]} == {"sql/0001.sql"}
    assert "look like Alembic revisions but are in no version location" in result.stderr
    assert "--revisions" in result.stderr
    # named with --revisions, the user asks for it: imported and linted
    result = run("lint", "sql", "--revisions", "sql", "--format", "json")
    assert marker.exists() and _json(result)["files"] == 2


def test_revisions_of_a_configured_project_are_linted(here: Path) -> None:
    (here / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    versions = here / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "r1.py").write_text(
        "from alembic import op\nrevision = 'r1'\ndown_revision = None\n\n"
        "def upgrade():\n    op.create_index('ix', 't', ['a'])\n\n"
        "def downgrade():\n    pass\n"
    )
    result = run("lint", "migrations", "--format", "json")
    assert result.exit_code == 1 and _json(result)["files"] == 1
    assert _json(result)["findings"][0]["path"] == "migrations/versions/r1.py"


# --- nothing skipped in silence ---------------------------------------------------------------


def test_nothing_to_lint_is_exit_2(here: Path) -> None:
    (here / "models.py").write_text("class User: pass\n")
    (here / "empty").mkdir()
    for path in ("models.py", "empty"):
        result = run("lint", path)
        assert result.exit_code == 2, result.output
        assert f"nothing to lint in {path}" in result.stderr
        assert "All clear" not in result.output
        assert run("lint", path, "--allow-empty").exit_code == 0


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit", "gitlab"])
def test_links_that_lead_nowhere_are_errors_in_every_format(here: Path, fmt: str) -> None:
    import os

    sql = here / "sql"
    (sql / "sub").mkdir(parents=True)
    (sql / "0001.sql").write_text("SELECT 1;\n")
    os.symlink("..", sql / "sub" / "up")  # a loop
    os.symlink("nowhere.sql", sql / "dangling.sql")
    os.symlink("self", sql / "self")
    result = run("lint", "sql", "--format", fmt)
    assert result.exit_code == 2, result.output
    assert "All clear" not in result.output
    for name in ("sql/sub/up", "sql/dangling.sql", "sql/self"):
        assert name in result.stdout, (name, result.stdout)
        assert name in result.stderr


def test_an_unreadable_folder_is_an_error(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    (here / "sql" / "locked").mkdir(parents=True)
    (here / "sql" / "0001.sql").write_text("SELECT 1;\n")
    real = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = run("lint", "sql", "--format", "json")
    assert result.exit_code == 2
    found = _json(result)["findings"]
    assert [(f["path"], f["code"]) for f in found] == [("sql/locked", "EC001")]
    assert "Permission denied" in found[0]["message"]


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit", "gitlab"])
def test_an_undecodable_file_is_in_every_format(here: Path, fmt: str) -> None:
    (here / "latin1.sql").write_bytes("SELECT 'é';\n".encode("latin-1"))
    (here / "ok.sql").write_text("SELECT 1;\n")
    result = run("lint", "latin1.sql", "ok.sql", "--format", fmt)
    assert result.exit_code == 2
    assert "latin1.sql" in result.stdout and "All clear" not in result.stdout


def test_utf16_is_read_or_called_by_its_name(here: Path) -> None:
    (here / "bom.sql").write_bytes(UNSAFE.encode("utf-16"))  # with its byte-order mark
    (here / "nobom.sql").write_bytes(UNSAFE.encode("utf-16-le"))
    result = run("lint", "bom.sql", "--format", "json")
    assert result.exit_code == 1 and _json(result)["findings"][0]["code"] == "EC301"
    result = run("lint", "nobom.sql")
    assert result.exit_code == 2
    assert "UTF-16 text without a byte-order mark" in result.stderr
    assert "binary" not in result.stderr


def test_a_file_too_large_to_be_a_migration_is_refused_without_reading_it(here: Path) -> None:
    """A 200 MB file took 756 s and 4.7 GB: one over the cap is named and skipped at once,
    and the other files are still judged."""
    import time

    from expandcontract.lint.engine import MAX_FILE_BYTES

    with open(here / "dump.sql", "wb") as dump:  # sparse: its size without its cost
        dump.truncate(MAX_FILE_BYTES + 1)
    (here / "ok.sql").write_text(UNSAFE)
    began = time.monotonic()
    result = run("lint", "dump.sql", "ok.sql", "--format", "json")
    assert time.monotonic() - began < 10
    assert result.exit_code == 2
    found = {(f["path"], f["code"]) for f in _json(result)["findings"]}
    assert ("dump.sql", "EC001") in found and ("ok.sql", "EC301") in found
    assert "over the 20 MB" in result.stdout


# --- cost linear in files ---------------------------------------------------------------------


def test_a_cache_entry_holds_its_files_change_not_the_whole_schema(here: Path) -> None:
    sql = here / "sql"
    sql.mkdir()
    for i in range(60):
        (sql / f"V{i:03d}__t.sql").write_text(f"CREATE TABLE t{i} (id bigint, name text);\n")
    assert run("lint", "sql").exit_code == 0
    # each file's entry holds what it added, not the schema so far: linear, not quadratic
    total = sum(p.stat().st_size for p in (here / "cache").rglob("*.json"))
    assert total < 60 * 500, total


def test_a_file_linted_after_cached_ones_sees_the_schema_they_left(here: Path) -> None:
    sql = here / "sql"
    sql.mkdir()
    (sql / "V1__t.sql").write_text("CREATE TABLE t (id bigint, a varchar(50));\n")
    (sql / "V2__u.sql").write_text("CREATE TABLE u (id bigint);\nDROP TABLE u;\n")
    (sql / "V3__alter.sql").write_text("ALTER TABLE t ALTER COLUMN a TYPE varchar(20);\n")
    first = run("lint", "sql", "--format", "json", "--ignore", "EC004")
    assert [f["code"] for f in _json(first)["findings"]] == ["EC110"]
    # the first two from the cache, the third linted: it starts from what they left
    (sql / "V3__alter.sql").write_text("ALTER TABLE t ALTER COLUMN a TYPE varchar(10);\n")
    again = run("lint", "sql", "--format", "json", "--ignore", "EC004")
    fresh = run("lint", "sql", "--format", "json", "--ignore", "EC004", "--no-cache")
    assert _json(again)["findings"] == _json(fresh)["findings"]
    assert [f["code"] for f in _json(again)["findings"]] == ["EC110"]
    # and a widening, which needs to know the type is varchar(50), is no rewrite
    (sql / "V3__alter.sql").write_text("ALTER TABLE t ALTER COLUMN a TYPE varchar(80);\n")
    assert _json(run("lint", "sql", "--format", "json", "--ignore", "EC004"))["findings"] == []


RICH_REPLAY = [
    "CREATE TABLE t (id bigint PRIMARY KEY, a varchar(50), b numeric(10,2));",
    "CREATE TABLE p (id bigint, k int) PARTITION BY RANGE (k);",
    "CREATE INDEX CONCURRENTLY ix_t_a ON t (a);",
    "CREATE TYPE mood AS ENUM ('a', 'b');",
    "ALTER TABLE t ADD COLUMN c text;",
    "ALTER TABLE t ALTER COLUMN a TYPE varchar(20);",
    "ALTER TABLE t RENAME COLUMN c TO d;",
    "CREATE TABLE u (id bigint, x varchar(10));\nALTER TABLE u RENAME TO v;",
    "ALTER TABLE v ALTER COLUMN x TYPE varchar(5);",
    "ALTER TABLE t DROP COLUMN a;",
    "DROP TABLE v;",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
    "ALTER TABLE t ALTER COLUMN b TYPE numeric(12,2);",
    "ALTER TABLE p ADD COLUMN z int;",
    "ALTER TYPE mood RENAME TO feeling;",
    "SELECT f();",
]


def test_a_replay_in_place_judges_as_a_replay_of_copies(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Linting a folder's files in place (the schema's dicts shared with each file's
    context) gives the very findings copying the schema for every file gave, cached or
    not, after an edit in the middle too."""
    from expandcontract.lint.schema import Schema

    sql = here / "sql"
    sql.mkdir()
    for i, text in enumerate(RICH_REPLAY):
        (sql / f"V{i:02d}__m.sql").write_text(text + "\n")

    def findings(*extra: str) -> list:
        return _json(run("lint", "sql", "--format", "json", *extra))["findings"]

    in_place = [findings("--no-cache"), findings(), findings()]
    (sql / "V05__m.sql").write_text("ALTER TABLE t ALTER COLUMN a TYPE varchar(80);\n")
    in_place += [findings(), findings("--no-cache")]
    (sql / "V05__m.sql").write_text(RICH_REPLAY[5] + "\n")
    monkeypatch.setattr(Schema, "track", lambda self: None)  # the copying way
    copies = findings("--no-cache")
    assert in_place[0] == in_place[1] == in_place[2] == copies
    assert in_place[3] == in_place[4] != copies
    assert {f["code"] for f in copies} >= {"EC110"}


def test_a_new_partition_warns_of_its_parents_lock(here: Path) -> None:
    """A newcomer's probe: CREATE TABLE ... PARTITION OF took ACCESS EXCLUSIVE on the
    populated parent (reads of it timed out) and lint said "All clear"."""
    (here / "p.sql").write_text(
        "CREATE TABLE events_2027 PARTITION OF events\n"
        "    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n"
    )
    result = run("lint", "p.sql", "--format", "json")
    found = _json(result)["findings"]
    assert [(f["code"], f["line"]) for f in found] == [("EC004", 1)], found
    assert "parent events" in found[0]["message"]
    (here / "new.sql").write_text(
        "CREATE TABLE events (at date) PARTITION BY RANGE (at);\n"
        "CREATE TABLE events_2027 PARTITION OF events\n"
        "    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');\n"
    )
    assert _json(run("lint", "new.sql", "--format", "json"))["findings"] == []
