"""Suppression comments: per statement, per file, and unused ones reported."""

from __future__ import annotations

from tests.helpers import codes, lint

INDEX = "CREATE INDEX ix ON t (a);"


def test_comment_on_the_line_before_suppresses_by_name_or_code() -> None:
    for rule in ("create-index-not-concurrently", "EC301", "ec301"):
        sql = f"-- expandcontract: ignore {rule} -- small table\n{INDEX}"
        assert codes(sql) == [], rule


def test_comment_at_the_end_of_the_statement_suppresses() -> None:
    assert codes(f"{INDEX} -- expandcontract: ignore EC301 -- tiny") == []


def test_comment_above_a_multi_line_statement_covers_all_of_it() -> None:
    sql = "-- expandcontract: ignore EC110, EC108\nALTER TABLE t\n  ALTER COLUMN a TYPE bigint,\n  DROP COLUMN b;"
    assert codes(sql, "change-column-type", "drop-column") == []


def test_suppression_covers_only_the_next_statement() -> None:
    sql = f"-- expandcontract: ignore EC301\n{INDEX}\n{INDEX}"
    findings = lint(sql)
    assert [(f.code, f.line) for f in findings] == [("EC301", 3)]


def test_several_rules_in_one_comment() -> None:
    sql = "-- expandcontract: ignore EC004,add-column-volatile-default\nALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid();"
    assert codes(sql) == []


def test_ignore_file() -> None:
    sql = f"-- expandcontract: ignore-file EC301 -- staging only\n{INDEX}\nSELECT 1;\n{INDEX}"
    assert codes(sql) == []


def test_unused_suppression_is_reported() -> None:
    sql = "-- expandcontract: ignore EC301 -- stale\nCREATE INDEX CONCURRENTLY ix ON t (a);"
    findings = lint(sql)
    assert [(f.code, f.severity, f.line) for f in findings] == [("EC002", "warning", 1)]
    assert "EC301" in findings[0].message


def test_unused_file_suppression_is_reported() -> None:
    findings = lint("-- expandcontract: ignore-file drop-table\nSELECT 1;")
    assert [f.code for f in findings] == ["EC002"]


def test_unknown_rule_in_suppression_is_reported() -> None:
    findings = lint(f"-- expandcontract: ignore no-such-rule\n{INDEX}")
    assert sorted(f.code for f in findings) == ["EC002", "EC301"]
    assert "no-such-rule" in next(f for f in findings if f.code == "EC002").message


def test_partly_used_suppression_reports_the_unused_rule() -> None:
    findings = lint(f"-- expandcontract: ignore EC301, EC108\n{INDEX}")
    assert [f.code for f in findings] == ["EC002"]
    assert "EC108" in findings[0].message


def test_ordinary_comments_are_not_suppressions() -> None:
    assert codes(f"-- expandcontract ignores nothing here\n{INDEX}") == ["EC301"]
