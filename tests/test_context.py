"""The context the rules must understand, each case in both directions."""

from __future__ import annotations

from tests.helpers import codes, lint

# --- tables created earlier in the same file are empty ---------------------------------------


def test_index_on_table_created_in_same_file_is_safe() -> None:
    sql = "CREATE TABLE t (id int, a int);\nCREATE INDEX ix ON t (a);"
    assert codes(sql, "create-index-not-concurrently") == []


def test_index_on_table_created_in_another_file_is_flagged() -> None:
    assert codes("CREATE INDEX ix ON t (a);", "create-index-not-concurrently") == ["EC301"]


def test_new_table_match_respects_schema_and_quoting() -> None:
    sql = 'CREATE TABLE app.t (id int);\nCREATE INDEX ix ON "app"."t" (id);\nCREATE INDEX iy ON t (id);'
    findings = lint(sql, "create-index-not-concurrently")
    assert [f.line for f in findings] == [3]  # app.t is new, public t is not
    sql = (
        'CREATE TABLE public.t (id int);\nCREATE INDEX ix ON T (id);\nCREATE INDEX iy ON "T" (id);'
    )
    assert [f.line for f in lint(sql, "create-index-not-concurrently")] == [3]


def test_constraints_and_foreign_keys_on_new_table_are_safe() -> None:
    sql = """
    CREATE TABLE child (id int, parent_id int, qty int);
    ALTER TABLE child ADD CONSTRAINT fk FOREIGN KEY (parent_id) REFERENCES parent (id);
    ALTER TABLE child ADD CONSTRAINT ck CHECK (qty > 0);
    ALTER TABLE child ADD CONSTRAINT uq UNIQUE (qty);
    """
    assert codes(sql) == []
    existing = sql.replace("CREATE TABLE child (id int, parent_id int, qty int);", "")
    assert sorted(codes(existing)) == ["EC004", "EC201", "EC202", "EC203"]


def test_renamed_new_table_stays_new() -> None:
    sql = "CREATE TABLE t (id int);\nALTER TABLE t RENAME TO u;\nCREATE INDEX ix ON u (id);"
    assert codes(sql, "create-index-not-concurrently") == []


# --- explicit transactions --------------------------------------------------------------------


def test_concurrently_inside_begin_commit_is_an_error() -> None:
    sql = "BEGIN;\nCREATE INDEX CONCURRENTLY ix ON t (a);\nCOMMIT;"
    assert codes(sql) == ["EC302"]


def test_concurrently_after_commit_is_fine() -> None:
    sql = "BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY ix ON t (a);"
    assert codes(sql) == []


def test_assume_in_transaction_setting() -> None:
    sql = "CREATE INDEX CONCURRENTLY ix ON t (a);"
    assert codes(sql, assume_in_transaction=True) == ["EC302"]
    assert codes(sql, assume_in_transaction=False) == []


def test_rollback_to_savepoint_stays_in_transaction() -> None:
    sql = "BEGIN;\nSAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\nCREATE INDEX CONCURRENTLY ix ON t (a);"
    assert codes(sql) == ["EC302"]


def test_not_valid_then_validate_in_same_transaction() -> None:
    add = "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;"
    validate = "ALTER TABLE t VALIDATE CONSTRAINT c;"
    same = f"SET lock_timeout = '2s';\nBEGIN;\n{add}\n{validate}\nCOMMIT;"
    split = f"SET lock_timeout = '2s';\nBEGIN;\n{add}\nCOMMIT;\n{validate}"
    assert codes(same) == ["EC205"]
    assert codes(split) == []


def test_not_valid_in_autocommit_statements_validates_separately() -> None:
    sql = "SET lock_timeout = '2s';\nALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
    sql += "ALTER TABLE t VALIDATE CONSTRAINT c;"
    assert codes(sql) == []
    assert codes(sql, assume_in_transaction=True) == ["EC205"]


# --- multi-action ALTER TABLE ---------------------------------------------------------------


def test_every_action_of_a_multi_action_alter_is_judged() -> None:
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE t ADD COLUMN a int, ADD COLUMN b uuid DEFAULT gen_random_uuid(),\n"
        "  ALTER COLUMN c TYPE bigint, ALTER COLUMN d SET NOT NULL, DROP COLUMN e;"
    )
    findings = lint(sql)
    assert [f.code for f in findings] == ["EC101", "EC110", "EC112", "EC108"]
    assert [(f.line, f.column) for f in findings] == [(2, 33), (3, 3), (3, 31), (3, 60)]


def test_not_valid_belongs_to_its_own_action() -> None:
    # NOT VALID not last: sqlglot returns the whole statement unparsed
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE t ADD CONSTRAINT a CHECK (x > 0) NOT VALID, ADD CONSTRAINT b CHECK (y > 0);"
    )
    assert codes(sql) == ["EC201"]
    # NOT VALID last: sqlglot sets it on the whole statement; only b is NOT VALID
    sql = (
        "SET lock_timeout = '2s';\n"
        "ALTER TABLE t ADD CONSTRAINT a CHECK (x > 0), ADD CONSTRAINT b CHECK (y > 0) NOT VALID;"
    )
    findings = lint(sql)
    assert [(f.code, f.column) for f in findings] == [("EC201", 15)]


def test_multi_action_safe_statement_is_clean() -> None:
    sql = "SET lock_timeout = '2s';\nALTER TABLE t ADD COLUMN a int, ALTER COLUMN b SET DEFAULT 0;"
    assert codes(sql) == []


# --- PostgreSQL version ---------------------------------------------------------------------


def test_constant_default_is_safe_from_pg11() -> None:
    sql = "ALTER TABLE t ADD COLUMN a int DEFAULT 0;"
    assert codes(sql, "add-column-default-before-pg11", pg_version=11) == []
    assert codes(sql, "add-column-default-before-pg11", pg_version=10) == ["EC102"]


def test_stable_default_is_safe_from_pg11() -> None:
    for default in ("now()", "CURRENT_TIMESTAMP", "'x'::text", "-1", "true", "'{}'::jsonb"):
        sql = f"ALTER TABLE t ADD COLUMN a text DEFAULT {default};"
        assert codes(sql, "add-column-volatile-default", "add-column-default-before-pg11") == []
        assert codes(sql, "add-column-default-before-pg11", pg_version=10) == ["EC102"], default


def test_volatile_default_rewrites_on_every_version() -> None:
    for default in ("random()", "gen_random_uuid()", "clock_timestamp()", "nextval('s')"):
        sql = f"ALTER TABLE t ADD COLUMN a text DEFAULT {default};"
        for version in (10, 11, 14, 17):
            assert codes(sql, "add-column-volatile-default", pg_version=version) == ["EC101"]
    assert codes("ALTER TABLE t ADD COLUMN a serial;", "add-column-volatile-default") == ["EC101"]


def test_set_not_null_behind_check_needs_pg12() -> None:
    sql = (
        "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE t VALIDATE CONSTRAINT c;\n"
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;"
    )
    assert codes(sql, "set-not-null", pg_version=12) == []
    assert codes(sql, "set-not-null", pg_version=11) == ["EC112"]
    other_column = sql.replace("COLUMN a SET", "COLUMN b SET")
    assert codes(other_column, "set-not-null") == ["EC112"]


# --- quoting, case, comments, strings, bodies ------------------------------------------------


def test_keywords_in_any_case_and_quoted_identifiers() -> None:
    assert codes('create index "Ix" on "My Table" ("Col");', "create-index-not-concurrently")
    assert codes("CrEaTe InDeX ix oN t (a);", "create-index-not-concurrently") == ["EC301"]


def test_sql_inside_strings_comments_and_bodies_is_never_judged() -> None:
    sql = """
    SELECT 'DROP TABLE users; CREATE INDEX ix ON t (a);';
    SELECT E'it\\'s; DROP TABLE x';
    -- DROP TABLE users;
    /* ALTER TABLE users DROP COLUMN a; /* nested */ TRUNCATE t; */
    CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        UPDATE t SET a = 1;
        DROP TABLE users;
        RETURN NEW;
    END $body$;
    CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
    COMMENT ON TABLE t IS 'ALTER TABLE t DROP COLUMN x;';
    SELECT "DROP TABLE x" FROM t;
    """
    assert codes(sql) == []


def test_what_a_do_block_executes_is_judged_as_written_out() -> None:
    # a DO block runs its body where it stands: EXECUTE of constant text included
    assert "EC403" in codes("DO $$ BEGIN EXECUTE 'TRUNCATE t'; END $$;")
    assert "EC403" in codes("DO $$ BEGIN EXECUTE 'TRUNCATE ' || 't'; END $$;")
    assert "EC112" in codes(
        "DO $$ BEGIN EXECUTE format('ALTER TABLE %I ALTER COLUMN %I SET NOT NULL', 't', 'a');"
        " END $$;"
    )
    # ... and a function's body where it is called, not where it is created
    create = "CREATE FUNCTION h() RETURNS void LANGUAGE sql AS 'TRUNCATE t';\n"
    assert codes(create) == []
    assert "EC403" in codes(create + "SELECT h();")


# --- full-table UPDATE / DELETE ------------------------------------------------------------


def test_full_table_update_and_delete_are_errors() -> None:
    assert codes("UPDATE t SET a = 1;") == ["EC501"]
    assert codes("DELETE FROM t;") == ["EC501"]


def test_batched_update_and_delete_are_fine() -> None:
    assert codes("UPDATE t SET a = 1 WHERE id > 0 AND id <= 1000;") == []
    assert codes("DELETE FROM t WHERE id IN (SELECT id FROM t LIMIT 100);") == []


# --- lock_timeout ---------------------------------------------------------------------------


def test_missing_lock_timeout_warns_once_before_exclusive_lock() -> None:
    sql = "ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;"
    findings = lint(sql)
    assert [(f.code, f.severity, f.line) for f in findings] == [("EC004", "warning", 1)]


def test_lock_timeout_set_first_silences_it() -> None:
    for setting in (
        "SET lock_timeout = '2s'",
        "SET lock_timeout TO 2000",
        "SET SESSION lock_timeout = '1s'",
    ):
        assert codes(f"{setting};\nALTER TABLE t ADD COLUMN a int;") == [], setting


def test_lock_timeout_reset_or_zero_warns_again() -> None:
    for reset in ("SET lock_timeout = 0", "RESET lock_timeout", "SET lock_timeout TO DEFAULT"):
        sql = f"SET lock_timeout = '2s';\n{reset};\nALTER TABLE t ADD COLUMN a int;"
        assert codes(sql) == ["EC004"], reset


def test_set_local_lock_timeout_ends_with_the_transaction() -> None:
    sql = "BEGIN;\nSET LOCAL lock_timeout = '2s';\nALTER TABLE t ADD COLUMN a int;\nCOMMIT;"
    assert codes(sql) == []
    assert codes(sql + "\nALTER TABLE t ADD COLUMN b int;") == ["EC004"]


def test_weaker_locks_do_not_need_lock_timeout() -> None:
    sql = "CREATE INDEX CONCURRENTLY ix ON t (a);\nALTER TABLE t VALIDATE CONSTRAINT c;"
    assert codes(sql) == []
