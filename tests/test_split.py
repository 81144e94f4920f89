"""The SQL front end: splitting on tokens, positions, comments, and the token classifier."""

from __future__ import annotations

import pytest

from expandcontract.sql.postgres.split import split
from expandcontract.sql.postgres.statements import StatementError, analyze
from tests.helpers import full_statements, judged


def texts(sql: str) -> list[str]:
    return [s.text for s in split(sql).statements]


def test_semicolons_inside_quotes_bodies_and_comments_do_not_split() -> None:
    sql = """SELECT 'a;b', "x;y" FROM t; -- c;d
CREATE FUNCTION f() RETURNS int AS $tag$ SELECT 1; $$ inner $$ $tag$ LANGUAGE sql;
/* one; /* nested; */ two; */ SELECT E'it\\'s;';
DO $$ BEGIN PERFORM 1; END $$"""
    assert len(texts(sql)) == 4
    assert texts(sql)[3] == "DO $$ BEGIN PERFORM 1; END $$"


def test_begin_atomic_body_stays_whole() -> None:
    sql = (
        "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC "
        "SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; SELECT 2; END;\nSELECT 3;"
    )
    assert len(texts(sql)) == 2


def test_positions_are_one_based_and_point_at_the_first_token() -> None:
    sql = "\n  -- lead\n  CREATE INDEX ix\n    ON t (a);\nSELECT 1;"
    first, second = split(sql).statements
    assert (first.line, first.column, first.end_line) == (3, 3, 4)
    assert (second.line, second.column) == (5, 1)


def test_comments_keep_their_positions() -> None:
    sql = "-- one\nSELECT 1; /* two */\nSELECT 2; -- three"
    comments = [(c.line, c.column, c.text) for c in split(sql).comments]
    assert comments == [(1, 1, "one"), (2, 11, "two"), (3, 11, "three")]


def test_comment_text_inside_a_command_argument_is_not_a_comment() -> None:
    sql = "DO $$ BEGIN -- expandcontract: ignore drop-table\n PERFORM 1; END $$;"
    assert split(sql).comments == []


def test_psql_meta_commands_are_skipped() -> None:
    assert texts("\\set ON_ERROR_STOP on\nSELECT 1;\n\\connect db\nSELECT 2;") == [
        "SELECT 1",
        "SELECT 2",
    ]


@pytest.mark.parametrize(
    ("sql", "what", "line"),
    [
        ("SELECT 1;\nSELECT $$never;\nSELECT 2;", "dollar-quoted string", 2),
        ("SELECT 1;\n\nSELECT 'open", "string literal", 3),
        ('SELECT 1;\nSELECT "open', "quoted identifier", 2),
        ("SELECT 1; /* open", "block comment", 1),
    ],
)
def test_unterminated_quote_is_an_error_at_its_line(sql: str, what: str, line: int) -> None:
    statements = split(sql).statements
    assert statements[0].text == "SELECT 1" and statements[0].error is None
    last = statements[-1]
    assert last.error is not None and what in last.error
    assert last.line == line


def test_empty_and_comment_only_scripts_have_no_statements() -> None:
    assert texts("") == []
    assert texts("-- nothing\n/* here */\n;;") == []


# --- the analysis of one statement, including sqlglot's misparses -------------------------


def ops(sql: str):
    """The full reader's operations of the one statement in ``sql`` (and, where the plain
    shapes settle it, the proof that they agree)."""
    (stmt,) = split(sql).statements
    (full,) = full_statements(sql)
    found = judged(analyze(full))
    if stmt.ops is not None:
        assert stmt.ops == found
    return found


def test_rename_without_column_keyword_is_a_column_rename() -> None:
    (op,) = ops("ALTER TABLE t RENAME a TO b")
    assert (op.kind, op.column, op.new_name) == ("rename_column", "a", "b")
    (op,) = ops("ALTER TABLE t RENAME TO u")
    assert (op.kind, op.new_name) == ("rename_table", "u")


def test_explicit_null_is_not_not_null() -> None:
    (op,) = ops("ALTER TABLE t ADD COLUMN x int NULL")
    assert not op.has("not_null")
    (op,) = ops("ALTER TABLE t ADD COLUMN x int NOT NULL")
    assert op.has("not_null")


def test_generated_without_stored_is_not_an_identity() -> None:
    (op,) = ops("ALTER TABLE t ADD COLUMN x int GENERATED ALWAYS AS (a + 1)")
    assert not op.has("identity") and not op.has("generated_stored")
    (op,) = ops("ALTER TABLE t ADD COLUMN x int GENERATED ALWAYS AS IDENTITY")
    assert op.has("identity")


@pytest.mark.parametrize(
    ("sql", "kind", "lock"),
    [
        ("ALTER TABLE t VALIDATE CONSTRAINT c", "validate_constraint", "SHARE UPDATE EXCLUSIVE"),
        (
            "ALTER TABLE t ADD CONSTRAINT k UNIQUE USING INDEX ix",
            "add_constraint",
            "ACCESS EXCLUSIVE",
        ),
        ("ALTER TABLE t DETACH PARTITION p", "detach_partition", "ACCESS EXCLUSIVE"),
        (
            "ALTER TABLE t DETACH PARTITION p CONCURRENTLY",
            "detach_partition",
            "SHARE UPDATE EXCLUSIVE",
        ),
        ("ALTER TABLE t ATTACH PARTITION p DEFAULT", "attach_partition", "SHARE UPDATE EXCLUSIVE"),
        ("ALTER TABLE t ENABLE TRIGGER tr", "alter_table_other", "SHARE ROW EXCLUSIVE"),
        ("ALTER TABLE t OWNER TO bob", "alter_table_other", "ACCESS EXCLUSIVE"),
        ("REINDEX TABLE t", "reindex", "SHARE"),
        ("REINDEX INDEX ix", "reindex", "ACCESS EXCLUSIVE"),
        ("LOCK TABLE t IN SHARE MODE", "lock_table", "SHARE"),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "refresh_matview", "EXCLUSIVE"),
        ("CLUSTER t USING ix", "cluster", "ACCESS EXCLUSIVE"),
        (
            "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
            "create_trigger",
            "SHARE ROW EXCLUSIVE",
        ),
    ],
)
def test_token_classifier(sql: str, kind: str, lock: str) -> None:
    op = ops(sql)[0]
    assert (op.kind, op.lock) == (kind, lock)


def test_not_null_check_column_is_recognised_on_both_paths() -> None:
    (op,) = ops("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID")
    assert (op.column, op.not_valid) == ("a", True)
    (op,) = ops("ALTER TABLE t ADD CHECK ((a IS NOT NULL)) NOT VALID")  # a Command in sqlglot
    assert (op.column, op.not_valid) == ("a", True)
    (op,) = ops("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL AND b > 0) NOT VALID")
    assert op.column is None


@pytest.mark.parametrize(
    "sql", ["ALTR TABLE t", "garbage", "CREATE TABLE (", "ALTER TABLE t FROBNICATE x"]
)
def test_garbage_is_a_statement_error(sql: str) -> None:
    with pytest.raises(StatementError):
        ops(sql)


def test_set_access_method_rewrites() -> None:
    (op,) = ops("ALTER TABLE t SET ACCESS METHOD heap2")
    assert (op.kind, op.value) == ("rewrite_table", "SET ACCESS METHOD")
