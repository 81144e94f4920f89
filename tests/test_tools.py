"""SQL as migration tools and psql write it: which part is the migration, whether it runs in
one transaction, and psql's own syntax (variables, COPY data) read as psql reads it."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from expandcontract.cli import cli
from expandcontract.lint.engine import RuleSet, lint_sql
from expandcontract.linters import RULES


def found(text: str, name: str = "m.sql") -> list[tuple[int, str]]:
    findings = lint_sql(text, name, RuleSet(rules=list(RULES), catalogue=RULES))[0]
    return [(f.line, f.code) for f in findings if f.code != "EC004"]


ADD_THEN_VALIDATE = (
    "ALTER TABLE users ADD COLUMN note text;\n"
    "ALTER TABLE users VALIDATE CONSTRAINT users_score_check;\n"
)


def test_goose_runs_the_up_section_in_one_transaction() -> None:
    text = (
        f"-- +goose Up\n{ADD_THEN_VALIDATE}\n-- +goose Down\nALTER TABLE users DROP COLUMN note;\n"
    )
    assert found(text) == [(3, "EC502")]  # the Down section is the undo, not the migration


def test_goose_no_transaction_lets_concurrently_run() -> None:
    text = (
        "-- +goose NO TRANSACTION\n-- +goose Up\n"
        "CREATE INDEX CONCURRENTLY ix_users_note ON users (note);\n"
        "-- +goose Down\nDROP INDEX CONCURRENTLY ix_users_note;\n"
    )
    assert found(text) == []
    assert found(text.replace("-- +goose NO TRANSACTION\n", "")) == [(2, "EC302")]


def test_goose_statement_blocks_are_one_statement() -> None:
    text = (
        "-- +goose Up\n-- +goose StatementBegin\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;\n"
        "-- +goose StatementEnd\n"
    )
    assert found(text) == []


def test_liquibase_changesets_are_transactions_of_their_own() -> None:
    text = (
        "--liquibase formatted sql\n\n--changeset alice:1\n"
        + ADD_THEN_VALIDATE
        + "--rollback ALTER TABLE users DROP COLUMN note;\n\n"
        "--changeset alice:2 runInTransaction:false\n"
        "CREATE INDEX CONCURRENTLY ix_users_note ON users (note);\n"
        "--changeset alice:3\n"
        "ALTER TABLE users VALIDATE CONSTRAINT users_score_check;\n"
    )
    assert found(text) == [(5, "EC502")]


def test_flyway_versioned_files_run_in_one_transaction() -> None:
    assert found(ADD_THEN_VALIDATE, "V2__note.sql") == [(2, "EC502")]
    assert found(ADD_THEN_VALIDATE, "0002_note.sql") == []  # nothing says so
    cic = "CREATE INDEX CONCURRENTLY ix ON users (note);\n"
    assert found(cic, "V3__index.sql") == []  # Flyway runs it without a transaction


def test_sqitch_revert_and_verify_scripts_are_not_migrations(tmp_path: Path) -> None:
    (tmp_path / "sqitch.plan").write_text("%project=app\n")
    for folder, sql in (
        ("deploy", "ALTER TABLE users ADD COLUMN note text;\n"),
        ("revert", "ALTER TABLE users DROP COLUMN note;\n"),
        ("verify", "SELECT note FROM users WHERE false;\n"),
    ):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "note.sql").write_text(sql)
    result = CliRunner().invoke(cli, ["lint", "--no-cache", "--format", "json", str(tmp_path)])
    assert '"files": 1' in result.output, result.output
    assert "EC108" not in result.output


def test_django_sqlmigrate_output_is_read_whole() -> None:
    text = (
        "BEGIN;\n--\n-- Add field gift to order\n--\n"
        'ALTER TABLE "shop_order" ADD COLUMN "gift" boolean DEFAULT false NOT NULL;\n'
        'ALTER TABLE "shop_order" ALTER COLUMN "gift" DROP DEFAULT;\nCOMMIT;\n'
    )
    assert found(text) == [(6, "EC414")]  # the running version's inserts lose their default


def test_psql_variables_stand_for_names_and_values() -> None:
    text = (
        "\\set tbl users\n"
        'ALTER TABLE :"tbl" ADD COLUMN x float8 DEFAULT random();\n'
        "UPDATE :tbl SET flag = :'on';\n"
        "SELECT a::text, '10:30' FROM t;\n"
    )
    assert found(text) == [(2, "EC101"), (3, "EC501")]


def test_copy_from_stdin_data_is_not_sql() -> None:
    text = (
        "COPY users (id, email) FROM stdin;\n"
        "1\tann's; DROP TABLE users;\n2\t\\N\n\\.\n"
        "ALTER TABLE users ADD COLUMN x float8 DEFAULT random();\n"
    )
    assert found(text) == [(5, "EC101")]


TYPEORM = """import { MigrationInterface, QueryRunner } from "typeorm";

export class AddAge1700000000000 implements MigrationInterface {
    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "user" ADD "age" integer NOT NULL DEFAULT 0`);
        await queryRunner.query(`CREATE INDEX "IDX_age" ON "user" ("age") `);
        await queryRunner.query(`ALTER TABLE "${this.table}" DROP COLUMN "legacy"`);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."IDX_age"`);
        await queryRunner.query(`ALTER TABLE "user" DROP COLUMN "age"`);
    }
}
"""

KNEX = """exports.up = function (knex) {
  return knex.raw('ALTER TABLE users ALTER COLUMN email SET NOT NULL');
};

exports.down = function (knex) {
  return knex.raw('ALTER TABLE users ALTER COLUMN email DROP NOT NULL');
};
"""


def test_typeorm_and_knex_migrations_are_read_for_their_sql(tmp_path: Path) -> None:
    # up only (down is the undo), each file one transaction, at the SQL's own line
    assert found(TYPEORM, "1700000000000-AddAge.ts") == [(6, "EC301"), (7, "EC108")]
    assert found(KNEX, "20240101_flag.js") == [(2, "EC112")]
    (tmp_path / "1700000000000-AddAge.ts").write_text(TYPEORM)
    (tmp_path / "helpers.ts").write_text("export const x = 1;\n")  # no migration
    result = CliRunner().invoke(cli, ["lint", "--no-cache", "--format", "json", str(tmp_path)])
    assert '"files": 1' in result.output, result.output


def test_a_routine_an_earlier_migration_created_is_judged_where_called() -> None:
    from expandcontract.lint.schema import Schema

    ruleset, schema = RuleSet(rules=list(RULES), catalogue=RULES), Schema()
    create = "CREATE PROCEDURE tighten() LANGUAGE sql AS $$ ALTER TABLE users ALTER COLUMN score SET NOT NULL $$;"
    assert lint_sql(create, "0001.sql", ruleset, schema)[0] == []
    called = lint_sql("CALL tighten();", "0002.sql", ruleset, schema)[0]
    assert "EC112" in [f.code for f in called]
