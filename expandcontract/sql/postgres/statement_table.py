"""Every statement type of PostgreSQL's grammar, and what each does: one table.

A row is one statement type (as PostgreSQL's command tag names it: ``CREATE INDEX``,
``ALTER SEQUENCE``) or one subcommand of ALTER TABLE / INDEX / TYPE / DOMAIN / SEQUENCE
(``ALTER TABLE ADD COLUMN``). For each it says:

- ``lock``: the strongest lock it holds until commit on the relation it names
  (:data:`LOCK_ORDER` names; None when it names no table, view, index or sequence),
  ``index_lock`` on each of that relation's indexes (a rewrite rebuilds them all), and
  ``others``: the locks on the other relations it touches;
- ``work``: what it does to that relation's rows, in its plain form: ``none`` (the
  catalog only), ``scan`` (reads every row under its lock), ``build`` (an index build:
  a scan and a sort), ``rewrite`` (a new copy of the relation), ``rows`` (changes
  rows), ``copy`` (reads other relations' rows into a new one), ``empties``; and
  ``when``: the conditions under which it does more;
- ``block``: ``any``; ``outside`` when PostgreSQL refuses it inside a transaction block,
  a function or a ``DO`` block (``PreventInTransactionBlock``); ``inside`` when it only
  works inside one;
- ``since``: the first major version (of those this project knows, 13 and later) whose
  grammar accepts it, and ``options``: (words, version, example) for options that came
  later;
- ``visible``: what a client of the running application sees: ``removes`` (an object
  or privilege it may use is gone), ``renames``, ``changes`` (its behaviour changes:
  values, rows seen, errors raised), or nothing;
- ``example``: a statement of this type, run by the oracle
  (``tests/test_statement_table.py``) on PostgreSQL 15 and 18 against its fixture
  schema, which observes every field above and fails when an entry and the server
  disagree.

The linter reads a statement's row with :func:`classify` (statement types) and
:func:`classify_action` (ALTER subcommands). A statement no row knows is a finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

AS, RS, RE = "ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE"
SUE, SH, SRE = "SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE"
EX, AE = "EXCLUSIVE", "ACCESS EXCLUSIVE"

NONE, SCAN, BUILD, REWRITE, ROWS, COPY, EMPTIES = (
    "none",
    "scan",
    "build",
    "rewrite",
    "rows",
    "copy",
    "empties",
)
ANY, OUTSIDE, INSIDE = "any", "outside", "inside"
# the oldest major the table describes: ``since=13`` says "in 13 and later", nothing of
# what came before
FLOOR = 13
REMOVES, RENAMES, CHANGES = "removes", "renames", "changes"


@dataclass(frozen=True, slots=True)
class Entry:
    key: str  # the statement type, or "<ALTER ...> <SUBCOMMAND>"
    tag: str  # the command tag PostgreSQL answers with
    lock: str | None
    work: str = NONE
    when: str = ""
    block: str = ANY
    since: int = 13
    visible: str = ""
    example: str | None = None
    on: str | None = None  # the oracle's relation the example names (lock, work)
    others: tuple[tuple[str, str], ...] = ()  # (oracle relation, lock) beside it
    index_lock: str | None = None  # the lock it takes on each index of that relation
    # (option words, first version, a statement using it): options that came later
    options: tuple[tuple[str, int, str], ...] = ()
    # the SQLSTATE its example fails with on purpose (its syntax accepted, nothing done)
    refused: str | None = None
    old: str | None = None  # the running version's query that breaks, when not the usual
    # a condition of the entry before it, told apart by what the statement's tree holds (a
    # volatile default), not by its key words
    variant: bool = False


_LOCKS = (AS, RS, RE, SUE, SH, SRE, EX, AE)


def judged(entry: Entry) -> bool:
    """Whether the entry holds anything a rule judges a statement by: a lock that blocks
    writes, work beyond the catalog and the rows asked for, a transaction-block rule, a
    version, or something a running client sees."""
    return (
        entry.block != ANY
        or entry.since > FLOOR
        or bool(entry.options)
        or bool(entry.visible)
        or entry.work in (BUILD, REWRITE, COPY, EMPTIES)
        or (entry.lock is not None and _LOCKS.index(entry.lock) >= _LOCKS.index(SH))
    )


def _e(key, tag, lock=None, work=NONE, **kw) -> Entry:
    return Entry(key, tag, lock, work, **kw)


# --- statement types (command tags) ----------------------------------------------------------
STATEMENTS: tuple[Entry, ...] = (
    _e("ALTER ACCESS METHOD", "ALTER ACCESS METHOD", since=99),  # no such statement: tag only
    _e(
        "ALTER AGGREGATE",
        "ALTER AGGREGATE",
        visible=RENAMES,
        when="RENAME / SET SCHEMA move its name",
        example="ALTER AGGREGATE agg(int) RENAME TO agg2",
        old="SELECT agg(id) FROM r",
    ),
    _e("ALTER CAST", "ALTER CAST", since=99),  # no such statement: tag only
    _e("ALTER COLLATION", "ALTER COLLATION", example="ALTER COLLATION coll REFRESH VERSION"),
    _e("ALTER CONSTRAINT", "ALTER CONSTRAINT", since=99),  # tag only
    _e(
        "ALTER CONVERSION",
        "ALTER CONVERSION",
        visible=RENAMES,
        example="ALTER CONVERSION conv RENAME TO conv2",
        old="COMMENT ON CONVERSION conv IS NULL",
    ),
    _e("ALTER DATABASE", "ALTER DATABASE", example="ALTER DATABASE {db} SET work_mem = '8MB'"),
    _e(
        "ALTER DEFAULT PRIVILEGES",
        "ALTER DEFAULT PRIVILEGES",
        example="ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO {role}",
    ),
    # ALTER DOMAIN: see ACTIONS
    _e("ALTER EVENT TRIGGER", "ALTER EVENT TRIGGER", example="ALTER EVENT TRIGGER evt DISABLE"),
    _e(
        "ALTER EXTENSION",
        "ALTER EXTENSION",
        when="UPDATE runs the extension's upgrade script: any DDL",
        example="ALTER EXTENSION plpgsql UPDATE",
    ),
    _e(
        "ALTER FOREIGN DATA WRAPPER",
        "ALTER FOREIGN DATA WRAPPER",
        example="ALTER FOREIGN DATA WRAPPER fdw OPTIONS (ADD o '1')",
    ),
    _e(
        "ALTER FUNCTION",
        "ALTER FUNCTION",
        visible=CHANGES,
        when="RENAME / SET SCHEMA break its callers; other options change how it runs",
        example="ALTER FUNCTION f() STABLE",
    ),
    # ALTER INDEX: see ACTIONS
    _e("ALTER LANGUAGE", "ALTER LANGUAGE", example="ALTER LANGUAGE plpgsql OWNER TO {role}"),
    _e(
        "ALTER LARGE OBJECT",
        "ALTER LARGE OBJECT",
        example="ALTER LARGE OBJECT 4242 OWNER TO {role}",
    ),
    _e(
        "ALTER MATERIALIZED VIEW",
        "ALTER MATERIALIZED VIEW",
        SUE,
        when="SHARE UPDATE EXCLUSIVE for SET STATISTICS and storage parameters, ACCESS "
        "EXCLUSIVE else; SET TABLESPACE / SET ACCESS METHOD rewrite it; RENAME breaks its "
        "readers",
        example="ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET STATISTICS 100",
        on="mv",
    ),
    _e(
        "ALTER OPERATOR",
        "ALTER OPERATOR",
        example="ALTER OPERATOR === (int, int) OWNER TO {role}",
    ),
    _e(
        "ALTER OPERATOR CLASS",
        "ALTER OPERATOR CLASS",
        example="ALTER OPERATOR CLASS oc USING hash OWNER TO {role}",
    ),
    _e(
        "ALTER OPERATOR FAMILY",
        "ALTER OPERATOR FAMILY",
        example="ALTER OPERATOR FAMILY of1 USING btree OWNER TO {role}",
    ),
    _e(
        "ALTER POLICY",
        "ALTER POLICY",
        AE,
        visible=CHANGES,
        when="changes the rows the running version sees and may write",
        example="ALTER POLICY t_pol ON t USING (a > 0)",
        on="t",
    ),
    _e(
        "ALTER PROCEDURE",
        "ALTER PROCEDURE",
        visible=RENAMES,
        example="ALTER PROCEDURE pr() RENAME TO pr2",
        old="CALL pr()",
    ),
    _e(
        "ALTER PUBLICATION",
        "ALTER PUBLICATION",
        SUE,
        visible=CHANGES,
        when="a row filter or column list changes what subscribers receive",
        example="ALTER PUBLICATION pub ADD TABLE t",
        on="t",
    ),
    _e("ALTER ROLE", "ALTER ROLE", example="ALTER ROLE {role} SET work_mem = '8MB'"),
    _e(
        "ALTER ROUTINE",
        "ALTER ROUTINE",
        visible=RENAMES,
        example="ALTER ROUTINE f() RENAME TO f2",
    ),
    _e(
        "ALTER RULE",
        "ALTER RULE",
        AE,
        example="ALTER RULE t_rule ON t RENAME TO t_rule2",
        on="t",
    ),
    _e(
        "ALTER SCHEMA",
        "ALTER SCHEMA",
        visible=RENAMES,
        example="ALTER SCHEMA sc RENAME TO sc2",
        old="SELECT * FROM sc.st",
    ),
    # ALTER SEQUENCE: see ACTIONS
    _e(
        "ALTER SERVER",
        "ALTER SERVER",
        example="ALTER SERVER srv OPTIONS (ADD o '1')",
    ),
    _e(
        "ALTER STATISTICS",
        "ALTER STATISTICS",
        example="ALTER STATISTICS t_st SET STATISTICS 100",
    ),
    _e(
        "ALTER SUBSCRIPTION",
        "ALTER SUBSCRIPTION",
        when="REFRESH PUBLICATION with copy_data runs outside a transaction block",
        example="ALTER SUBSCRIPTION sub SET (synchronous_commit = 'off')",
    ),
    _e(
        "ALTER SYSTEM",
        "ALTER SYSTEM",
        block=OUTSIDE,
        example="ALTER SYSTEM SET work_mem = '4MB'",
    ),
    # ALTER TABLE: see ACTIONS
    _e(
        "ALTER TABLESPACE",
        "ALTER TABLESPACE",
        example="ALTER TABLESPACE pg_default SET (seq_page_cost = 1)",
    ),
    _e(
        "ALTER TEXT SEARCH CONFIGURATION",
        "ALTER TEXT SEARCH CONFIGURATION",
        visible=CHANGES,
        when="changes the lexemes to_tsvector makes: stored tsvectors no longer match",
        example="ALTER TEXT SEARCH CONFIGURATION tsc ALTER MAPPING FOR word WITH simple",
    ),
    _e(
        "ALTER TEXT SEARCH DICTIONARY",
        "ALTER TEXT SEARCH DICTIONARY",
        visible=CHANGES,
        example="ALTER TEXT SEARCH DICTIONARY tsd (StopWords = english)",
    ),
    _e(
        "ALTER TEXT SEARCH PARSER",
        "ALTER TEXT SEARCH PARSER",
        visible=RENAMES,
        example="ALTER TEXT SEARCH PARSER tsp RENAME TO tsp2",
        old="COMMENT ON TEXT SEARCH PARSER tsp IS NULL",
    ),
    _e(
        "ALTER TEXT SEARCH TEMPLATE",
        "ALTER TEXT SEARCH TEMPLATE",
        visible=RENAMES,
        example="ALTER TEXT SEARCH TEMPLATE tst RENAME TO tst2",
        old="COMMENT ON TEXT SEARCH TEMPLATE tst IS NULL",
    ),
    _e("ALTER TRANSFORM", "ALTER TRANSFORM", since=99),  # tag only
    _e(
        "ALTER TRIGGER",
        "ALTER TRIGGER",
        AE,
        example="ALTER TRIGGER t_tr ON t RENAME TO t_tr2",
        on="t",
    ),
    # ALTER TYPE: see ACTIONS
    _e(
        "ALTER USER MAPPING",
        "ALTER USER MAPPING",
        example="ALTER USER MAPPING FOR PUBLIC SERVER srv OPTIONS (ADD o '1')",
    ),
    _e(
        "ALTER VIEW",
        "ALTER VIEW",
        AE,
        when="RENAME, SET SCHEMA and RENAME COLUMN break its readers",
        example="ALTER VIEW v ALTER COLUMN b SET DEFAULT 'x'",
        on="v",
    ),
    _e(
        "ANALYZE",
        "ANALYZE",
        SUE,
        when="reads a sample of the rows (30,000 pages at most), not a scan",
        example="ANALYZE t",
        on="t",
        options=(
            ("SKIP_LOCKED", 13, "ANALYZE (SKIP_LOCKED) t"),
            ("BUFFER_USAGE_LIMIT", 16, "ANALYZE (BUFFER_USAGE_LIMIT '256kB') t"),
            ("ONLY", 18, "ANALYZE ONLY p"),
        ),
    ),
    _e("BEGIN", "BEGIN", example="BEGIN"),
    _e("CALL", "CALL", when="runs the procedure's body: any statement", example="CALL pr()"),
    _e("CHECKPOINT", "CHECKPOINT", example="CHECKPOINT"),
    _e("CLOSE", "CLOSE CURSOR ALL", example="CLOSE ALL"),
    _e(
        "CLUSTER",
        "CLUSTER",
        AE,
        REWRITE,
        when="without a table name, every clustered table, outside a transaction block",
        example="CLUSTER t USING t_pkey",
        on="t",
        index_lock=AE,
    ),
    _e(
        "COMMENT",
        "COMMENT",
        SUE,
        example="COMMENT ON TABLE t IS 'orders'",
        on="t",
    ),
    _e("COMMIT", "COMMIT", example="COMMIT"),
    _e("COMMIT PREPARED", "COMMIT PREPARED", block=OUTSIDE, example="COMMIT PREPARED 'ec_none'"),
    _e(
        "COPY",
        "COPY",
        AS,
        SCAN,
        when="COPY FROM writes rows under ROW EXCLUSIVE",
        example="COPY t TO '/dev/null'",
        on="t",
        options=(
            ("ON_ERROR", 17, "COPY t TO '/dev/null' (ON_ERROR ignore)"),
            ("LOG_VERBOSITY", 17, "COPY t TO '/dev/null' (LOG_VERBOSITY verbose)"),
            ("REJECT_LIMIT", 18, "COPY t TO '/dev/null' (REJECT_LIMIT 1)"),
        ),
    ),
    _e(
        "CREATE ACCESS METHOD",
        "CREATE ACCESS METHOD",
        example="CREATE ACCESS METHOD am2 TYPE TABLE HANDLER heap_tableam_handler",
    ),
    _e(
        "CREATE AGGREGATE",
        "CREATE AGGREGATE",
        visible=CHANGES,
        when="an overload of an existing name can make the running version's calls ambiguous",
        example="CREATE AGGREGATE agg3(int) (sfunc = int4pl, stype = int)",
    ),
    _e("CREATE CAST", "CREATE CAST", example="CREATE CAST (ct AS int) WITH INOUT"),
    _e(
        "CREATE COLLATION",
        "CREATE COLLATION",
        when="a nondeterministic collation on a column makes LIKE fail",
        example='CREATE COLLATION coll2 FROM "C"',
    ),
    _e("CREATE CONSTRAINT", "CREATE CONSTRAINT", since=99),  # tag only
    _e(
        "CREATE CONVERSION",
        "CREATE CONVERSION",
        example="CREATE CONVERSION conv3 FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8",
    ),
    _e(
        "CREATE DATABASE",
        "CREATE DATABASE",
        block=OUTSIDE,
        example="CREATE DATABASE ec_lt_never",
    ),
    _e("CREATE DOMAIN", "CREATE DOMAIN", example="CREATE DOMAIN dm2 AS int CHECK (VALUE > 0)"),
    _e(
        "CREATE EVENT TRIGGER",
        "CREATE EVENT TRIGGER",
        visible=CHANGES,
        when="runs its function on every matching DDL statement from then on",
        example="CREATE EVENT TRIGGER evt2 ON sql_drop EXECUTE FUNCTION evf()",
    ),
    _e(
        "CREATE EXTENSION",
        "CREATE EXTENSION",
        when="runs the extension's script: any DDL",
        example="CREATE EXTENSION IF NOT EXISTS plpgsql",
    ),
    _e(
        "CREATE FOREIGN DATA WRAPPER",
        "CREATE FOREIGN DATA WRAPPER",
        example="CREATE FOREIGN DATA WRAPPER fdw2",
    ),
    _e(
        "CREATE FOREIGN TABLE",
        "CREATE FOREIGN TABLE",
        when="PARTITION OF takes ACCESS EXCLUSIVE on the parent",
        example="CREATE FOREIGN TABLE ft2 (x int) SERVER srv",
    ),
    _e(
        "CREATE FUNCTION",
        "CREATE FUNCTION",
        visible=CHANGES,
        when="OR REPLACE changes what the running version's calls do; a new argument list "
        "is an overload, which can make its calls ambiguous; a new return type is refused",
        example="CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2'",
        options=(
            (
                "BEGIN ATOMIC",
                14,
                "CREATE FUNCTION fa() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
            ),
        ),
    ),
    _e(
        "CREATE INDEX",
        "CREATE INDEX",
        SH,
        BUILD,
        when="CONCURRENTLY: SHARE UPDATE EXCLUSIVE, two scans, outside a transaction block; "
        "ON ONLY a partitioned table builds nothing",
        example="CREATE INDEX ix_ec ON t (d)",
        on="t",
        options=(
            ("NULLS NOT DISTINCT", 15, "CREATE UNIQUE INDEX ix_nnd ON t (d) NULLS NOT DISTINCT"),
        ),
    ),
    _e(
        "CREATE INDEX CONCURRENTLY",
        "CREATE INDEX",
        SUE,
        BUILD,
        block=OUTSIDE,
        example="CREATE INDEX CONCURRENTLY ix_ec ON t (d)",
        on="t",
    ),
    _e(
        "CREATE LANGUAGE",
        "CREATE LANGUAGE",
        example="CREATE LANGUAGE ec_lang HANDLER plpgsql_call_handler",
    ),
    _e(
        "CREATE MATERIALIZED VIEW",
        "CREATE MATERIALIZED VIEW",
        AS,
        COPY,
        when="WITH NO DATA reads nothing",
        example="CREATE MATERIALIZED VIEW mv2 AS SELECT * FROM t",
        on="t",
    ),
    _e(
        "CREATE OPERATOR",
        "CREATE OPERATOR",
        example="CREATE OPERATOR ==== (leftarg = int, rightarg = int, function = int4eq)",
    ),
    _e(
        "CREATE OPERATOR CLASS",
        "CREATE OPERATOR CLASS",
        example="CREATE OPERATOR CLASS oc2 FOR TYPE int USING hash AS OPERATOR 1 =, "
        "FUNCTION 1 hashint4(int)",
    ),
    _e(
        "CREATE OPERATOR FAMILY",
        "CREATE OPERATOR FAMILY",
        example="CREATE OPERATOR FAMILY of2 USING btree",
    ),
    _e(
        "CREATE POLICY",
        "CREATE POLICY",
        AE,
        visible=CHANGES,
        when="on a table with row level security, changes the rows the running version sees",
        example="CREATE POLICY t_pol2 ON t USING (a > 0)",
        on="t",
    ),
    _e(
        "CREATE PROCEDURE",
        "CREATE PROCEDURE",
        example="CREATE PROCEDURE pr3() LANGUAGE sql AS 'SELECT 1'",
    ),
    _e(
        "CREATE PUBLICATION",
        "CREATE PUBLICATION",
        SUE,
        when="a row filter (15+) or column list (15+) sends subscribers part of the table",
        example="CREATE PUBLICATION pub2 FOR TABLE t",
        on="t",
        options=(
            ("WHERE", 15, "CREATE PUBLICATION pub3 FOR TABLE t WHERE (a > 0)"),
            ("TABLES IN SCHEMA", 15, "CREATE PUBLICATION pub4 FOR TABLES IN SCHEMA sc"),
        ),
    ),
    _e("CREATE ROLE", "CREATE ROLE", example="CREATE ROLE ec_lt_never"),
    _e("CREATE ROUTINE", "CREATE ROUTINE", since=99),  # tag only
    _e(
        "CREATE RULE",
        "CREATE RULE",
        AE,
        visible=CHANGES,
        when="DO INSTEAD NOTHING silently drops the running version's writes (and breaks "
        "INSERT ... RETURNING)",
        example="CREATE RULE t_rule3 AS ON INSERT TO t DO INSTEAD NOTHING",
        on="t",
        old="INSERT INTO t (id) VALUES (-1) RETURNING id",
    ),
    _e("CREATE SCHEMA", "CREATE SCHEMA", example="CREATE SCHEMA sc3"),
    _e("CREATE SEQUENCE", "CREATE SEQUENCE", example="CREATE SEQUENCE s3"),
    _e("CREATE SERVER", "CREATE SERVER", example="CREATE SERVER srv2 FOREIGN DATA WRAPPER fdw"),
    _e(
        "CREATE STATISTICS",
        "CREATE STATISTICS",
        SUE,
        example="CREATE STATISTICS t_st2 ON a, b FROM t",
        on="t",
    ),
    _e(
        "CREATE SUBSCRIPTION",
        "CREATE SUBSCRIPTION",
        when="outside a transaction block when it creates a replication slot (the default)",
        example="CREATE SUBSCRIPTION sub2 CONNECTION 'dbname=ec_lt_none' PUBLICATION pub "
        "WITH (connect = false, slot_name = NONE, enabled = false, create_slot = false)",
    ),
    _e(
        "CREATE TABLE",
        "CREATE TABLE",
        when="REFERENCES takes SHARE ROW EXCLUSIVE on the referenced table; PARTITION OF "
        "takes ACCESS EXCLUSIVE on the parent and scans a populated default partition",
        example="CREATE TABLE t3 (id int REFERENCES r)",
        others=(("r", SRE),),
    ),
    _e(
        "CREATE TABLE PARTITION OF",
        "CREATE TABLE",
        AE,
        SCAN,
        when="scans the default partition, under ACCESS EXCLUSIVE, to prove no row of the new "
        "range is there",
        example="CREATE TABLE q2 PARTITION OF q FOR VALUES IN (20)",
        on="qd",
        others=(("q", AE),),
    ),
    _e(
        "CREATE TABLE AS",
        "CREATE TABLE AS",
        AS,
        COPY,
        when="WITH NO DATA reads nothing",
        example="CREATE TABLE t4 AS SELECT * FROM t",
        on="t",
    ),
    _e(
        "CREATE TABLESPACE",
        "CREATE TABLESPACE",
        block=OUTSIDE,
        example="CREATE TABLESPACE ec_lt_never LOCATION '/nonexistent'",
    ),
    _e(
        "CREATE TEXT SEARCH CONFIGURATION",
        "CREATE TEXT SEARCH CONFIGURATION",
        example="CREATE TEXT SEARCH CONFIGURATION tsc2 (COPY = simple)",
    ),
    _e(
        "CREATE TEXT SEARCH DICTIONARY",
        "CREATE TEXT SEARCH DICTIONARY",
        example="CREATE TEXT SEARCH DICTIONARY tsd2 (TEMPLATE = simple)",
    ),
    _e(
        "CREATE TEXT SEARCH PARSER",
        "CREATE TEXT SEARCH PARSER",
        example="CREATE TEXT SEARCH PARSER tsp3 (START = prsd_start, GETTOKEN = prsd_nexttoken, "
        "END = prsd_end, LEXTYPES = prsd_lextype)",
    ),
    _e(
        "CREATE TEXT SEARCH TEMPLATE",
        "CREATE TEXT SEARCH TEMPLATE",
        example="CREATE TEXT SEARCH TEMPLATE tst3 (LEXIZE = dsimple_lexize, INIT = dsimple_init)",
    ),
    _e(
        "CREATE TRANSFORM",
        "CREATE TRANSFORM",
        example="CREATE TRANSFORM FOR bt LANGUAGE sql (FROM SQL WITH FUNCTION "
        "ct_from_sql(internal))",
    ),
    _e(
        "CREATE TRIGGER",
        "CREATE TRIGGER",
        SRE,
        visible=CHANGES,
        when="its function runs on every write of the running version from then on",
        example="CREATE TRIGGER t_tr3 AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trf()",
        on="t",
    ),
    _e("CREATE TYPE", "CREATE TYPE", example="CREATE TYPE en3 AS ENUM ('x')"),
    _e(
        "CREATE USER MAPPING",
        "CREATE USER MAPPING",
        example="CREATE USER MAPPING FOR {role} SERVER srv",
    ),
    _e(
        "CREATE VIEW",
        "CREATE VIEW",
        when="OR REPLACE takes ACCESS EXCLUSIVE on the view and is refused when it drops, "
        "renames or retypes a column",
        example="CREATE VIEW v3 AS SELECT * FROM t",
    ),
    _e("DEALLOCATE", "DEALLOCATE", example="DEALLOCATE ec_prep2"),
    _e(
        "DECLARE CURSOR",
        "DECLARE CURSOR",
        block=INSIDE,
        when="WITH HOLD works outside a transaction block",
        example="DECLARE ec_cur CURSOR FOR SELECT 1",
    ),
    _e(
        "DELETE",
        "DELETE",
        RE,
        ROWS,
        when="every row it matches, in one transaction",
        example="DELETE FROM t WHERE id > 1990",
        on="t",
    ),
    _e(
        "DISCARD",
        "DISCARD",
        when="DISCARD ALL refuses to run in a transaction block",
        example="DISCARD PLANS",
    ),
    _e(
        "DO",
        "DO",
        when="runs its body: any statement, all in the caller's transaction",
        example="DO $$ BEGIN PERFORM 1; END $$",
    ),
    _e(
        "DROP ACCESS METHOD",
        "DROP ACCESS METHOD",
        visible=REMOVES,
        example="DROP ACCESS METHOD am",
        old="CREATE TABLE ec_am (x int) USING am",
    ),
    _e(
        "DROP AGGREGATE",
        "DROP AGGREGATE",
        visible=REMOVES,
        example="DROP AGGREGATE agg(int)",
        old="SELECT agg(id) FROM r",
    ),
    _e(
        "DROP CAST",
        "DROP CAST",
        visible=REMOVES,
        example="DROP CAST (bt AS int)",
        old="SELECT '5'::bt::int",
    ),
    _e(
        "DROP COLLATION",
        "DROP COLLATION",
        visible=REMOVES,
        example="DROP COLLATION coll",
        old="SELECT 'a' COLLATE coll",
    ),
    _e("DROP CONSTRAINT", "DROP CONSTRAINT", since=99),  # tag only
    _e(
        "DROP CONVERSION",
        "DROP CONVERSION",
        visible=REMOVES,
        example="DROP CONVERSION conv",
        old="COMMENT ON CONVERSION conv IS NULL",
    ),
    _e(
        "DROP DATABASE",
        "DROP DATABASE",
        block=OUTSIDE,
        visible=REMOVES,
        example="DROP DATABASE ec_lt_never",
    ),
    _e(
        "DROP DOMAIN",
        "DROP DOMAIN",
        visible=REMOVES,
        example="DROP DOMAIN dm2x",
        old="SELECT 1::dm2x",
    ),
    _e(
        "DROP EVENT TRIGGER",
        "DROP EVENT TRIGGER",
        example="DROP EVENT TRIGGER evt",
    ),
    _e(
        "DROP EXTENSION",
        "DROP EXTENSION",
        visible=REMOVES,
        when="drops every function, type and operator the extension made, and with CASCADE what "
        "uses them",
        example="DROP EXTENSION plpgsql CASCADE",
        old="DO $$ BEGIN END $$",
        others=(("t", AE),),
    ),
    _e(
        "DROP FOREIGN DATA WRAPPER",
        "DROP FOREIGN DATA WRAPPER",
        visible=REMOVES,
        example="DROP FOREIGN DATA WRAPPER fdw CASCADE",
        old="SELECT 'ft'::regclass",
        others=(("ft", AE),),
    ),
    _e(
        "DROP FOREIGN TABLE",
        "DROP FOREIGN TABLE",
        AE,
        visible=REMOVES,
        example="DROP FOREIGN TABLE ft",
        on="ft",
        old="SELECT 'ft'::regclass",
    ),
    _e(
        "DROP FUNCTION",
        "DROP FUNCTION",
        visible=REMOVES,
        example="DROP FUNCTION f()",
    ),
    _e(
        "DROP INDEX",
        "DROP INDEX",
        AE,
        when="CONCURRENTLY: SHARE UPDATE EXCLUSIVE, one index, outside a transaction block",
        example="DROP INDEX t_b_idx",
        on="t",
        others=(("t_b_idx", AE),),
    ),
    _e(
        "DROP INDEX CONCURRENTLY",
        "DROP INDEX",
        SUE,
        block=OUTSIDE,
        example="DROP INDEX CONCURRENTLY t_b_idx",
        on="t",
    ),
    _e(
        "DROP LANGUAGE",
        "DROP LANGUAGE",
        visible=REMOVES,
        example="DROP LANGUAGE ec_lang2",
        old="SELECT 1 / count(*) FROM pg_language WHERE lanname = 'ec_lang2'",
    ),
    _e(
        "DROP MATERIALIZED VIEW",
        "DROP MATERIALIZED VIEW",
        AE,
        visible=REMOVES,
        example="DROP MATERIALIZED VIEW mv",
        on="mv",
        index_lock=AE,
    ),
    _e(
        "DROP OPERATOR",
        "DROP OPERATOR",
        visible=REMOVES,
        example="DROP OPERATOR === (int, int)",
        old="SELECT 1 === 1",
    ),
    _e(
        "DROP OPERATOR CLASS",
        "DROP OPERATOR CLASS",
        visible=REMOVES,
        example="DROP OPERATOR CLASS oc USING hash",
        old="COMMENT ON OPERATOR CLASS oc USING hash IS NULL",
    ),
    _e(
        "DROP OPERATOR FAMILY",
        "DROP OPERATOR FAMILY",
        visible=REMOVES,
        example="DROP OPERATOR FAMILY of1 USING btree",
        old="COMMENT ON OPERATOR FAMILY of1 USING btree IS NULL",
    ),
    _e(
        "DROP OWNED",
        "DROP OWNED",
        visible=REMOVES,
        when="drops every object the role owns and revokes its privileges",
        example="DROP OWNED BY {role}",
        old="SELECT * FROM {role}_owned",
    ),
    _e(
        "DROP POLICY",
        "DROP POLICY",
        AE,
        visible=CHANGES,
        when="with row level security on, the rows it let the running version see are gone",
        example="DROP POLICY t_pol ON t",
        on="t",
    ),
    _e(
        "DROP PROCEDURE",
        "DROP PROCEDURE",
        visible=REMOVES,
        example="DROP PROCEDURE pr()",
        old="CALL pr()",
    ),
    _e(
        "DROP PUBLICATION",
        "DROP PUBLICATION",
        visible=REMOVES,
        when="its subscribers stop receiving changes",
        example="DROP PUBLICATION pub",
        old="SELECT 1 / count(*) FROM pg_publication WHERE pubname = 'pub'",
    ),
    _e(
        "DROP ROLE",
        "DROP ROLE",
        visible=REMOVES,
        example="DROP ROLE {role}_gone",
        old="SET ROLE {role}_gone",
    ),
    _e("DROP ROUTINE", "DROP ROUTINE", visible=REMOVES, example="DROP ROUTINE f()"),
    _e(
        "DROP RULE",
        "DROP RULE",
        AE,
        visible=CHANGES,
        example="DROP RULE t_rule ON t",
        on="t",
    ),
    _e(
        "DROP SCHEMA",
        "DROP SCHEMA",
        visible=REMOVES,
        example="DROP SCHEMA sc CASCADE",
        old="SELECT * FROM sc.st",
    ),
    _e(
        "DROP SEQUENCE",
        "DROP SEQUENCE",
        AE,
        visible=REMOVES,
        example="DROP SEQUENCE s",
        on="s",
    ),
    _e(
        "DROP SERVER",
        "DROP SERVER",
        visible=REMOVES,
        example="DROP SERVER srv CASCADE",
        old="SELECT 'ft'::regclass",
        others=(("ft", AE),),
    ),
    _e(
        "DROP STATISTICS",
        "DROP STATISTICS",
        SUE,
        example="DROP STATISTICS t_st",
        on="t",
    ),
    _e(
        "DROP SUBSCRIPTION",
        "DROP SUBSCRIPTION",
        when="outside a transaction block when it has a replication slot",
        example="DROP SUBSCRIPTION sub",
    ),
    _e(
        "DROP TABLE",
        "DROP TABLE",
        AE,
        visible=REMOVES,
        when="also ACCESS EXCLUSIVE on the tables its foreign keys reference",
        example="DROP TABLE dt",
        on="dt",
        old="SELECT * FROM dt",
    ),
    _e(
        "DROP TABLESPACE",
        "DROP TABLESPACE",
        block=OUTSIDE,
        example="DROP TABLESPACE ec_lt_never",
    ),
    _e(
        "DROP TEXT SEARCH CONFIGURATION",
        "DROP TEXT SEARCH CONFIGURATION",
        visible=REMOVES,
        example="DROP TEXT SEARCH CONFIGURATION tsc",
        old="SELECT to_tsvector('tsc', 'a')",
    ),
    _e(
        "DROP TEXT SEARCH DICTIONARY",
        "DROP TEXT SEARCH DICTIONARY",
        visible=REMOVES,
        example="DROP TEXT SEARCH DICTIONARY tsd",
        old="SELECT ts_lexize('tsd', 'a')",
    ),
    _e(
        "DROP TEXT SEARCH PARSER",
        "DROP TEXT SEARCH PARSER",
        visible=REMOVES,
        example="DROP TEXT SEARCH PARSER tsp",
        old="COMMENT ON TEXT SEARCH PARSER tsp IS NULL",
    ),
    _e(
        "DROP TEXT SEARCH TEMPLATE",
        "DROP TEXT SEARCH TEMPLATE",
        visible=REMOVES,
        example="DROP TEXT SEARCH TEMPLATE tst",
        old="COMMENT ON TEXT SEARCH TEMPLATE tst IS NULL",
    ),
    _e(
        "DROP TRANSFORM",
        "DROP TRANSFORM",
        visible=REMOVES,
        example="DROP TRANSFORM FOR ct LANGUAGE sql",
        old="COMMENT ON TRANSFORM FOR ct LANGUAGE sql IS NULL",
    ),
    _e(
        "DROP TRIGGER",
        "DROP TRIGGER",
        AE,
        visible=CHANGES,
        example="DROP TRIGGER t_tr ON t",
        on="t",
    ),
    _e(
        "DROP TYPE",
        "DROP TYPE",
        visible=REMOVES,
        example="DROP TYPE en",
        old="SELECT 'a'::en",
    ),
    _e(
        "DROP USER MAPPING",
        "DROP USER MAPPING",
        visible=REMOVES,
        example="DROP USER MAPPING FOR PUBLIC SERVER srv",
        old="SELECT 1 / count(*) FROM pg_user_mappings WHERE srvname = 'srv'",
    ),
    _e("DROP VIEW", "DROP VIEW", AE, visible=REMOVES, example="DROP VIEW v", on="v"),
    _e(
        "EXECUTE",
        "EXECUTE",
        when="runs the prepared statement: see its own type",
        example="EXECUTE ec_prep",
    ),
    _e(
        "EXPLAIN",
        "EXPLAIN",
        when="EXPLAIN ANALYZE runs the statement",
        example="EXPLAIN SELECT * FROM t",
    ),
    _e(
        "FETCH",
        "FETCH",
        when="a cursor without HOLD lives in its transaction only",
        example="FETCH ALL FROM ec_none",
        refused="34000",
    ),
    _e(
        "GRANT",
        "GRANT",
        example="GRANT SELECT ON t TO {role}",
    ),
    _e("GRANT ROLE", "GRANT ROLE", example="GRANT {role}_gone TO {role}"),
    _e(
        "IMPORT FOREIGN SCHEMA",
        "IMPORT FOREIGN SCHEMA",
        example="IMPORT FOREIGN SCHEMA remote FROM SERVER srv INTO sc",
        refused="55000",
    ),  # the oracle's wrapper has no handler
    _e(
        "INSERT",
        "INSERT",
        RE,
        ROWS,
        when="INSERT ... SELECT reads every row of its source",
        example="INSERT INTO t (id) VALUES (-5)",
        on="t",
    ),
    _e("LISTEN", "LISTEN", example="LISTEN ec_channel"),
    _e("LOAD", "LOAD", example="LOAD 'plpgsql'"),
    _e(
        "LOCK TABLE",
        "LOCK TABLE",
        AE,
        block=INSIDE,
        when="the mode it names (ACCESS EXCLUSIVE when it names none)",
        example="LOCK TABLE t",
        on="t",
    ),
    _e(
        "MERGE",
        "MERGE",
        RE,
        ROWS,
        since=15,
        when="refused on a table with rules",
        example="MERGE INTO r USING t ON r.id = t.id WHEN MATCHED AND r.id = 100 THEN UPDATE SET "
        "id = 100",
        on="r",
        options=(
            (
                "RETURNING",
                17,
                "MERGE INTO r USING t ON r.id = t.id WHEN MATCHED AND r.id < 0 THEN DELETE "
                "RETURNING r.id",
            ),
        ),
    ),
    _e("MOVE", "MOVE", example="MOVE ALL FROM ec_none", refused="34000"),
    _e("NOTIFY", "NOTIFY", example="NOTIFY ec_channel"),
    _e("PREPARE", "PREPARE", example="PREPARE ec_prep3 AS SELECT 1"),
    _e(
        "PREPARE TRANSACTION",
        "PREPARE TRANSACTION",
        when="needs max_prepared_transactions > 0; ends the transaction",
        example="PREPARE TRANSACTION 'ec_none'",
        refused="55000",
    ),
    _e(
        "REASSIGN OWNED",
        "REASSIGN OWNED",
        visible=CHANGES,
        example="REASSIGN OWNED BY {role} TO postgres",
    ),
    _e(
        "REFRESH MATERIALIZED VIEW",
        "REFRESH MATERIALIZED VIEW",
        AE,
        REWRITE,
        when="CONCURRENTLY: EXCLUSIVE (reads go on), needs a unique index, refused WITH NO DATA",
        example="REFRESH MATERIALIZED VIEW mv",
        on="mv",
        index_lock=AE,
    ),
    _e(
        "REFRESH MATERIALIZED VIEW CONCURRENTLY",
        "REFRESH MATERIALIZED VIEW",
        EX,
        COPY,
        example="REFRESH MATERIALIZED VIEW CONCURRENTLY mv",
        on="mv",
    ),
    _e(
        "REINDEX",
        "REINDEX",
        SH,
        BUILD,
        when="REINDEX INDEX: ACCESS EXCLUSIVE on the index; each index gets a new relfilenode; "
        "CONCURRENTLY: SHARE UPDATE EXCLUSIVE, outside a transaction block; SYSTEM and DATABASE "
        "outside one too",
        example="REINDEX TABLE t",
        on="t",
        index_lock=AE,
        options=(("TABLESPACE", 14, "REINDEX (TABLESPACE pg_default) TABLE t"),),
    ),
    _e(
        "REINDEX CONCURRENTLY",
        "REINDEX",
        SUE,
        REWRITE,
        block=OUTSIDE,
        example="REINDEX TABLE CONCURRENTLY t",
        on="t",
    ),
    _e("RELEASE", "RELEASE", block=INSIDE, example="RELEASE SAVEPOINT ec_none"),
    _e("RESET", "RESET", example="RESET work_mem"),
    _e(
        "REVOKE",
        "REVOKE",
        visible=REMOVES,
        when="the running version's role loses a privilege it uses",
        example="REVOKE SELECT ON t FROM {role}",
        old="SET ROLE {role}; SELECT id FROM t",
    ),
    _e(
        "REVOKE ROLE",
        "REVOKE ROLE",
        visible=REMOVES,
        example="REVOKE {role}_member FROM {role}",
        old="SET ROLE {role}; SELECT * FROM {role}_mt",
    ),
    _e("ROLLBACK", "ROLLBACK", example="ROLLBACK"),
    _e(
        "ROLLBACK PREPARED",
        "ROLLBACK PREPARED",
        block=OUTSIDE,
        example="ROLLBACK PREPARED 'ec_none'",
    ),
    _e("SAVEPOINT", "SAVEPOINT", block=INSIDE, example="SAVEPOINT ec_sp"),
    _e(
        "SECURITY LABEL",
        "SECURITY LABEL",
        example="SECURITY LABEL ON TABLE t IS 'x'",
        refused="22023",
    ),  # no label provider loaded
    _e(
        "SELECT",
        "SELECT",
        AS,
        SCAN,
        when="reads what it asks for; a function it calls may do anything",
        example="SELECT count(*) FROM t",
        on="t",
    ),
    _e(
        "SELECT FOR UPDATE",
        "SELECT",
        RS,
        SCAN,
        when="locks every row it returns until commit",
        example="SELECT id FROM t FOR UPDATE",
        on="t",
    ),
    _e(
        "SELECT INTO",
        "SELECT INTO",
        AS,
        COPY,
        example="SELECT * INTO t5 FROM t",
        on="t",
    ),
    _e("SET", "SET", example="SET work_mem = '8MB'"),
    _e("SET CONSTRAINTS", "SET CONSTRAINTS", example="SET CONSTRAINTS ALL DEFERRED"),
    _e("SHOW", "SHOW", example="SHOW work_mem"),
    _e("START TRANSACTION", "START TRANSACTION", example="START TRANSACTION"),
    _e(
        "TRUNCATE",
        "TRUNCATE TABLE",
        AE,
        EMPTIES,
        visible=REMOVES,
        example="TRUNCATE dt",
        on="dt",
        old="SELECT 1 / count(*) FROM dt",
    ),
    _e("UNLISTEN", "UNLISTEN", example="UNLISTEN *"),
    _e(
        "UPDATE",
        "UPDATE",
        RE,
        ROWS,
        when="every row it matches, in one transaction",
        example="UPDATE t SET d = 'y' WHERE id < 10",
        on="t",
    ),
    _e(
        "VACUUM",
        "VACUUM",
        SUE,
        SCAN,
        block=OUTSIDE,
        when="FULL: ACCESS EXCLUSIVE and a rewrite",
        example="VACUUM t",
        on="t",
        options=(
            ("PARALLEL", 13, "VACUUM (PARALLEL 1) t"),
            ("PROCESS_TOAST", 14, "VACUUM (PROCESS_TOAST false) t"),
            ("BUFFER_USAGE_LIMIT", 16, "VACUUM (BUFFER_USAGE_LIMIT '256kB') t"),
            ("PROCESS_MAIN", 16, "VACUUM (PROCESS_MAIN false) t"),
            ("SKIP_DATABASE_STATS", 16, "VACUUM (SKIP_DATABASE_STATS) t"),
            ("ONLY_DATABASE_STATS", 16, "VACUUM (ONLY_DATABASE_STATS)"),
            ("ONLY", 18, "VACUUM ONLY p"),
        ),
    ),
    _e(
        "VACUUM FULL",
        "VACUUM",
        AE,
        REWRITE,
        block=OUTSIDE,
        example="VACUUM FULL t",
        on="t",
    ),
)

# --- subcommands of ALTER TABLE / INDEX / TYPE / DOMAIN / SEQUENCE --------------------------------
_AT = "ALTER TABLE"
ACTIONS: tuple[Entry, ...] = (
    # ALTER TABLE (AlterTableGetLockLevel and the rename / schema statements)
    _e(
        "ALTER TABLE ADD COLUMN",
        _AT,
        AE,
        when="rewrites with a volatile default, an identity, a STORED generated column or a "
        "domain with constraints; before 11 with any default; scans for NOT NULL without "
        "default; builds an index for UNIQUE / PRIMARY KEY; validates REFERENCES",
        example="ALTER TABLE t ADD COLUMN z int DEFAULT 0",
        on="t",
    ),
    _e(
        "ALTER TABLE ADD COLUMN volatile default",
        _AT,
        AE,
        REWRITE,
        variant=True,
        example="ALTER TABLE t ADD COLUMN z float8 DEFAULT random()",
        on="t",
        index_lock=AE,
    ),
    _e(
        "ALTER TABLE ADD COLUMN VIRTUAL",
        _AT,
        AE,
        since=18,
        example="ALTER TABLE t ADD COLUMN z int GENERATED ALWAYS AS (a * 2) VIRTUAL",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET DEFAULT",
        _AT,
        AE,
        example="ALTER TABLE t ALTER COLUMN a SET DEFAULT 1",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN DROP DEFAULT",
        _AT,
        AE,
        visible=CHANGES,
        when="the running version's inserts that leave the column out get NULL (or fail on "
        "NOT NULL)",
        example="ALTER TABLE t ALTER COLUMN d DROP DEFAULT",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN DROP NOT NULL",
        _AT,
        AE,
        example="ALTER TABLE nk ALTER COLUMN id DROP NOT NULL",
        on="nk",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET NOT NULL",
        _AT,
        AE,
        SCAN,
        visible=CHANGES,
        when="skips the scan behind a valid CHECK (c IS NOT NULL) (12+)",
        example="ALTER TABLE t ALTER COLUMN a SET NOT NULL",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET EXPRESSION",
        _AT,
        AE,
        REWRITE,
        since=17,
        example="ALTER TABLE gt ALTER COLUMN g SET EXPRESSION AS (a * 3)",
        on="gt",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN DROP EXPRESSION",
        _AT,
        AE,
        example="ALTER TABLE gt ALTER COLUMN g DROP EXPRESSION",
        on="gt",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET STATISTICS",
        _AT,
        SUE,
        example="ALTER TABLE t ALTER COLUMN a SET STATISTICS 500",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET",
        _AT,
        SUE,
        example="ALTER TABLE t ALTER COLUMN a SET (n_distinct = 100)",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN RESET",
        _AT,
        SUE,
        example="ALTER TABLE t ALTER COLUMN a RESET (n_distinct)",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET STORAGE",
        _AT,
        AE,
        example="ALTER TABLE t ALTER COLUMN b SET STORAGE EXTERNAL",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET COMPRESSION",
        _AT,
        AE,
        since=14,
        example="ALTER TABLE t ALTER COLUMN b SET COMPRESSION pglz",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN ADD GENERATED",
        _AT,
        AE,
        example="ALTER TABLE t ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET GENERATED",
        _AT,
        AE,
        when="ALWAYS refuses the running version's inserts that give the column a value",
        example="ALTER TABLE it ALTER COLUMN id SET GENERATED ALWAYS",
        on="it",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN RESTART",
        _AT,
        AE,
        visible=CHANGES,
        when="new rows reuse values already taken",
        example="ALTER TABLE it ALTER COLUMN id RESTART WITH 1",
        on="it",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN SET INCREMENT",
        _AT,
        AE,
        example="ALTER TABLE it ALTER COLUMN id SET INCREMENT BY 2",
        on="it",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN DROP IDENTITY",
        _AT,
        AE,
        visible=REMOVES,
        example="ALTER TABLE it ALTER COLUMN id DROP IDENTITY",
        on="it",
        old="INSERT INTO it (v) VALUES (1)",
    ),
    _e(
        "ALTER TABLE DROP COLUMN",
        _AT,
        AE,
        visible=REMOVES,
        example="ALTER TABLE t DROP COLUMN d",
        on="t",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN TYPE",
        _AT,
        AE,
        REWRITE,
        visible=CHANGES,
        when="no rewrite for a binary-coercible change (varchar(n) to varchar(m > n) or text, "
        "...); indexes on the column are rebuilt; refused while a view uses the column",
        example="ALTER TABLE it ALTER COLUMN v TYPE bigint",
        on="it",
    ),
    _e(
        "ALTER TABLE ALTER COLUMN OPTIONS",
        "ALTER FOREIGN TABLE",
        AE,
        example="ALTER FOREIGN TABLE ft ALTER COLUMN x OPTIONS (ADD o '1')",
        on="ft",
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT CHECK",
        _AT,
        AE,
        SCAN,
        when="NOT VALID skips the scan",
        example="ALTER TABLE t ADD CONSTRAINT t_a_pos CHECK (a > 0)",
        on="t",
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT FOREIGN KEY",
        _AT,
        SRE,
        SCAN,
        when="NOT VALID skips the scan; SHARE ROW EXCLUSIVE on the referenced table too; "
        "NOT VALID is refused on a partitioned table before 18",
        example="ALTER TABLE t ADD CONSTRAINT t_c_fk2 FOREIGN KEY (c) REFERENCES r",
        on="t",
        others=(("r", SRE),),
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT UNIQUE",
        _AT,
        AE,
        BUILD,
        visible=CHANGES,
        when="the running version's writes of duplicates fail",
        example="ALTER TABLE t ADD CONSTRAINT t_a_key UNIQUE (a)",
        on="t",
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT PRIMARY KEY",
        _AT,
        AE,
        BUILD,
        example="ALTER TABLE nk ADD CONSTRAINT nk_pkey PRIMARY KEY (id)",
        on="nk",
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT EXCLUDE",
        _AT,
        AE,
        BUILD,
        visible=CHANGES,
        when="the running version's conflicting writes fail",
        example="ALTER TABLE t ADD CONSTRAINT t_a_excl EXCLUDE (a WITH =)",
        on="t",
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT NOT NULL",
        _AT,
        AE,
        SCAN,
        since=18,
        when="NOT VALID skips the scan",
        example="ALTER TABLE t ADD CONSTRAINT t_a_nn NOT NULL a",
        on="t",
    ),
    _e(
        "ALTER TABLE ADD CONSTRAINT USING INDEX",
        _AT,
        AE,
        when="PRIMARY KEY scans for NULLs unless the columns are NOT NULL; refused for an "
        "expression or partial index",
        example="ALTER TABLE t ADD CONSTRAINT t_b_key UNIQUE USING INDEX t_b_uniq",
        on="t",
        others=(("t_b_uniq", SUE),),
    ),
    _e(
        "ALTER TABLE ALTER CONSTRAINT",
        _AT,
        AE,
        when="refused on anything but a foreign key before 18",
        example="ALTER TABLE t ALTER CONSTRAINT t_c_fk DEFERRABLE",
        on="t",
    ),
    _e(
        "ALTER TABLE VALIDATE CONSTRAINT",
        _AT,
        SUE,
        SCAN,
        example="ALTER TABLE t VALIDATE CONSTRAINT t_a_check",
        on="t",
    ),
    _e(
        "ALTER TABLE DROP CONSTRAINT",
        _AT,
        AE,
        visible=CHANGES,
        when="a dropped unique constraint breaks the running version's INSERT ... ON CONFLICT",
        example="ALTER TABLE t DROP CONSTRAINT t_e_key",
        on="t",
        others=(("t_e_key", AE),),
        old="INSERT INTO t (id, e) VALUES (1, 1) ON CONFLICT (e) DO NOTHING",
    ),
    _e(
        "ALTER TABLE SET WITHOUT OIDS",
        _AT,
        AE,
        example="ALTER TABLE t SET WITHOUT OIDS",
        on="t",
    ),
    _e(
        "ALTER TABLE SET ACCESS METHOD",
        _AT,
        AE,
        REWRITE,
        since=15,
        example="ALTER TABLE t SET ACCESS METHOD am",
        on="t",
        index_lock=AE,
    ),
    _e(
        "ALTER TABLE CLUSTER ON",
        _AT,
        SUE,
        example="ALTER TABLE t CLUSTER ON t_pkey",
        on="t",
        others=(("t_pkey", SUE),),
    ),
    _e(
        "ALTER TABLE SET WITHOUT CLUSTER",
        _AT,
        SUE,
        example="ALTER TABLE t SET WITHOUT CLUSTER",
        on="t",
    ),
    _e("ALTER TABLE SET LOGGED", _AT, AE, REWRITE, example="ALTER TABLE ut SET LOGGED", on="ut"),
    _e(
        "ALTER TABLE SET UNLOGGED",
        _AT,
        AE,
        REWRITE,
        example="ALTER TABLE t SET UNLOGGED",
        on="t",
        index_lock=AE,
    ),
    _e(
        "ALTER TABLE ENABLE TRIGGER",
        _AT,
        SRE,
        visible=CHANGES,
        example="ALTER TABLE t ENABLE TRIGGER t_tr",
        on="t",
    ),
    _e(
        "ALTER TABLE ENABLE ALWAYS TRIGGER",
        _AT,
        SRE,
        example="ALTER TABLE t ENABLE ALWAYS TRIGGER t_tr",
        on="t",
    ),
    _e(
        "ALTER TABLE ENABLE REPLICA TRIGGER",
        _AT,
        SRE,
        example="ALTER TABLE t ENABLE REPLICA TRIGGER t_tr",
        on="t",
    ),
    _e(
        "ALTER TABLE DISABLE TRIGGER",
        _AT,
        SRE,
        visible=CHANGES,
        when="ALL includes the foreign keys' triggers: writes go unchecked",
        example="ALTER TABLE t DISABLE TRIGGER t_tr",
        on="t",
    ),
    _e("ALTER TABLE ENABLE RULE", _AT, AE, example="ALTER TABLE t ENABLE RULE t_rule", on="t"),
    _e(
        "ALTER TABLE ENABLE ALWAYS RULE",
        _AT,
        AE,
        example="ALTER TABLE t ENABLE ALWAYS RULE t_rule",
        on="t",
    ),
    _e(
        "ALTER TABLE ENABLE REPLICA RULE",
        _AT,
        AE,
        example="ALTER TABLE t ENABLE REPLICA RULE t_rule",
        on="t",
    ),
    _e("ALTER TABLE DISABLE RULE", _AT, AE, example="ALTER TABLE t DISABLE RULE t_rule", on="t"),
    _e(
        "ALTER TABLE INHERIT",
        _AT,
        AE,
        when="SHARE UPDATE EXCLUSIVE on the parent",
        example="ALTER TABLE ih INHERIT ip",
        on="ih",
        others=(("ip", SUE),),
    ),
    _e(
        "ALTER TABLE NO INHERIT",
        _AT,
        AE,
        example="ALTER TABLE ic NO INHERIT ip",
        on="ic",
        others=(("ip", AS),),
    ),
    _e("ALTER TABLE OF", _AT, AE, example="ALTER TABLE ot OF ct", on="ot"),
    _e("ALTER TABLE NOT OF", _AT, AE, example="ALTER TABLE tt NOT OF", on="tt"),
    _e(
        "ALTER TABLE OWNER TO",
        _AT,
        AE,
        example="ALTER TABLE t OWNER TO {role}",
        on="t",
        index_lock=AE,
    ),
    _e(
        "ALTER TABLE SET TABLESPACE",
        _AT,
        AE,
        REWRITE,
        when="ALL IN TABLESPACE moves every table",
        example="ALTER TABLE t SET TABLESPACE pg_global",
        on="t",
        refused="22023",
    ),  # the oracle has no tablespace of its own to move to
    _e(
        "ALTER TABLE SET",
        _AT,
        SUE,
        when="storage parameters other than fillfactor, autovacuum and toast ones take "
        "ACCESS EXCLUSIVE",
        example="ALTER TABLE t SET (fillfactor = 90)",
        on="t",
    ),
    _e("ALTER TABLE RESET", _AT, SUE, example="ALTER TABLE t RESET (fillfactor)", on="t"),
    _e(
        "ALTER TABLE REPLICA IDENTITY",
        _AT,
        AE,
        example="ALTER TABLE t REPLICA IDENTITY FULL",
        on="t",
    ),
    _e(
        "ALTER TABLE ENABLE ROW LEVEL SECURITY",
        _AT,
        AE,
        visible=CHANGES,
        when="a role that is not the owner sees only the rows its policies allow",
        example="ALTER TABLE t ENABLE ROW LEVEL SECURITY",
        on="t",
    ),
    _e(
        "ALTER TABLE DISABLE ROW LEVEL SECURITY",
        _AT,
        AE,
        example="ALTER TABLE t DISABLE ROW LEVEL SECURITY",
        on="t",
    ),
    _e(
        "ALTER TABLE FORCE ROW LEVEL SECURITY",
        _AT,
        AE,
        visible=CHANGES,
        example="ALTER TABLE t FORCE ROW LEVEL SECURITY",
        on="t",
    ),
    _e(
        "ALTER TABLE NO FORCE ROW LEVEL SECURITY",
        _AT,
        AE,
        example="ALTER TABLE t NO FORCE ROW LEVEL SECURITY",
        on="t",
    ),
    _e(
        "ALTER TABLE OPTIONS",
        "ALTER FOREIGN TABLE",
        AE,
        example="ALTER FOREIGN TABLE ft OPTIONS (ADD o '1')",
        on="ft",
    ),
    _e(
        "ALTER TABLE ATTACH PARTITION",
        _AT,
        SUE,
        when="ACCESS EXCLUSIVE and a scan of the partition unless a valid CHECK implies the "
        "bound; a scan of a populated default partition",
        example="ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (1000) TO (2000)",
        on="p",
        others=(("p2", AE), ("p_k", SUE)),
    ),
    _e(
        "ALTER TABLE DETACH PARTITION",
        _AT,
        AE,
        example="ALTER TABLE p DETACH PARTITION p1",
        on="p",
        others=(("p1", AE),),
    ),
    _e(
        "ALTER TABLE DETACH PARTITION CONCURRENTLY",
        _AT,
        SUE,
        block=OUTSIDE,
        since=14,
        example="ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY",
        on="p",
    ),
    _e(
        "ALTER TABLE DETACH PARTITION FINALIZE",
        _AT,
        SUE,
        since=14,
        example="ALTER TABLE p DETACH PARTITION p1 FINALIZE",
        on="p",
        refused="55000",
    ),  # nothing pending to finalize
    _e(
        "ALTER TABLE RENAME TO",
        _AT,
        AE,
        visible=RENAMES,
        example="ALTER TABLE dt RENAME TO dt2",
        on="dt",
        old="SELECT * FROM dt",
    ),
    _e(
        "ALTER TABLE RENAME COLUMN",
        _AT,
        AE,
        visible=RENAMES,
        example="ALTER TABLE t RENAME COLUMN d TO d2",
        on="t",
    ),
    _e(
        "ALTER TABLE RENAME CONSTRAINT",
        _AT,
        AE,
        example="ALTER TABLE t RENAME CONSTRAINT t_a_check TO t_a_check2",
        on="t",
    ),
    _e(
        "ALTER TABLE SET SCHEMA",
        _AT,
        AE,
        visible=RENAMES,
        example="ALTER TABLE dt SET SCHEMA sc",
        on="dt",
        old="SELECT * FROM dt",
    ),
    _e(
        "ALTER TABLE ALL IN TABLESPACE",
        _AT,
        example="ALTER TABLE ALL IN TABLESPACE pg_global SET TABLESPACE pg_default",
        refused="22023",
    ),
    # ALTER INDEX
    _e(
        "ALTER INDEX RENAME TO",
        "ALTER INDEX",
        SUE,
        example="ALTER INDEX t_b_idx RENAME TO t_b_idx2",
        on="t_b_idx",
    ),
    _e(
        "ALTER INDEX SET TABLESPACE",
        "ALTER INDEX",
        AE,
        REWRITE,
        example="ALTER INDEX t_b_idx SET TABLESPACE pg_global",
        on="t_b_idx",
        refused="22023",
    ),
    _e(
        "ALTER INDEX ATTACH PARTITION",
        "ALTER INDEX",
        SUE,
        example="ALTER INDEX p_k ATTACH PARTITION p1_k_idx",
        on="p_k",
        others=(("p1_k_idx", AE),),
    ),
    _e(
        "ALTER INDEX DEPENDS ON EXTENSION",
        "ALTER INDEX",
        AE,
        example="ALTER INDEX t_b_idx DEPENDS ON EXTENSION plpgsql",
        on="t_b_idx",
    ),
    _e(
        "ALTER INDEX NO DEPENDS ON EXTENSION",
        "ALTER INDEX",
        AE,
        since=13,
        example="ALTER INDEX t_b_idx NO DEPENDS ON EXTENSION plpgsql",
        on="t_b_idx",
    ),
    _e(
        "ALTER INDEX ALTER COLUMN SET STATISTICS",
        "ALTER INDEX",
        SUE,
        example="ALTER INDEX t_expr_idx ALTER COLUMN 1 SET STATISTICS 100",
        on="t_expr_idx",
    ),
    _e(
        "ALTER INDEX SET",
        "ALTER INDEX",
        SUE,
        when="parameters other than fillfactor take ACCESS EXCLUSIVE",
        example="ALTER INDEX t_b_idx SET (fillfactor = 80)",
        on="t_b_idx",
    ),
    _e(
        "ALTER INDEX RESET",
        "ALTER INDEX",
        SUE,
        example="ALTER INDEX t_b_idx RESET (fillfactor)",
        on="t_b_idx",
    ),
    _e(
        "ALTER INDEX SET SCHEMA",
        "ALTER INDEX",
        since=99,  # indexes follow their table: PostgreSQL has no such statement
    ),
    _e(
        "ALTER INDEX ALL IN TABLESPACE",
        "ALTER INDEX",
        example="ALTER INDEX ALL IN TABLESPACE pg_global SET TABLESPACE pg_default",
        refused="22023",
    ),
    # ALTER SEQUENCE
    _e(
        "ALTER SEQUENCE",
        "ALTER SEQUENCE",
        SRE,
        REWRITE,
        when="options other than RESTART; the sequence's one row is written anew",
        example="ALTER SEQUENCE s INCREMENT BY 2",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE RESTART",
        "ALTER SEQUENCE",
        SRE,
        REWRITE,
        visible=CHANGES,
        when="new rows reuse values already taken: the running version's inserts fail on the "
        "unique key",
        example="ALTER SEQUENCE s RESTART WITH 1",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE OWNED BY",
        "ALTER SEQUENCE",
        SRE,
        example="ALTER SEQUENCE s OWNED BY NONE",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE AS",
        "ALTER SEQUENCE",
        SRE,
        REWRITE,
        visible=CHANGES,
        example="ALTER SEQUENCE s AS smallint",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE SET LOGGED",
        "ALTER SEQUENCE",
        AE,
        REWRITE,
        since=15,
        example="ALTER SEQUENCE us SET LOGGED",
        on="us",
    ),
    _e(
        "ALTER SEQUENCE SET UNLOGGED",
        "ALTER SEQUENCE",
        AE,
        REWRITE,
        since=15,
        example="ALTER SEQUENCE s SET UNLOGGED",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE OWNER TO",
        "ALTER SEQUENCE",
        AE,
        example="ALTER SEQUENCE s OWNER TO {role}",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE RENAME TO",
        "ALTER SEQUENCE",
        AE,
        visible=RENAMES,
        example="ALTER SEQUENCE s RENAME TO s2",
        on="s",
    ),
    _e(
        "ALTER SEQUENCE SET SCHEMA",
        "ALTER SEQUENCE",
        AE,
        visible=RENAMES,
        example="ALTER SEQUENCE s SET SCHEMA sc",
        on="s",
    ),
    # ALTER TYPE
    _e(
        "ALTER TYPE ADD VALUE",
        "ALTER TYPE",
        when="the new value cannot be used before the transaction that added it commits",
        example="ALTER TYPE en ADD VALUE 'c'",
    ),
    _e(
        "ALTER TYPE RENAME VALUE",
        "ALTER TYPE",
        visible=RENAMES,
        example="ALTER TYPE en RENAME VALUE 'a' TO 'z'",
    ),
    _e(
        "ALTER TYPE RENAME TO",
        "ALTER TYPE",
        visible=RENAMES,
        example="ALTER TYPE en RENAME TO en2",
    ),
    _e(
        "ALTER TYPE SET SCHEMA",
        "ALTER TYPE",
        visible=RENAMES,
        example="ALTER TYPE en SET SCHEMA sc",
    ),
    _e("ALTER TYPE OWNER TO", "ALTER TYPE", example="ALTER TYPE en OWNER TO {role}"),
    _e(
        "ALTER TYPE ADD ATTRIBUTE",
        "ALTER TYPE",
        AE,
        example="ALTER TYPE ct2 ADD ATTRIBUTE z int",
        on="ct2",
    ),
    _e(
        "ALTER TYPE DROP ATTRIBUTE",
        "ALTER TYPE",
        AE,
        visible=REMOVES,
        example="ALTER TYPE ct2 DROP ATTRIBUTE y",
        on="ct2",
        old="SELECT (ROW(1, 'a')::ct2).y",
    ),
    _e(
        "ALTER TYPE ALTER ATTRIBUTE",
        "ALTER TYPE",
        AE,
        visible=CHANGES,
        when="refused while a table column uses the type",
        example="ALTER TYPE ct2 ALTER ATTRIBUTE x TYPE bigint",
        on="ct2",
    ),
    _e(
        "ALTER TYPE RENAME ATTRIBUTE",
        "ALTER TYPE",
        AE,
        visible=RENAMES,
        example="ALTER TYPE ct2 RENAME ATTRIBUTE y TO y2",
        on="ct2",
        old="SELECT (ROW(1, 'a')::ct2).y",
    ),
    _e(
        "ALTER TYPE SET",
        "ALTER TYPE",
        since=13,
        example="ALTER TYPE bt SET (STORAGE = plain)",
    ),
    # ALTER DOMAIN
    _e("ALTER DOMAIN SET DEFAULT", "ALTER DOMAIN", example="ALTER DOMAIN dm SET DEFAULT 1"),
    _e(
        "ALTER DOMAIN DROP DEFAULT",
        "ALTER DOMAIN",
        visible=CHANGES,
        example="ALTER DOMAIN dm DROP DEFAULT",
    ),
    _e(
        "ALTER DOMAIN SET NOT NULL",
        "ALTER DOMAIN",
        SH,
        SCAN,
        when="scans every column of the domain, under SHARE on each table",
        example="ALTER DOMAIN dm SET NOT NULL",
        on="dt",
    ),
    _e("ALTER DOMAIN DROP NOT NULL", "ALTER DOMAIN", example="ALTER DOMAIN dm DROP NOT NULL"),
    _e(
        "ALTER DOMAIN ADD CONSTRAINT",
        "ALTER DOMAIN",
        SH,
        SCAN,
        when="NOT VALID skips the scan",
        example="ALTER DOMAIN dm ADD CONSTRAINT dm_pos CHECK (VALUE > 0)",
        on="dt",
    ),
    _e(
        "ALTER DOMAIN DROP CONSTRAINT",
        "ALTER DOMAIN",
        example="ALTER DOMAIN dm DROP CONSTRAINT dm_check",
    ),
    _e(
        "ALTER DOMAIN RENAME CONSTRAINT",
        "ALTER DOMAIN",
        example="ALTER DOMAIN dm RENAME CONSTRAINT dm_check TO dm_check2",
    ),
    _e(
        "ALTER DOMAIN VALIDATE CONSTRAINT",
        "ALTER DOMAIN",
        SH,
        SCAN,
        example="ALTER DOMAIN dm VALIDATE CONSTRAINT dm_nv",
        on="dt",
    ),
    _e("ALTER DOMAIN OWNER TO", "ALTER DOMAIN", example="ALTER DOMAIN dm OWNER TO {role}"),
    _e(
        "ALTER DOMAIN RENAME TO",
        "ALTER DOMAIN",
        visible=RENAMES,
        example="ALTER DOMAIN dm RENAME TO dm3",
        old="SELECT 1::dm",
    ),
    _e(
        "ALTER DOMAIN SET SCHEMA",
        "ALTER DOMAIN",
        visible=RENAMES,
        example="ALTER DOMAIN dm SET SCHEMA sc",
        old="SELECT 1::dm",
    ),
)

ENTRIES: tuple[Entry, ...] = STATEMENTS + ACTIONS
BY_KEY: dict[str, Entry] = {e.key: e for e in ENTRIES}

# The command tags of PostgreSQL 18 (src/include/tcop/cmdtaglist.h, less "???"): every
# statement type its grammar has, as the server names them. The coverage of this table is
# the share of these that some entry answers with (``TAG_VARIANTS``: tags that are a
# variant of an entry's statement, told apart by the server after it has run).
_TAGS = """
    ALTER ACCESS METHOD|ALTER AGGREGATE|ALTER CAST|ALTER COLLATION|ALTER CONSTRAINT|
    ALTER CONVERSION|ALTER DATABASE|ALTER DEFAULT PRIVILEGES|ALTER DOMAIN|ALTER EVENT TRIGGER|
    ALTER EXTENSION|ALTER FOREIGN DATA WRAPPER|ALTER FOREIGN TABLE|ALTER FUNCTION|ALTER INDEX|
    ALTER LANGUAGE|ALTER LARGE OBJECT|ALTER MATERIALIZED VIEW|ALTER OPERATOR|
    ALTER OPERATOR CLASS|ALTER OPERATOR FAMILY|ALTER POLICY|ALTER PROCEDURE|ALTER PUBLICATION|
    ALTER ROLE|ALTER ROUTINE|ALTER RULE|ALTER SCHEMA|ALTER SEQUENCE|ALTER SERVER|
    ALTER STATISTICS|ALTER SUBSCRIPTION|ALTER SYSTEM|ALTER TABLE|ALTER TABLESPACE|
    ALTER TEXT SEARCH CONFIGURATION|ALTER TEXT SEARCH DICTIONARY|ALTER TEXT SEARCH PARSER|
    ALTER TEXT SEARCH TEMPLATE|ALTER TRANSFORM|ALTER TRIGGER|ALTER TYPE|ALTER USER MAPPING|
    ALTER VIEW|ANALYZE|BEGIN|CALL|CHECKPOINT|CLOSE|CLOSE CURSOR|CLOSE CURSOR ALL|CLUSTER|
    COMMENT|COMMIT|COMMIT PREPARED|COPY|COPY FROM|CREATE ACCESS METHOD|CREATE AGGREGATE|
    CREATE CAST|CREATE COLLATION|CREATE CONSTRAINT|CREATE CONVERSION|CREATE DATABASE|
    CREATE DOMAIN|CREATE EVENT TRIGGER|CREATE EXTENSION|CREATE FOREIGN DATA WRAPPER|
    CREATE FOREIGN TABLE|CREATE FUNCTION|CREATE INDEX|CREATE LANGUAGE|
    CREATE MATERIALIZED VIEW|CREATE OPERATOR|CREATE OPERATOR CLASS|CREATE OPERATOR FAMILY|
    CREATE POLICY|CREATE PROCEDURE|CREATE PUBLICATION|CREATE ROLE|CREATE ROUTINE|CREATE RULE|
    CREATE SCHEMA|CREATE SEQUENCE|CREATE SERVER|CREATE STATISTICS|CREATE SUBSCRIPTION|
    CREATE TABLE|CREATE TABLE AS|CREATE TABLESPACE|CREATE TEXT SEARCH CONFIGURATION|
    CREATE TEXT SEARCH DICTIONARY|CREATE TEXT SEARCH PARSER|CREATE TEXT SEARCH TEMPLATE|
    CREATE TRANSFORM|CREATE TRIGGER|CREATE TYPE|CREATE USER MAPPING|CREATE VIEW|DEALLOCATE|
    DEALLOCATE ALL|DECLARE CURSOR|DELETE|DISCARD|DISCARD ALL|DISCARD PLANS|DISCARD SEQUENCES|
    DISCARD TEMP|DO|DROP ACCESS METHOD|DROP AGGREGATE|DROP CAST|DROP COLLATION|
    DROP CONSTRAINT|DROP CONVERSION|DROP DATABASE|DROP DOMAIN|DROP EVENT TRIGGER|
    DROP EXTENSION|DROP FOREIGN DATA WRAPPER|DROP FOREIGN TABLE|DROP FUNCTION|DROP INDEX|
    DROP LANGUAGE|DROP MATERIALIZED VIEW|DROP OPERATOR|DROP OPERATOR CLASS|
    DROP OPERATOR FAMILY|DROP OWNED|DROP POLICY|DROP PROCEDURE|DROP PUBLICATION|DROP ROLE|
    DROP ROUTINE|DROP RULE|DROP SCHEMA|DROP SEQUENCE|DROP SERVER|DROP STATISTICS|
    DROP SUBSCRIPTION|DROP TABLE|DROP TABLESPACE|DROP TEXT SEARCH CONFIGURATION|
    DROP TEXT SEARCH DICTIONARY|DROP TEXT SEARCH PARSER|DROP TEXT SEARCH TEMPLATE|
    DROP TRANSFORM|DROP TRIGGER|DROP TYPE|DROP USER MAPPING|DROP VIEW|EXECUTE|EXPLAIN|FETCH|
    GRANT|GRANT ROLE|IMPORT FOREIGN SCHEMA|INSERT|LISTEN|LOAD|LOCK TABLE|MERGE|MOVE|NOTIFY|
    PREPARE|PREPARE TRANSACTION|REASSIGN OWNED|REFRESH MATERIALIZED VIEW|REINDEX|RELEASE|
    RESET|REVOKE|REVOKE ROLE|ROLLBACK|ROLLBACK PREPARED|SAVEPOINT|SECURITY LABEL|SELECT|
    SELECT FOR KEY SHARE|SELECT FOR NO KEY UPDATE|SELECT FOR SHARE|SELECT FOR UPDATE|
    SELECT INTO|SET|SET CONSTRAINTS|SHOW|START TRANSACTION|TRUNCATE TABLE|UNLISTEN|UPDATE|
    VACUUM
"""
COMMAND_TAGS_PG18 = frozenset(" ".join(tag.split()) for tag in _TAGS.split("|"))
# variant tags -> the entry whose statement the server reports them for
TAG_VARIANTS = {
    "CLOSE": "CLOSE",
    "CLOSE CURSOR": "CLOSE",
    "COPY FROM": "COPY",
    "DEALLOCATE ALL": "DEALLOCATE",
    "DISCARD": "DISCARD",
    "DISCARD ALL": "DISCARD",
    "DISCARD PLANS": "DISCARD",
    "DISCARD SEQUENCES": "DISCARD",
    "DISCARD TEMP": "DISCARD",
    "SELECT FOR KEY SHARE": "SELECT FOR UPDATE",
    "SELECT FOR NO KEY UPDATE": "SELECT FOR UPDATE",
    "SELECT FOR SHARE": "SELECT FOR UPDATE",
    "SELECT FOR UPDATE": "SELECT FOR UPDATE",
    "SELECT": "SELECT INTO",  # SELECT ... INTO answers "SELECT <rows>"
}


# --- reading a statement's row -----------------------------------------------------------------

# words between CREATE and the object kind that do not change the statement type
_CREATE_MODIFIERS = frozenset(
    {
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "UNLOGGED",
        "GLOBAL",
        "LOCAL",
        "UNIQUE",
        "TRUSTED",
        "PROCEDURAL",
        "RECURSIVE",
        "DEFAULT",
        "CONSTRAINT",
    }
)
_ALIASES = {
    "ABORT": "ROLLBACK",
    "END": "COMMIT",
    "ANALYSE": "ANALYZE",
    "TABLE": "SELECT",
    "VALUES": "SELECT",
    "(": "SELECT",
    "LOCK": "LOCK TABLE",
    "DECLARE": "DECLARE CURSOR",
    "TRUNCATE": "TRUNCATE",
    "CREATE USER": "CREATE ROLE",
    "CREATE GROUP": "CREATE ROLE",
    "ALTER USER": "ALTER ROLE",
    "ALTER GROUP": "ALTER ROLE",
    "DROP USER": "DROP ROLE",
    "DROP GROUP": "DROP ROLE",
    "CREATE FOREIGN DATA": "CREATE FOREIGN DATA WRAPPER",
}
_STATEMENT_KEYS = {e.key: e for e in STATEMENTS}
_LONGEST = max(len(k.split()) for k in _STATEMENT_KEYS)
_MAIN_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "MERGE")


def depth_zero(words: list[str]) -> list[str]:
    """The words outside every parenthesis."""
    out, depth = [], 0
    for word in words:
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0:
            out.append(word)
    return out


def classify(words: list[str]) -> list[Entry] | None:
    """The entries of a statement, from its upper-cased words (string literals as ``'``):
    one for a statement type, one per action of an ALTER TABLE / INDEX / SEQUENCE / TYPE /
    DOMAIN; None when the table knows no such statement."""
    if not words:
        return None
    head = words[0]
    if head == "ALTER" and len(words) > 1:
        family = _ALTER_FAMILIES.get(words[1])
        if words[1] == "FOREIGN" and words[2:3] == ["TABLE"]:
            family = "ALTER TABLE"
        if family is not None:
            return _alter_family(family, words)
    if head == "WITH":
        main = next((w for w in depth_zero(words[1:]) if w in _MAIN_VERBS), "SELECT")
        return classify([main])
    if head == "CREATE":
        rest = [w for w in words[1:6] if w not in _CREATE_MODIFIERS]
        words = ["CREATE", *rest]
    key = _statement_key(words)
    if key is None:
        return None
    return [_refine(key, words)]


def _statement_key(words: list[str]) -> str | None:
    for n in range(min(_LONGEST, len(words)), 0, -1):
        key = " ".join(words[:n])
        key = _ALIASES.get(key, key)
        if key in _STATEMENT_KEYS:
            return key
    return None


def _refine(key: str, words: list[str]) -> Entry:
    """The variant of a statement type its options make (CONCURRENTLY, FULL, INTO...)."""
    top = depth_zero(words) if "(" in words else words
    if key == "CREATE TABLE":
        if "PARTITION" in top and "OF" in top:
            key = "CREATE TABLE PARTITION OF"
        elif "AS" in top:
            key = "CREATE TABLE AS"
    elif key in ("CREATE INDEX", "DROP INDEX", "REFRESH MATERIALIZED VIEW"):
        if "CONCURRENTLY" in words[:6]:
            key += " CONCURRENTLY"
    elif key == "REINDEX" and "CONCURRENTLY" in words:
        key = "REINDEX CONCURRENTLY"
    elif key == "VACUUM" and "FULL" in words[:8]:
        key = "VACUUM FULL"
    elif key in ("GRANT", "REVOKE") and "ON" not in top:
        key += " ROLE"
    elif key == "SELECT":
        if "INTO" in top and "INSERT" not in top:
            key = "SELECT INTO"
        elif "FOR" in top and any(w in top for w in ("UPDATE", "SHARE")):
            key = "SELECT FOR UPDATE"
    return _STATEMENT_KEYS[key]


_ALTER_FAMILIES = {
    "TABLE": "ALTER TABLE",
    "INDEX": "ALTER INDEX",
    "SEQUENCE": "ALTER SEQUENCE",
    "TYPE": "ALTER TYPE",
    "DOMAIN": "ALTER DOMAIN",
}
_ACTION_KEYS = {e.key: e for e in ACTIONS}
# the words an ALTER TABLE action starts with
ACTION_WORDS = frozenset(
    {
        "ADD",
        "ALTER",
        "DROP",
        "RENAME",
        "VALIDATE",
        "SET",
        "RESET",
        "ENABLE",
        "DISABLE",
        "FORCE",
        "NO",
        "INHERIT",
        "CLUSTER",
        "OWNER",
        "REPLICA",
        "OF",
        "NOT",
        "ATTACH",
        "DETACH",
        "OPTIONS",
        "DEPENDS",
    }
)
_CONSTRAINT_KINDS = {
    "CHECK": "CHECK",
    "FOREIGN": "FOREIGN KEY",
    "UNIQUE": "UNIQUE",
    "PRIMARY": "PRIMARY KEY",
    "EXCLUDE": "EXCLUDE",
    "NOT": "NOT NULL",
}
_SEQUENCE_OPTIONS = frozenset(
    {"INCREMENT", "MINVALUE", "MAXVALUE", "NO", "START", "CACHE", "CYCLE", "SEQUENCE"}
)


def _alter_family(family: str, words: list[str]) -> list[Entry] | None:
    """The entries of each action of ``ALTER <family> name action, action ...``."""
    at = 3 if words[1] == "FOREIGN" else 2
    if words[at : at + 2] == ["IF", "EXISTS"]:
        at += 2
    if words[at : at + 3] == ["ALL", "IN", "TABLESPACE"]:
        return [_ACTION_KEYS[f"{family} ALL IN TABLESPACE"]]
    if words[at : at + 1] == ["ONLY"]:
        at += 1
    at += 1  # the name
    while words[at : at + 1] == ["."]:
        at += 2
    if words[at : at + 1] == ["*"]:
        at += 1
    actions, current, depth = [], [], 0
    for word in words[at:]:
        depth += (word == "(") - (word == ")")
        if word == "," and depth == 0:
            actions.append(current)
            current = []
        else:
            current.append(word)
    actions.append(current)
    found = []
    for action in actions:
        entry = _action(family, action)
        if entry is None:
            return None
        found.append(entry)
    return found


def classify_action(family: str, action: list[str]) -> Entry | None:
    """The entry of one action of ``ALTER <family>`` (``"ALTER TABLE"``), from its words."""
    return _action(family, action)


def _action(family: str, action: list[str]) -> Entry | None:
    if not action:
        return None
    if family == "ALTER SEQUENCE":
        return _sequence_action(action)
    first = action[0]
    words = list(action)
    if first == "ADD":
        if family != "ALTER TABLE":
            words = ["ADD", *action[1:2]]
        else:
            kind = action[3] if action[1:2] == ["CONSTRAINT"] and len(action) > 3 else action[1]
            if kind in _CONSTRAINT_KINDS and (action[1] == "CONSTRAINT" or kind != "NOT"):
                if "USING" in action and "INDEX" in action:
                    words = ["ADD", "CONSTRAINT", "USING", "INDEX"]
                else:
                    words = ["ADD", "CONSTRAINT", *_CONSTRAINT_KINDS[kind].split()]
            else:
                virtual = action[-1:] == ["VIRTUAL"]
                words = ["ADD", "COLUMN", "VIRTUAL"] if virtual else ["ADD", "COLUMN"]
    elif first == "ALTER" and action[1:2] == ["CONSTRAINT"]:
        words = ["ALTER", "CONSTRAINT"]
    elif first == "ALTER" and family in ("ALTER TABLE", "ALTER INDEX"):
        at = 2 if action[1:2] == ["COLUMN"] else 1
        rest = action[at + 1 :]
        if rest[:2] == ["SET", "DATA"] or rest[:1] == ["TYPE"]:
            rest = ["TYPE"]
        elif rest[:1] == ["SET"] and rest[1:2] and rest[1] in _SEQUENCE_OPTIONS:
            rest = ["SET", "INCREMENT"]
        elif rest[:1] == ["SET"] and rest[1:2] == ["("]:
            rest = ["SET"]
        words = ["ALTER", "COLUMN", *rest]
    elif first == "DROP" and family == "ALTER TABLE" and action[1:2] != ["CONSTRAINT"]:
        words = ["DROP", "COLUMN"]
    elif (
        first == "RENAME"
        and family == "ALTER TABLE"
        and action[1:2]
        not in (
            ["TO"],
            ["CONSTRAINT"],
        )
    ):
        words = ["RENAME", "COLUMN"]
    elif first == "ALTER" and family == "ALTER TYPE":
        words = ["ALTER", "ATTRIBUTE"]
    elif first == "DETACH" and family == "ALTER TABLE":
        if "CONCURRENTLY" in action:
            words = ["DETACH", "PARTITION", "CONCURRENTLY"]
        elif "FINALIZE" in action:
            words = ["DETACH", "PARTITION", "FINALIZE"]
        else:
            words = ["DETACH", "PARTITION"]
    elif first in ("SET", "RESET") and action[1:2] == ["("]:
        words = [first]
    elif first in ("ENABLE", "DISABLE") and family == "ALTER TABLE" and "TRIGGER" in action:
        words = action[: action.index("TRIGGER") + 1]
    elif first in ("ENABLE", "DISABLE") and family == "ALTER TABLE" and "RULE" in action:
        words = action[: action.index("RULE") + 1]
    elif first == "INHERIT":
        words = ["INHERIT"]
    for n in range(min(6, len(words)), 0, -1):
        entry = _ACTION_KEYS.get(f"{family} {' '.join(words[:n])}")
        if entry is not None:
            return entry
    return None


def _sequence_action(action: list[str]) -> Entry | None:
    if action[:2] == ["OWNER", "TO"]:
        return _ACTION_KEYS["ALTER SEQUENCE OWNER TO"]
    if action[:2] == ["RENAME", "TO"]:
        return _ACTION_KEYS["ALTER SEQUENCE RENAME TO"]
    if action[:2] == ["SET", "SCHEMA"]:
        return _ACTION_KEYS["ALTER SEQUENCE SET SCHEMA"]
    if action[:2] in (["SET", "LOGGED"], ["SET", "UNLOGGED"]):
        return _ACTION_KEYS[f"ALTER SEQUENCE SET {action[1]}"]
    top = depth_zero(action)
    if "RESTART" in top:
        return _ACTION_KEYS["ALTER SEQUENCE RESTART"]
    if "OWNED" in top:
        return _ACTION_KEYS["ALTER SEQUENCE OWNED BY"]
    if "AS" in top:
        return _ACTION_KEYS["ALTER SEQUENCE AS"]
    if top and all(w in _SEQUENCE_OPTIONS or w not in ACTION_WORDS for w in top):
        return _ACTION_KEYS["ALTER SEQUENCE"]
    return None


@cache
def coverage() -> tuple[int, int]:
    """(command tags of PostgreSQL 18 some entry answers with, all of them)."""
    known = {e.tag for e in ENTRIES} | set(TAG_VARIANTS)
    return len(COMMAND_TAGS_PG18 & known), len(COMMAND_TAGS_PG18)
