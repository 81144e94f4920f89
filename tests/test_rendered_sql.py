"""Everything SQLAlchemy 2 and Alembic render for PostgreSQL is read: every type the
dialect knows, every constraint and index option, every ``op.*``, rendered by the
libraries themselves and linted; no statement may come back a parse-error."""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.schema import CreateIndex, CreateTable

from expandcontract.cli import cli
from expandcontract.lint.engine import RuleSet, lint_sql
from expandcontract.linters import RULES

DIALECT = pg.dialect()


def _types() -> list[sa.types.TypeEngine]:
    """An instance of every type class SQLAlchemy and its PostgreSQL dialect export."""
    found: list[sa.types.TypeEngine] = []
    seen: set[type] = set()
    for module in (sa.types, pg):
        for name in sorted(dir(module)):
            cls = getattr(module, name)
            if (
                not inspect.isclass(cls)
                or not issubclass(cls, sa.types.TypeEngine)
                or cls in seen
                or name.startswith("_")
            ):
                continue
            seen.add(cls)
            for args in ((), ("a", "b"), (sa.Integer,), (sa.Integer(),)):
                try:
                    instance = cls(*args)
                    instance.compile(dialect=DIALECT)
                except Exception:
                    continue
                found.append(instance)
                break
    found += [
        sa.String(50),
        sa.Numeric(10, 2),
        sa.DateTime(timezone=True),
        sa.Enum("a", "b", name="mood"),
        pg.ENUM("x", "y", name="color", create_type=False),
        pg.ARRAY(sa.Integer, dimensions=2),
        pg.INTERVAL(fields="DAY TO SECOND", precision=3),
        pg.TIMESTAMP(timezone=True, precision=6),
        pg.BIT(3, varying=True),
        pg.DOMAIN("positive", sa.Integer, check="VALUE > 0"),
    ]
    return found


TYPES = _types()


def _ruleset() -> RuleSet:
    return RuleSet(rules=list(RULES), catalogue=RULES)


def _parse_errors(sql: str) -> list[str]:
    findings, _ = lint_sql(sql, "rendered.sql", _ruleset())
    return [f"{f.line}: {f.message}" for f in findings if f.code == "EC001"]


def test_the_types_are_many() -> None:
    assert len(TYPES) > 60, [type(t).__name__ for t in TYPES]


@pytest.mark.parametrize("type_", TYPES, ids=lambda t: repr(t)[:40])
def test_every_type_in_create_table_and_add_column(type_) -> None:
    table = sa.Table("t", sa.MetaData(), sa.Column("c", type_))
    create = str(CreateTable(table).compile(dialect=DIALECT))
    column = type_.compile(dialect=DIALECT)
    sql = f"{create};\nALTER TABLE u ADD COLUMN c {column};\nALTER TABLE u ALTER COLUMN c TYPE {column};"
    assert _parse_errors(sql) == [], sql


def _constraints_and_indexes() -> list[str]:
    md = sa.MetaData()
    sa.Table("parent", md, sa.Column("id", sa.Integer, primary_key=True))
    t = sa.Table(
        "t",
        md,
        sa.Column("id", sa.BigInteger, sa.Identity(start=1, increment=1), primary_key=True),
        sa.Column(
            "id2",
            sa.Integer,
            sa.Identity(
                always=True, start=5, increment=2, minvalue=1, maxvalue=1000, cycle=True, cache=10
            ),
        ),
        sa.Column("a", sa.Text, server_default="x", comment="a's comment"),
        sa.Column("b", sa.Integer, server_default=sa.text("0"), nullable=False),
        sa.Column("c", sa.Integer, sa.Computed("b * 2", persisted=True)),
        sa.Column("d", sa.DateTime, server_default=sa.func.now()),
        sa.Column("e", pg.JSONB, server_default=sa.text("'{}'::jsonb")),
        sa.Column("f", pg.TSRANGE),
        sa.Column("p", sa.Integer, sa.ForeignKey("parent.id", ondelete="CASCADE")),
        sa.Column("s", sa.Integer, sa.Sequence("t_s_seq", start=3, increment=2)),
        sa.CheckConstraint("b > 0", name="ck_b"),
        sa.UniqueConstraint("a", name="uq_a", postgresql_nulls_not_distinct=True),
        sa.UniqueConstraint("b", name="uq_b", postgresql_nulls_not_distinct=False),
        sa.UniqueConstraint("a", "b", deferrable=True, initially="IMMEDIATE"),
        sa.UniqueConstraint("c", postgresql_include=["a"]),
        sa.ForeignKeyConstraint(
            ["p"],
            ["parent.id"],
            name="fk_full",
            onupdate="SET NULL",
            ondelete="SET DEFAULT",
            deferrable=True,
            initially="DEFERRED",
            match="FULL",
        ),
        pg.ExcludeConstraint(("f", "&&"), using="gist", name="ex_f", where=sa.text("b > 0")),
        comment="the table's comment",
        postgresql_with={"fillfactor": 70},
    )
    indexes = [
        sa.Index("ix_plain", t.c.a),
        sa.Index("ix_unique", t.c.a, t.c.b, unique=True),
        sa.Index("ix_nnd", t.c.a, unique=True, postgresql_nulls_not_distinct=True),
        sa.Index("ix_nd", t.c.a, unique=True, postgresql_nulls_not_distinct=False),
        sa.Index("ix_expr", sa.func.lower(t.c.a), t.c.b.desc().nulls_last()),
        sa.Index("ix_gin", t.c.e, postgresql_using="gin", postgresql_ops={"e": "jsonb_path_ops"}),
        sa.Index("ix_partial", t.c.a, postgresql_where=t.c.b > 5),
        sa.Index("ix_include", t.c.a, postgresql_include=["b"]),
        sa.Index("ix_with", t.c.a, postgresql_with={"fillfactor": 50}),
        sa.Index("ix_conc", t.c.a, postgresql_concurrently=True),
        sa.Index("ix_space", t.c.a, postgresql_tablespace="pg_default"),
    ]
    statements = [str(CreateTable(t).compile(dialect=DIALECT))]
    statements += [str(CreateIndex(i).compile(dialect=DIALECT)) for i in indexes]
    statements.append(
        str(
            sa.select(
                sa.func.jsonb_object_agg(sa.distinct(t.c.a), t.c.b),
                sa.func.json_object_agg(t.c.a, t.c.b),
                sa.func.array_agg(sa.distinct(t.c.a)),
                sa.func.string_agg(t.c.a, sa.literal_column("','")),
            ).compile(dialect=DIALECT, compile_kwargs={"literal_binds": True})
        )
    )
    return statements


def test_every_constraint_and_index_option() -> None:
    sql = ";\n".join(_constraints_and_indexes()) + ";"
    assert "NULLS DISTINCT" in sql and "INCREMENT BY 1 START WITH 1" in sql
    assert "jsonb_object_agg(DISTINCT" in sql
    assert _parse_errors(sql) == [], sql


# every op.* Alembic has for PostgreSQL, rendered by Alembic itself when linted
EVERY_OP = """
op.create_table(
    "t",
    sa.Column("id", sa.BigInteger, sa.Identity(start=1, increment=1), primary_key=True),
    sa.Column("a", sa.Text, nullable=False, server_default="x"),
    sa.Column("b", sa.Integer, sa.Computed("id * 2")),
    sa.Column("m", sa.Enum("a", "b", name="mood")),
    sa.UniqueConstraint("a", postgresql_nulls_not_distinct=False),
    sa.CheckConstraint("id > 0"),
    comment="c",
)
op.add_column("t", sa.Column("c", sa.Integer, sa.Identity(always=True, start=10, increment=5)))
op.add_column("t", sa.Column("d", sa.Numeric(10, 2), server_default="0", comment="d"))
op.add_column("t", sa.Column("e", sa.ARRAY(sa.Text), server_default="{}"), if_not_exists=True)
op.alter_column("t", "a", type_=sa.String(20), existing_type=sa.Text, postgresql_using="a::varchar(20)")
op.alter_column("t", "a", nullable=True, server_default=None, comment="now nullable")
op.alter_column("t", "a", new_column_name="aa", existing_nullable=True)
op.alter_column("t", "d", server_default=sa.text("1"), existing_server_default="0")
op.alter_column("t", "c", existing_type=sa.Integer, nullable=True)
op.create_check_constraint("ck", "t", sa.column("id") > 5)
op.create_check_constraint("ck2", "t", "id > 5", postgresql_not_valid=True)
op.create_exclude_constraint("ex", "t", ("aa", "="), using="gist", where="id > 0")
op.create_foreign_key("fk", "t", "t", ["c"], ["id"], ondelete="CASCADE", deferrable=True, initially="DEFERRED", match="FULL")
op.create_foreign_key("fk2", "t", "t", ["c"], ["id"], postgresql_not_valid=True, source_schema="public", referent_schema="public")
op.create_primary_key("pk", "t", ["id"])
op.create_unique_constraint("uq", "t", ["aa"], postgresql_nulls_not_distinct=True)
op.create_unique_constraint("uq2", "t", ["aa", "c"], deferrable=True)
op.create_index("ix", "t", ["aa"], unique=True, postgresql_where=sa.text("id > 0"), postgresql_include=["c"])
op.create_index("ix2", "t", [sa.text("lower(aa)")], postgresql_using="btree", if_not_exists=True)
op.create_index("ix3", "t", ["aa"], postgresql_nulls_not_distinct=True, unique=True)
op.create_table_comment("t", "comment", existing_comment="c")
op.drop_table_comment("t", existing_comment="comment")
op.bulk_insert(sa.table("t", sa.column("id"), sa.column("aa")), [{"id": 1, "aa": "x"}])
op.execute(sa.table("t", sa.column("aa")).update().where(sa.column("id") == 1).values(aa=op.inline_literal("y")))
op.execute(sa.text("SELECT jsonb_object_agg(distinct(aa), id) FROM t"))
with op.batch_alter_table("t") as batch_op:
    batch_op.add_column(sa.Column("f", sa.Boolean, server_default=sa.false()))
    batch_op.alter_column("f", new_column_name="g")
    batch_op.create_index("ix4", ["g"])
    batch_op.create_unique_constraint("uq3", ["g"])
    batch_op.create_foreign_key("fk3", "t", ["c"], ["id"])
    batch_op.create_check_constraint("ck3", "g IS NOT NULL")
    batch_op.drop_constraint("ck3", type_="check")
    batch_op.drop_index("ix4")
    batch_op.drop_column("g")
op.rename_table("t", "t2")
op.drop_index("ix", table_name="t2", if_exists=True)
op.drop_index("ix2", table_name="t2", postgresql_concurrently=True)
op.drop_constraint("fk", "t2", type_="foreignkey")
op.drop_constraint("uq", "t2", type_="unique", if_exists=True)
op.drop_column("t2", "d", if_exists=True)
op.drop_table("t2", if_exists=True)
sa.Enum(name="mood").drop(op.get_bind())
"""


def test_every_alembic_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    versions = tmp_path / "versions"
    versions.mkdir()
    body = textwrap.indent(textwrap.dedent(EVERY_OP).strip(), "    ")
    (versions / "r1.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = 'r1'\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\n"
        f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
    )
    result = CliRunner().invoke(
        cli, ["lint", "--format", "json", "--no-cache", "--revisions", "versions"]
    )
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    broken = [f for f in report["findings"] if f["code"] in ("EC001", "EC005")]
    assert broken == [], [f["message"] for f in broken]
    assert report["statements"] > 40
