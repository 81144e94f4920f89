"""`alembic revision --autogenerate` with `**phased()` in env.py, on real PostgreSQL.

For each model change: the phases written, that they lint clean, apply phase by phase
with the old and the new model both reading and writing where phases.md says they
must, verify clean, and leave `alembic check` with nothing to report.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from expandcontract.cli import cli
from expandcontract.config import Config
from expandcontract.lint.runner import Options, lint_paths
from expandcontract.urls import sqlalchemy_url
from tests.conftest import ADMIN_URL

ENV_PY = """
import importlib.util
from pathlib import Path

from alembic import context
from sqlalchemy import create_engine

from expandcontract import phased

spec = importlib.util.spec_from_file_location("models", Path(__file__).parents[1] / "models.py")
models = importlib.util.module_from_spec(spec)
spec.loader.exec_module(models)

with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as connection:
    context.configure(connection=connection, target_metadata=models.metadata, **phased())
    with context.begin_transaction():
        context.run_migrations()
"""

V1 = """
users = sa.Table("users", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("score", sa.Integer),
)
teams = sa.Table("teams", metadata, sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False))
legacy = sa.Table("legacy", metadata, sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
                  sa.Column("note", sa.Text))
"""

# scenario -> (model source after the change, the phases expected)
SCENARIOS = {
    "not null column with a server default": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("tier", sa.Text, nullable=False, server_default="free"),',
        ),
        ["expand", "migrate", "switch"],
    ),
    "not null column with a backfill expression": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("handle", sa.Text, nullable=False,'
            ' info={"expandcontract": {"backfill": "lower(name)"}}),',
        ),
        ["expand", "migrate", "switch", "contract"],
    ),
    "dropped column": (V1.replace('    sa.Column("score", sa.Integer),\n', ""), ["contract"]),
    "dropped table": (V1[: V1.index("legacy = ")], ["contract"]),
    "type change": (
        V1.replace('sa.Column("score", sa.Integer)', 'sa.Column("score", sa.BigInteger)'),
        ["expand", "migrate", "switch", "contract"],
    ),
    "nullable to not null": (
        V1.replace('sa.Column("email", sa.Text)', 'sa.Column("email", sa.Text, nullable=False)'),
        ["switch"],
    ),
    "new index": (V1 + 'sa.Index("ix_users_score", users.c.score)\n', ["expand"]),
    "new unique constraint": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.UniqueConstraint("email", name="uq_users_email"),',
        ),
        ["expand", "switch"],
    ),
    "new foreign key": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("team_id", sa.BigInteger, sa.ForeignKey("teams.id")),',
        ),
        ["expand", "switch"],
    ),
    "foreign key on an existing column (to its own table)": (
        V1.replace(
            'sa.Column("score", sa.Integer)',
            'sa.Column("score", sa.Integer, sa.ForeignKey("users.id", name="users_score_user"))',
        ),
        ["expand", "switch"],
    ),
    "rename by renamed_from": (
        V1.replace(
            'sa.Column("name", sa.Text, nullable=False)',
            'sa.Column("full_name", sa.Text, nullable=False,'
            ' info={"expandcontract": {"renamed_from": "name"}})',
        ),
        ["expand", "migrate", "switch", "contract"],
    ),
    "safe changes only": (
        V1.replace(
            'sa.Column("score", sa.Integer),',
            'sa.Column("score", sa.Integer),\n    sa.Column("bio", sa.Text),',
        )
        + 'extra = sa.Table("extra", metadata, sa.Column("id", sa.BigInteger, primary_key=True))\n',
        ["expand"],
    ),
}


class Project:
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        (root / "migrations" / "versions").mkdir(parents=True)
        (root / "migrations" / "env.py").write_text(ENV_PY)
        (root / "migrations" / "script.py.mako").write_text(
            (
                Path(sa.__file__).parents[1]
                / "alembic"
                / "templates"
                / "generic"
                / "script.py.mako"
            ).read_text()
        )
        (root / "alembic.ini").write_text(
            f"[alembic]\nscript_location = migrations\nsqlalchemy.url = {url}\n"
        )

    def models(self, source: str) -> sa.MetaData:
        text = "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n" + textwrap.dedent(source)
        (self.root / "models.py").write_text(text)
        namespace: dict = {}
        exec(compile(text, "models.py", "exec"), namespace)
        return namespace["metadata"]

    def alembic(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "alembic", *args], cwd=self.root, capture_output=True, text=True
        )

    def autogenerate(self) -> list[Path]:
        before = set(self.versions())
        result = self.alembic("revision", "--autogenerate", "-m", "change")
        assert result.returncode == 0, result.stdout + result.stderr
        return sorted(
            set(self.versions()) - before, key=lambda p: PHASE_ORDER[p.name.split("_")[1]]
        )

    def versions(self) -> list[Path]:
        return list((self.root / "migrations" / "versions").glob("*.py"))

    def cli(self, *args: str):
        """An expandcontract command on the project, whatever its exit code."""
        return CliRunner().invoke(cli, [*args, "-c", str(self.root / "alembic.ini")])

    def phase(self, action: str, phase: str) -> None:
        result = self.cli(action, phase)
        assert result.exit_code == 0, result.output


PHASE_ORDER = {"expand": 0, "migrate": 1, "switch": 2, "contract": 3}


def _value(column: sa.Column, n: int):
    if column.foreign_keys:
        return 1
    if isinstance(column.type, sa.Boolean):
        return n % 2 == 0
    if isinstance(column.type, sa.Integer):
        return n
    return f"v{n}"


def app_works(engine: sa.Engine, metadata: sa.MetaData, n: int, defaults: bool = True) -> None:
    """An app version's writes and reads: insert a row into every table, read them all.
    It leaves columns with a server default to it, unless ``defaults`` is false."""
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            values = {
                c.name: _value(c, n)
                for c in table.columns
                if c.server_default is None or c.primary_key or not defaults
            }
            conn.execute(table.insert().values(**values))
            conn.execute(sa.select(table)).fetchall()


def _verified(root: Path) -> list[str]:
    """``expandcontract verify`` on the project: it passes; each revision's status."""
    result = CliRunner().invoke(
        cli,
        [
            "verify",
            "-c",
            str(root / "alembic.ini"),
            "--database-url",
            ADMIN_URL,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    return [r["status"] for r in json.loads(result.stdout)["revisions"]]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_autogenerated_phases(scenario: str, tmp_path: Path, database_url: str) -> None:
    url = sqlalchemy_url(database_url)
    project = Project(tmp_path, url)
    engine = sa.create_engine(url)

    old = project.models(V1)
    (first,) = project.autogenerate()  # new tables: one expand revision, nothing else
    assert "_expand_" in first.name
    project.phase("upgrade", "expand")
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO teams VALUES (1)"))
        conn.execute(
            sa.text(
                "INSERT INTO users SELECT g, 'n' || g, 'e' || g, g FROM generate_series(1, 30) g"
            )
        )
        conn.execute(sa.text("INSERT INTO legacy SELECT g, 'x' FROM generate_series(1, 5) g"))

    source, expected = SCENARIOS[scenario]
    new = project.models(source)
    written = project.autogenerate()
    assert [p.name.split("_")[1] for p in written] == expected

    report, problems = lint_paths([str(p) for p in written], Config(), Options())
    assert not problems and report.errors == 0, [f"{f.code} {f.message}" for f in report.findings]

    n = iter(range(1000, 2000))
    for phase in expected:
        project.phase("upgrade", phase)
        if phase in ("expand", "migrate", "switch"):
            app_works(engine, old, next(n))
        if phase in ("switch", "contract") or (phase == expected[-1] and phase == "expand"):
            app_works(engine, new, next(n))
    check = project.alembic("check")
    assert check.returncode == 0, check.stdout + check.stderr

    statuses = _verified(tmp_path)
    assert set(statuses) <= {"ok", "irreversible"}

    for phase in reversed(expected):
        project.phase("downgrade", phase)
    app_works(engine, old, next(n))
    engine.dispose()


# NOT NULL with nothing to fill existing rows with
V1_WITH_REGION = V1.replace(
    'sa.Column("score", sa.Integer),',
    'sa.Column("score", sa.Integer),\n    sa.Column("region", sa.Text, nullable=False),',
)


def _applied_v1(tmp_path: Path, database_url: str) -> Project:
    project = Project(tmp_path, sqlalchemy_url(database_url))
    project.models(V1)
    project.autogenerate()
    project.phase("upgrade", "expand")
    return project


def test_a_change_it_cannot_make_safe_is_written_with_a_comment_and_a_lint_error(
    tmp_path: Path, database_url: str
) -> None:
    project = _applied_v1(tmp_path, database_url)
    project.models(V1_WITH_REGION)
    (written,) = project.autogenerate()
    text = written.read_text()
    assert "cannot make this change lock-safe automatically" in text
    report, _ = lint_paths([str(written)], Config(), Options())
    assert "EC105" in {f.code for f in report.findings if f.severity == "error"}


def test_the_post_write_lint_hook_runs_on_the_phases_autogenerate_writes(
    tmp_path: Path, database_url: str
) -> None:
    project = _applied_v1(tmp_path, database_url)
    ini = tmp_path / "alembic.ini"
    ini.write_text(
        ini.read_text()
        + "\n[post_write_hooks]\nhooks = expandcontract\nexpandcontract.type = expandcontract\n"
    )
    project.models(V1_WITH_REGION)
    result = project.alembic("revision", "--autogenerate", "-m", "region")
    assert result.returncode != 0, result.stdout + result.stderr
    assert "EC105" in result.stdout + result.stderr
    assert "error(s) in" in result.stdout + result.stderr


SCHEMA_V1 = """
invoices = sa.Table("invoices", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
    schema="billing",
)
decoy = sa.Table("invoices", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("note", sa.Text),
)
"""


def test_a_change_in_another_schema_is_written_and_run_there(
    tmp_path: Path, database_url: str
) -> None:
    """A type change, an index and a NOT NULL column on billing.invoices, with a
    public.invoices beside it that must not be touched."""
    url = sqlalchemy_url(database_url)
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA billing"))
    project = Project(tmp_path, url)
    env = project.root / "migrations" / "env.py"
    env.write_text(env.read_text().replace("**phased()", "include_schemas=True, **phased()"))
    project.models(SCHEMA_V1)
    project.autogenerate()
    project.phase("upgrade", "expand")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for table in ("billing.invoices", "invoices"):
            conn.execute(
                sa.text(f"INSERT INTO {table} SELECT g, g, 'n' || g FROM generate_series(1, 20) g")
            )
    changed = SCHEMA_V1.replace(
        'sa.Column("amount", sa.Integer, nullable=False),\n    sa.Column("note", sa.Text),\n    schema',
        'sa.Column("amount", sa.BigInteger, nullable=False),\n    sa.Column("note", sa.Text),\n'
        '    sa.Column("state", sa.Text, nullable=False, server_default="open"),\n'
        '    sa.Index("ix_invoices_note", "note"),\n    schema',
    )
    assert changed != SCHEMA_V1
    project.models(changed)
    written = project.autogenerate()
    assert [p.name.split("_")[1] for p in written] == ["expand", "migrate", "switch", "contract"]
    for phase in ("expand", "migrate", "switch", "contract"):
        project.phase("upgrade", phase)

    def shape(conn) -> dict:
        columns = conn.execute(
            sa.text(
                "SELECT table_schema || '.' || column_name, data_type FROM "
                "information_schema.columns WHERE table_name = 'invoices' ORDER BY 1"
            )
        ).fetchall()
        indexes = conn.execute(
            sa.text(
                "SELECT schemaname || '.' || indexname FROM pg_indexes WHERE tablename = 'invoices'"
            )
        ).fetchall()
        return {"columns": dict(columns), "indexes": sorted(i[0] for i in indexes)}

    with engine.connect() as conn:
        after = shape(conn)
    assert after["columns"]["billing.amount"] == "bigint"
    assert after["columns"]["billing.state"] == "text"
    assert after["columns"]["public.amount"] == "integer"  # the decoy is untouched
    assert "public.state" not in after["columns"]
    assert "billing.ix_invoices_note" in after["indexes"]
    assert not any(i.startswith("public.ix_invoices_note") for i in after["indexes"])
    check = project.alembic("check")
    assert check.returncode == 0, check.stdout + check.stderr
    for phase in ("contract", "switch", "migrate", "expand"):
        project.phase("downgrade", phase)
    with engine.connect() as conn:
        back = shape(conn)
    assert back["columns"]["billing.amount"] == "integer"
    assert "billing.state" not in back["columns"]
    assert "billing.ix_invoices_note" not in back["indexes"]
    engine.dispose()


RICH_V1 = """
customers = sa.Table("customers", metadata,
    sa.Column("id", sa.Integer, sa.Identity(), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
)
orders = sa.Table("Orders", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("Code", sa.Text, nullable=False, server_default="x"),
    sa.Column("amount", sa.Integer, nullable=False, server_default="0"),
    sa.Column("note", sa.Text),
    sa.Column("legacy_flag", sa.Boolean),
    sa.UniqueConstraint("Code", name="Orders_code_key"),
    sa.CheckConstraint('length("Code") BETWEEN 1 AND 40', name="Orders_code_check"),
    sa.CheckConstraint("amount >= 0", name="Orders_amount_check"),
    sa.Index("Orders_code_lower", sa.text('lower("Code")')),
)
invoices = sa.Table("invoices", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("order_id", sa.BigInteger, sa.ForeignKey("Orders.id"), nullable=False),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("memo", sa.Text),
    schema="billing",
)
"""

# five changes in one model edit, on the mixed-case table and on the non-public one
RICH_V2 = (
    RICH_V1.replace(
        'sa.Column("Code", sa.Text, nullable=False, server_default="x")',
        'sa.Column("Ref", sa.Text, nullable=False, server_default="x",'
        ' info={"expandcontract": {"renamed_from": "Code"}})',
    )
    .replace('sa.UniqueConstraint("Code"', 'sa.UniqueConstraint("Ref"')
    .replace('length("Code")', 'length("Ref")')
    .replace('lower("Code")', 'lower("Ref")')
    .replace('    sa.Column("legacy_flag", sa.Boolean),\n', "")
    .replace(
        'sa.Column("total", sa.Integer, nullable=False, server_default="0")',
        'sa.Column("total", sa.BigInteger, nullable=False, server_default="0")',
    )
    .replace(
        '    sa.Column("memo", sa.Text),\n',
        '    sa.Column("memo", sa.Text),\n'
        '    sa.Column("state", sa.Text, nullable=False, server_default="open"),\n'
        '    sa.Index("ix_invoices_memo", "memo"),\n',
    )
)


def _catalog(conn, table: str) -> dict:
    """Columns (type, NOT NULL, default), constraints and indexes of ``table``, as the
    catalog has them."""
    rel = conn.execute(sa.text("SELECT to_regclass(:t)::oid"), {"t": table}).scalar()
    return {
        "columns": conn.execute(
            sa.text(
                "SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity, "
                "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d ON "
                "d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = :r AND "
                "a.attnum > 0 AND NOT a.attisdropped ORDER BY attname"
            ),
            {"r": rel},
        ).fetchall(),
        "constraints": sorted(
            conn.execute(
                sa.text(
                    "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                    "WHERE conrelid = :r AND contype <> 'n'"
                ),
                {"r": rel},
            ).fetchall()
        ),
        "indexes": sorted(
            conn.execute(
                sa.text(
                    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) "
                    "FROM pg_index WHERE indrelid = :r"
                ),
                {"r": rel},
            ).fetchall()
        ),
    }


def test_a_multi_change_edit_on_a_rich_schema_goes_up_and_all_the_way_back(
    tmp_path: Path, database_url: str
) -> None:
    """A rename with UNIQUE/CHECK/expression index on a mixed-case table, a dropped column,
    and a type change, a NOT NULL column and an index on a table in another schema:
    written by one autogenerate run, applied with both app versions writing, and rolled
    back to the catalog and the rows it started from."""
    url = sqlalchemy_url(database_url)
    project = Project(tmp_path, url)
    env = project.root / "migrations" / "env.py"
    env.write_text(env.read_text().replace("**phased()", "include_schemas=True, **phased()"))
    old = project.models(RICH_V1)
    (first,) = project.autogenerate()
    # autogenerate writes no CREATE SCHEMA: the project's first revision does, as real ones do
    first.write_text(
        first.read_text()
        .replace(
            "    op.set_lock_timeout()\n    op.create_table(",
            '    op.execute("CREATE SCHEMA IF NOT EXISTS billing")\n'
            "    op.set_lock_timeout()\n    op.create_table(",
            1,
        )
        .replace(
            "    op.drop_table('customers', if_exists=True)\n",
            "    op.drop_table('customers', if_exists=True)\n    op.execute('DROP SCHEMA billing')\n",
        )
    )
    assert "CREATE SCHEMA" in first.read_text() and "DROP SCHEMA" in first.read_text()
    project.phase("upgrade", "expand")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO customers (email) SELECT 'c' || g FROM generate_series(1, 20) g;"
                'INSERT INTO "Orders" (customer_id, "Code", amount, note, legacy_flag) '
                "SELECT g % 20 + 1, 'code-' || g, g, 'n' || g, g % 2 = 0 FROM generate_series(1, 200) g;"
                "INSERT INTO billing.invoices SELECT g, g, g * 10, 'm' || g FROM generate_series(1, 200) g"
            )
        )
    tables = ("customers", '"Orders"', "billing.invoices")

    def rows(conn) -> dict:
        """A checksum of each table's rows, its original columns in name order (a
        restored column comes back last in the table, with the same values). The dropped
        column's data is what its revision declares it cannot restore."""
        sums = {}
        for t in tables:
            names = [c[0] for c in catalog_before[t]["columns"] if c[0] != "legacy_flag"]
            row = ", ".join('"' + n + '"' for n in names)
            sums[t] = conn.execute(
                sa.text(f"SELECT md5(string_agg(row({row})::text, ',' ORDER BY id)) FROM {t}")
            ).scalar()
        return sums

    with engine.connect() as conn:
        catalog_before = {t: _catalog(conn, t) for t in tables}
        rows_before = rows(conn)

    new = project.models(RICH_V2)
    written = project.autogenerate()
    assert [p.name.split("_")[1] for p in written] == ["expand", "migrate", "switch", "contract"]
    report, problems = lint_paths([str(p) for p in written], Config(), Options())
    assert not problems and report.errors == 0, [f"{f.code} {f.message}" for f in report.findings]
    assert "the data of Orders.legacy_flag is dropped" in written[-1].read_text()

    n = iter(range(1000, 2000))
    for phase in ("expand", "migrate", "switch", "contract"):
        project.phase("upgrade", phase)
        if phase != "contract":
            app_works(engine, old, next(n), defaults=False)
        if phase in ("switch", "contract"):
            app_works(engine, new, next(n), defaults=False)
    check = project.alembic("check")
    assert check.returncode == 0, check.stdout + check.stderr
    with engine.connect() as conn:
        after = _catalog(conn, '"Orders"')
        # what hung on "Code" hangs on "Ref" now, under the same names
        assert {c[0] for c in after["constraints"]} == {
            c[0] for c in catalog_before['"Orders"']["constraints"]
        }
        assert [i[0] for i in after["indexes"]] == [
            i[0] for i in catalog_before['"Orders"']["indexes"]
        ]
        assert any('lower("Ref")' in i[1] for i in after["indexes"])
        columns = {c[0]: c for c in _catalog(conn, "billing.invoices")["columns"]}
        assert columns["total"][1] == "bigint" and columns["total"][4] == "0"
        assert "legacy_flag" not in {c[0] for c in after["columns"]}

    for phase in ("contract", "switch", "migrate", "expand"):
        project.phase("downgrade", phase)
    app_works(engine, old, next(n), defaults=False)
    with engine.begin() as conn:
        # the rows the apps wrote on the way are theirs: take them out, then compare
        conn.execute(sa.text("DELETE FROM billing.invoices WHERE id >= 1000"))
        conn.execute(sa.text('DELETE FROM "Orders" WHERE id >= 1000'))
        conn.execute(sa.text("DELETE FROM customers WHERE id >= 1000"))
    with engine.connect() as conn:
        assert {t: _catalog(conn, t) for t in tables} == catalog_before
        back = rows(conn)
    # the dropped column comes back with its values; the others are untouched
    assert back == rows_before
    engine.dispose()
    statuses = _verified(tmp_path)
    assert len(statuses) == 5 and set(statuses) <= {"ok", "irreversible"}, statuses
