"""Every change kind through its phases and back, on real PostgreSQL, table-driven.

At each step the "old app" and the "new app" run their reads and writes wherever
phases.md says they must work (old: before contract; new: from switch on), and
every row either of them wrote must still read back the same through the app
running at that moment, downgrades included.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from expandcontract.config import Config
from expandcontract.lint.runner import Options, lint_paths
from tests.phase_project import PhaseProject

BASE_SQL = """
CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'anon', email text,
                    score integer, payload text);
INSERT INTO users SELECT g, 'user' || g, 'u' || g || '@example.com', g, '{"n": ' || g || '}'
FROM generate_series(1, 300) g;
CREATE TABLE teams (id bigint PRIMARY KEY, title text);
INSERT INTO teams SELECT g, 'team' || g FROM generate_series(1, 10) g;
CREATE TABLE memberships (id bigint PRIMARY KEY, user_id bigint, team_id bigint);
INSERT INTO memberships SELECT g, g, g % 10 + 1 FROM generate_series(1, 300) g;
CREATE TABLE legacy (id bigint PRIMARY KEY, note text);
INSERT INTO legacy SELECT g, 'note' || g FROM generate_series(1, 50) g
"""

App = Callable[[psycopg.Connection, int, str], None]
Read = Callable[[psycopg.Connection, int], object]


@dataclass
class App_:
    write: Callable  # (conn, id, value) -> None: an INSERT of a new row
    update: Callable  # (conn, id, value) -> None: an UPDATE of an existing row
    read: Callable  # (conn, id) -> value, as this app version sees it


def sql_app(insert: str, update: str, read: str, convert=lambda v: v) -> App_:
    def write(conn, id_, value):
        conn.execute(insert, {"id": id_, "v": convert(value)})

    def upd(conn, id_, value):
        conn.execute(update, {"id": id_, "v": convert(value)})

    def rd(conn, id_):
        row = conn.execute(read, {"id": id_}).fetchone()
        return None if row is None else row[0]

    return App_(write, upd, rd)


@dataclass
class Case:
    args: list[str]
    old: App_
    new: App_
    phases: tuple[str, ...]
    # values written through the new structure that a contract downgrade cannot restore
    loses_on_contract_down: bool = False
    value: Callable[[int], object] = field(default=lambda n: f"v{n}")


USERS_NAME = sql_app(
    "INSERT INTO users (id, name) VALUES (%(id)s, %(v)s)",
    "UPDATE users SET name = %(v)s WHERE id = %(id)s",
    "SELECT name FROM users WHERE id = %(id)s",
)

CASES = {
    "add-column": Case(
        [
            "add-column",
            "users",
            "nickname",
            "text",
            "--not-null",
            "--default",
            "'none'",
            "--backfill",
            "'nick-' || name",
        ],
        old=USERS_NAME,
        new=sql_app(
            "INSERT INTO users (id, name, nickname) VALUES (%(id)s, %(v)s, 'n-' || %(v)s)",
            "UPDATE users SET name = %(v)s, nickname = 'n-' || %(v)s WHERE id = %(id)s",
            "SELECT name || '|' || (nickname IS NOT NULL)::text FROM users WHERE id = %(id)s",
        ),
        phases=("expand", "migrate", "switch"),
    ),
    "rename-column": Case(
        ["rename-column", "users", "name", "full_name"],
        old=USERS_NAME,
        new=sql_app(
            "INSERT INTO users (id, full_name) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET full_name = %(v)s WHERE id = %(id)s",
            "SELECT full_name FROM users WHERE id = %(id)s",
        ),
        phases=("expand", "migrate", "switch", "contract"),
    ),
    "change-type": Case(
        [
            "change-type",
            "users",
            "payload",
            "jsonb",
            "--using",
            "payload::jsonb",
            "--reverse",
            "payload_new::text",
            "--new-name",
            "payload_new",
        ],
        old=sql_app(
            "INSERT INTO users (id, payload) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET payload = %(v)s WHERE id = %(id)s",
            "SELECT payload::jsonb FROM users WHERE id = %(id)s",
        ),
        new=sql_app(
            "INSERT INTO users (id, payload_new) VALUES (%(id)s, %(v)s::jsonb)",
            "UPDATE users SET payload_new = %(v)s::jsonb WHERE id = %(id)s",
            "SELECT payload_new FROM users WHERE id = %(id)s",
        ),
        phases=("expand", "migrate", "switch", "contract"),
        value=lambda n: json.dumps({"n": n}),
    ),
    # without --new-name both versions use the column, whose type changes at contract
    "change-type-in-place": Case(
        ["change-type", "users", "score", "bigint"],
        old=sql_app(
            "INSERT INTO users (id, score) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET score = %(v)s WHERE id = %(id)s",
            "SELECT score FROM users WHERE id = %(id)s",
        ),
        new=sql_app(
            "INSERT INTO users (id, score) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET score = %(v)s WHERE id = %(id)s",
            "SELECT score FROM users WHERE id = %(id)s",
        ),
        phases=("expand", "migrate", "switch", "contract"),
        value=lambda n: n,
    ),
    "set-not-null": Case(
        ["set-not-null", "users", "email", "--backfill", "'unknown@example.com'"],
        old=sql_app(
            "INSERT INTO users (id, email) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET email = %(v)s WHERE id = %(id)s",
            "SELECT email FROM users WHERE id = %(id)s",
        ),
        new=sql_app(
            "INSERT INTO users (id, email) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET email = %(v)s WHERE id = %(id)s",
            "SELECT email FROM users WHERE id = %(id)s",
        ),
        phases=("expand", "migrate", "switch", "contract"),
    ),
    "add-foreign-key": Case(
        ["add-foreign-key", "memberships", "team_id", "teams.id"],
        old=sql_app(
            "INSERT INTO memberships (id, user_id, team_id) VALUES (%(id)s, 1, %(v)s)",
            "UPDATE memberships SET team_id = %(v)s WHERE id = %(id)s",
            "SELECT team_id FROM memberships WHERE id = %(id)s",
            convert=lambda v: int(v[1:]) % 10 + 1,
        ),
        new=sql_app(
            "INSERT INTO memberships (id, user_id, team_id) VALUES (%(id)s, 2, %(v)s)",
            "UPDATE memberships SET team_id = %(v)s WHERE id = %(id)s",
            "SELECT team_id FROM memberships WHERE id = %(id)s",
            convert=lambda v: int(v[1:]) % 10 + 1,
        ),
        phases=("expand", "switch"),
        value=lambda n: f"v{n}",
    ),
    "add-unique": Case(
        ["add-unique", "users", "email"],
        old=sql_app(
            "INSERT INTO users (id, email) VALUES (%(id)s, %(v)s)",
            "UPDATE users SET email = %(v)s WHERE id = %(id)s",
            "SELECT email FROM users WHERE id = %(id)s",
        ),
        new=sql_app(
            "INSERT INTO users (id, email) VALUES (%(id)s, %(v)s) ON CONFLICT (email) DO NOTHING",
            "UPDATE users SET email = %(v)s WHERE id = %(id)s",
            "SELECT email FROM users WHERE id = %(id)s",
        ),
        phases=("expand", "switch"),
    ),
    "add-index": Case(
        ["add-index", "users", "score"],
        old=USERS_NAME,
        new=USERS_NAME,
        phases=("expand",),
    ),
    "drop-column": Case(
        ["drop-column", "users", "score"],
        old=sql_app(
            "INSERT INTO users (id, name, score) VALUES (%(id)s, %(v)s, 1)",
            "UPDATE users SET name = %(v)s, score = score + 1 WHERE id = %(id)s",
            "SELECT name FROM users WHERE id = %(id)s",
        ),
        new=USERS_NAME,
        phases=("contract",),
    ),
    "rename-table": Case(
        ["rename-table", "legacy", "notes"],
        old=sql_app(
            "INSERT INTO legacy (id, note) VALUES (%(id)s, %(v)s)",
            "UPDATE legacy SET note = %(v)s WHERE id = %(id)s",
            "SELECT note FROM legacy WHERE id = %(id)s",
        ),
        new=sql_app(
            "INSERT INTO notes (id, note) VALUES (%(id)s, %(v)s)",
            "UPDATE notes SET note = %(v)s WHERE id = %(id)s",
            "SELECT note FROM notes WHERE id = %(id)s",
        ),
        phases=("expand", "contract"),
    ),
    "drop-table": Case(
        ["drop-table", "legacy"],
        old=sql_app(
            "INSERT INTO legacy (id, note) VALUES (%(id)s, %(v)s)",
            "UPDATE legacy SET note = %(v)s WHERE id = %(id)s",
            "SELECT note FROM legacy WHERE id = %(id)s",
        ),
        new=sql_app(
            "INSERT INTO teams (id, title) VALUES (%(id)s, %(v)s)",
            "UPDATE teams SET title = %(v)s WHERE id = %(id)s",
            "SELECT title FROM teams WHERE id = %(id)s",
        ),
        phases=("contract",),
    ),
}

ORDER = ("expand", "migrate", "switch", "contract")


def apps_for(state: str | None) -> list[str]:
    """Which app versions phases.md says must work once ``state`` is the last phase applied."""
    if state == "contract":
        return ["new"]
    if state == "switch":
        return ["old", "new"]
    return ["old"]


TABLES = ("users", "teams", "memberships", "legacy", "notes")
# where the tables live: as written, in another schema, or under mixed-case quoted names
TARGETS = {
    "public": (lambda t: t, lambda t: t),
    "schema": (lambda t: f"shop.{t}", lambda t: f"shop.{t}"),
    "mixed-case": (lambda t: t.title(), lambda t: f'"{t.title()}"'),
}
_TABLE_WORD = re.compile(rf"\b({'|'.join(TABLES)})\b")


def on_target(case: Case, target: str) -> tuple[Case, str]:
    """The case and the base schema with every table moved to ``target``'s spelling."""
    cli, quoted = TARGETS[target]

    def arg(a: str) -> str:
        table, dot, column = a.partition(".")
        return cli(table) + dot + column if table in TABLES else a

    def app(a: App_) -> App_:
        return App_(*(_on_sql(f, quoted) for f in (a.write, a.update, a.read)))

    args = [arg(a) for a in case.args]
    if args[0] == "rename-table":  # the new name is given alone: it keeps the table's schema
        args[2] = args[2].rpartition(".")[2]
    moved = Case(
        args, app(case.old), app(case.new), case.phases, case.loses_on_contract_down, case.value
    )
    base = _TABLE_WORD.sub(lambda m: quoted(m.group(1)), BASE_SQL)
    return moved, ("CREATE SCHEMA shop;" if target == "schema" else "") + base


def _on_sql(function: Callable, quoted: Callable[[str], str]) -> Callable:
    """``function`` with the table names in the SQL it runs respelt by ``quoted``."""

    class Respelling:
        def __init__(self, conn):
            self.conn = conn

        def execute(self, query, params=None):
            return self.conn.execute(_TABLE_WORD.sub(lambda m: quoted(m.group(1)), query), params)

    return lambda conn, *rest: function(Respelling(conn), *rest)


@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize("name", list(CASES))
def test_kind_up_and_down(name: str, target: str, tmp_path: Path, database_url: str) -> None:
    case, base = on_target(CASES[name], target)
    project = PhaseProject(tmp_path, database_url, base)
    written = project.new(*case.args)
    assert [p.name.split("_")[1] for p in written] == list(case.phases)

    # the generated revisions lint clean (no error-severity finding)
    report, problems = lint_paths([str(p) for p in written], Config(), Options())
    assert not problems and report.errors == 0, [f.message for f in report.findings]

    ids = itertools.count(10_000)
    expected: dict[tuple[str, int], object] = {}  # (app, id) -> value written by that app
    counter = itertools.count()

    def exercise(conn: psycopg.Connection, state: str | None, step: str) -> None:
        for app_name in apps_for(state):
            app = getattr(case, app_name)
            value = case.value(next(counter))
            new_id = next(ids)
            try:
                app.write(conn, new_id, value)
                app.update(conn, 1 + new_id % 50, case.value(next(counter)))
            except psycopg.Error as err:
                pytest.fail(f"{name}: {app_name} app failed after {step}: {err}")
            expected[(app_name, new_id)] = value
        # every row written so far reads back through the app(s) running now
        for app_name in apps_for(state):
            app = getattr(case, app_name)
            for (writer, id_), value in expected.items():
                got = app.read(conn, id_)
                if name == "add-column" and app_name == "new":
                    assert got is not None and got.endswith("|true"), (step, id_, got)
                    continue
                if name == "drop-table" and writer != app_name:
                    continue  # the two apps use different tables here
                assert _same(got, value, case), (
                    f"{name} after {step}: {app_name} reads {got!r} for {writer}'s {value!r}"
                )

    # no prepared statements: a change of type in place changes what a prepared read
    # returns, which PostgreSQL refuses once (test_a_prepared_read_fails_once_at_the_swap)
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=None) as conn:
        exercise(conn, None, "base")
        applied: list[str] = []
        for phase in case.phases:
            result = project.phase("upgrade", phase)
            assert result.exit_code == 0, result.output
            applied.append(phase)
            exercise(conn, phase, f"upgrade {phase}")
        for phase in reversed(case.phases):
            result = project.phase("downgrade", phase)
            assert result.exit_code == 0, result.output
            applied.pop()
            exercise(conn, applied[-1] if applied else None, f"downgrade {phase}")
        # and up again: the phases re-apply on top of the data written meanwhile
        for phase in case.phases:
            result = project.phase("upgrade", phase)
            assert result.exit_code == 0, result.output
        exercise(conn, case.phases[-1], "re-upgrade")


def _same(got, value, case: Case) -> bool:
    if isinstance(got, dict):
        return got == json.loads(value)
    if isinstance(got, int) and isinstance(value, str):
        return got == int(value[1:]) % 10 + 1
    return got == value


def test_a_hostile_column_name_is_a_name_not_sql(tmp_path, database_url) -> None:
    """A quote or a semicolon in a name given to `new` stays inside the identifier."""
    import psycopg

    from tests.phase_project import PhaseProject

    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE users (id bigint PRIMARY KEY, a int); CREATE TABLE canary (id int);"
        "INSERT INTO users SELECT g, g FROM generate_series(1, 50) g",
    )
    hostile = 'x"; DROP TABLE canary; --'
    project.new("add-column", "users", hostile, "integer", "--backfill", "a")
    for phase in ("expand", "migrate"):
        result = project.phase("upgrade", phase)
        assert result.exit_code == 0, result.output
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT to_regclass('canary')").fetchone()[0] is not None
        filled = conn.execute(
            psycopg.sql.SQL("SELECT count(*) FROM users WHERE {} = a").format(
                psycopg.sql.Identifier(hostile)
            )
        ).fetchone()[0]
    assert filled == 50
    for phase in ("migrate", "expand"):
        assert project.phase("downgrade", phase).exit_code == 0


@pytest.mark.parametrize("column", ["user", "current_date", "Order Notes"])
def test_renaming_a_column_named_like_a_value_function_keeps_its_data(
    tmp_path, database_url, column: str
) -> None:
    """`SET author = user` is CURRENT_USER: names in generated expressions are quoted."""
    import psycopg
    from psycopg import sql

    from tests.phase_project import PhaseProject

    ident = sql.Identifier(column).as_string(None)
    typ = "date" if column == "current_date" else "text"
    value = "'2001-02-03'::date" if typ == "date" else "'v' || g"
    project = PhaseProject(
        tmp_path,
        database_url,
        f"CREATE TABLE posts (id bigint PRIMARY KEY, {ident} {typ});"
        f"INSERT INTO posts SELECT g, {value} FROM generate_series(1, 20) g",
    )
    project.new("rename-column", "posts", column, "renamed")
    for phase in ("expand", "migrate", "switch", "contract"):
        assert project.phase("upgrade", phase).exit_code == 0
    with psycopg.connect(database_url) as conn:
        kept = conn.execute(
            f"SELECT count(*) FROM posts WHERE renamed = {value.replace('g', 'id')}"
        ).fetchone()[0]
        assert kept == 20
    for phase in ("contract", "switch", "migrate", "expand"):
        assert project.phase("downgrade", phase).exit_code == 0
    with psycopg.connect(database_url) as conn:
        kept = conn.execute(
            f"SELECT count(*) FROM posts WHERE {ident} = {value.replace('g', 'id')}"
        ).fetchone()[0]
        assert kept == 20


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["add-column", "users", "c" * 64, "text"], "column 'cccc"),
        (["add-column", "users", "я" * 32, "text"], "is 64 bytes"),  # 32 characters
        (["rename-column", "users", "a", "n" * 70], "new 'nnnn"),
        (["change-type", "users", "x" * 60, "bigint"], "the new column --new-name defaults to"),
        (["add-index", "users", "ok", "i" * 64], "columns 'iiii"),
        (["drop-table", "s." + "t" * 64], "table 'tttt"),
    ],
)
def test_new_refuses_a_name_postgresql_would_cut(tmp_path, args, says) -> None:
    from click.testing import CliRunner

    from expandcontract.cli import cli

    (tmp_path / "migrations" / "versions").mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text(
        f"[alembic]\nscript_location = {tmp_path / 'migrations'}\n"
    )
    result = CliRunner().invoke(cli, ["new", *args, "-m", "x", "-c", str(tmp_path / "alembic.ini")])
    assert result.exit_code == 2, result.output
    assert says in result.output and "PostgreSQL keeps only the first 63" in result.output
    assert not list((tmp_path / "migrations" / "versions").iterdir())  # nothing written


def test_generated_names_fit_63_bytes_and_never_collide() -> None:
    from expandcontract.schema.names import object_name

    long_a, long_b = "я" * 40 + "a", "я" * 40 + "b"  # alike in their first 63 bytes
    a, b = object_name("t", long_a), object_name("t", long_b)
    assert a != b
    assert len(a.encode()) <= 63 and len(b.encode()) <= 63
    assert object_name("t", "c") == "ec_t_c"


def test_a_prepared_read_fails_after_the_swap(tmp_path, database_url) -> None:
    """The caveat the README states for change-type without --new-name: a statement the
    new version prepared before contract fails after the swap (the column's type changed
    under it; psycopg 3 does not prepare it anew), and works on a new connection."""
    project = PhaseProject(tmp_path, database_url, BASE_SQL)
    project.new("change-type", "users", "score", "bigint")
    read = "SELECT score FROM users WHERE id = %s"
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=0) as conn:
        for phase in ORDER[:-1]:
            assert project.phase("upgrade", phase).exit_code == 0
        assert conn.execute(read, (7,)).fetchone() == (7,)  # prepared, on the old type
        assert project.phase("upgrade", "contract").exit_code == 0
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="cached plan"):
            conn.execute(read, (7,))
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=0) as conn:
        assert conn.execute(read, (7,)).fetchone() == (7,)


def test_rollback_window_prints_as_written() -> None:
    from expandcontract.phases.runner import _duration

    assert [_duration(s) for s in (86400, 36 * 3600, 5400, 90, 2 * 86400)] == [
        "1d",
        "36h",
        "1.5h",
        "2m",
        "2d",
    ]
