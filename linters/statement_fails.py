"""
## What it does
Flags statements PostgreSQL refuses where they stand, which stop the migration
half-way:

- `CONCURRENTLY` inside a `DO` block or a function (they run in a transaction);
- `CREATE INDEX CONCURRENTLY` on a partitioned table;
- `DROP INDEX CONCURRENTLY` of several indexes at once;
- `REINDEX ... CONCURRENTLY` before PostgreSQL 12, `DETACH PARTITION ...
  CONCURRENTLY` before 14 (the syntax does not exist);
- PostgreSQL 18 syntax on an older server: a virtual generated column
  (`GENERATED ALWAYS AS (...)` without `STORED`), a named `NOT NULL` constraint;
- `ADD CONSTRAINT ... UNIQUE USING INDEX` of an expression or partial index;
- any statement PostgreSQL refuses inside a transaction block (`VACUUM`, `ALTER
  SYSTEM`, `CREATE DATABASE`, ...: its statement table's `outside`), in an explicit
  transaction or a `DO` block or function; one it accepts only inside one (`LOCK`,
  `SAVEPOINT`, `DECLARE` without `HOLD`) outside every transaction;
- syntax or an option from a newer major than `--pg-version` (`MERGE` before 15,
  `VACUUM (BUFFER_USAGE_LIMIT ...)` before 16, `SET EXPRESSION` before 17), from
  the statement table's `since`;
- `ALTER TYPE ... ADD VALUE` inside a transaction block before PostgreSQL 12,
  and, on any version, a value added in a transaction used before that
  transaction commits ("unsafe use of new value").

## Why is this bad?
The deploy stops on an error: whatever ran before it in autocommit mode stays,
the rest never runs, and the application version that expects the change is
already rolling out.

## Example
```sql
BEGIN;
ALTER TYPE order_state ADD VALUE 'refunded';
UPDATE orders SET state = 'refunded' WHERE id = 42;
COMMIT;
```

## Use instead
Add the enum value in its own transaction (in Alembic, inside
`autocommit_block()`) and use it in a later one; drop indexes concurrently one
per statement; build indexes concurrently at the top level, never in `DO`.

## With Alembic
`with op.get_context().autocommit_block(): op.execute("ALTER TYPE ... ADD VALUE ...")`.
"""

from expandcontract.lint.rule import Rule, Violation
from expandcontract.sql.postgres.statement_table import BY_KEY, FLOOR, INSIDE, OUTSIDE

_SINCE = {
    "reindex": (12, "REINDEX ... CONCURRENTLY"),
    "detach_partition": (14, "DETACH ... CONCURRENTLY"),
}


# judged by concurrently-in-transaction (EC302), or below with their own wording
_OWN_WORDS = frozenset(
    {
        "CREATE INDEX CONCURRENTLY",
        "DROP INDEX CONCURRENTLY",
        "REINDEX CONCURRENTLY",
        "ALTER TABLE DETACH PARTITION CONCURRENTLY",
        "ALTER TABLE ADD COLUMN VIRTUAL",
        "ALTER TABLE ADD CONSTRAINT NOT NULL",
    }
)


def _table_verdict(op, ctx):
    """What the statement table says PostgreSQL refuses: the block a statement stands in,
    the version its syntax and options need; and what the statement's own words make it
    refuse."""
    entry = BY_KEY[op.value]
    for flag in op.flags:
        if flag.startswith("refused:"):
            yield Violation(f"{entry.key}: {flag[8:]}: PostgreSQL refuses the statement")
        elif flag.startswith("constraint:") and _unique(ctx, flag[11:]):
            yield Violation(
                f"constraint {flag[11:]} is UNIQUE or PRIMARY KEY: ALTER CONSTRAINT changes "
                "foreign keys only, PostgreSQL refuses it",
                "Drop and re-add the constraint (building its index CONCURRENTLY first).",
            )
    if entry.key in _OWN_WORDS:
        return
    in_block = ctx.in_transaction or op.has("in_block")
    if entry.block == OUTSIDE and in_block:
        where = "a DO block or function" if op.has("in_block") else "a transaction block"
        yield Violation(
            f"{entry.key} cannot run inside {where}: PostgreSQL refuses it",
            "Run it on its own, outside any transaction (in Alembic, inside autocommit_block()).",
        )
    elif entry.block == INSIDE and not in_block and not ctx.revision:
        yield Violation(
            f"{entry.key} only works inside a transaction block: outside one PostgreSQL "
            "refuses it (or, for SET LOCAL, ignores it)",
            "Put it between BEGIN and COMMIT, with the statements it is for.",
        )
    if entry.since > max(ctx.pg_version, FLOOR):
        later = "no version" if entry.since > 90 else f"PostgreSQL {entry.since}"
        yield Violation(
            f"{entry.key} does not exist on PostgreSQL {ctx.pg_version} (it came in "
            f"{later}): the statement fails",
            "Check --pg-version; write it the way the older server accepts.",
        )
        return
    for word, since, _ in entry.options:
        if since > max(ctx.pg_version, FLOOR) and op.has(f"option:{word}"):
            yield Violation(
                f"{entry.key} option {word} came in PostgreSQL {since}: PostgreSQL "
                f"{ctx.pg_version} refuses the statement",
                "Check --pg-version; leave the option out on older servers.",
            )


def _unique(ctx, name: str) -> bool:
    """A UNIQUE or PRIMARY KEY constraint of that name (whose index has its name)."""
    return f"unique_name:{name}" in ctx.facts


def _schema_verdict(op, ctx):
    """What PostgreSQL refuses given what earlier statements and migrations made."""
    if op.kind == "add_constraint":
        partitioned = op.table in ctx.partitioned and ctx.pg_version < 18
        if op.constraint == "foreign_key" and op.not_valid and partitioned:
            yield Violation(
                f"{op.table} is partitioned: a foreign key NOT VALID on it needs "
                f"PostgreSQL 18, {ctx.pg_version} refuses it",
                "Add the foreign key NOT VALID on each partition, validate each, then "
                "add it to the parent (which finds them valid).",
            )
    elif op.kind == "drop_index" and _unique(ctx, op.name or ""):
        yield Violation(
            f"index {op.name} belongs to a UNIQUE or PRIMARY KEY constraint: PostgreSQL "
            "refuses to drop it (drop the constraint instead)",
            "ALTER TABLE ... DROP CONSTRAINT, in the contract phase.",
        )
    elif op.kind == "create_function" and op.has("or_replace") and op.name and op.type_sql:
        before = ctx.facts.get(f"function:{op.name.rsplit('.', 1)[-1]}")
        old_args, _, old_returns = (before or "").partition("|")
        args, _, returns = op.type_sql.partition("|")
        if before and old_args == args and old_returns != returns:
            yield Violation(
                f"CREATE OR REPLACE FUNCTION {op.name} changes its return type: "
                "PostgreSQL refuses it",
                "Create a function under a new name; drop the old one in the contract phase.",
            )
    elif op.kind == "create_object" and op.value == "view" and op.has("or_replace"):
        before = ctx.facts.get(f"view:{op.name}")
        if before and op.columns:
            old = before.split(",")
            new = [c for c, _ in op.columns]
            if new[: len(old)] != old:
                yield Violation(
                    f"CREATE OR REPLACE VIEW {op.name} drops or renames a column of the view "
                    f"({', '.join(old)}): PostgreSQL refuses it",
                    "Keep every column, in order, and add new ones at the end.",
                )


def check(op, ctx):
    yield from _schema_verdict(op, ctx)
    if op.kind == "statement":
        yield from _table_verdict(op, ctx)
    elif op.kind == "commit_in_block" and ctx.in_transaction and not ctx.block_transaction:
        yield Violation(
            "COMMIT or ROLLBACK inside a DO block or procedure run in a transaction block: "
            "PostgreSQL refuses it (invalid transaction termination)",
            "Run the block outside any transaction (in Alembic, inside autocommit_block()).",
        )
    elif op.kind == "concurrently_in_block":
        yield Violation(
            "CONCURRENTLY inside a DO block runs in a transaction: PostgreSQL rejects it",
            "Write the CONCURRENTLY statement at the top level, outside any transaction.",
        )
    elif op.kind == "create_index" and op.concurrently and op.table in ctx.partitioned:
        yield Violation(
            f"CREATE INDEX CONCURRENTLY cannot build on partitioned table {op.table}: "
            "PostgreSQL rejects it",
            "CREATE INDEX ... ON ONLY the parent, CONCURRENTLY on each partition, then "
            "ALTER INDEX ... ATTACH PARTITION each.",
        )
    elif op.kind == "add_column" and op.has("generated_virtual") and ctx.pg_version < 18:
        yield Violation(
            f"virtual generated column {op.column}: PostgreSQL {ctx.pg_version} has only STORED "
            "ones (VIRTUAL, the default without STORED, came in 18): the statement fails",
            "Check --pg-version; before 18 a generated column is STORED, which rewrites the "
            "table: compute it in the application or a view instead.",
        )
    elif op.kind == "add_constraint" and op.constraint == "not_null" and ctx.pg_version < 18:
        yield Violation(
            f"a named NOT NULL constraint on {op.table}.{op.column} needs PostgreSQL 18: the "
            "statement fails",
            "Before 18: CHECK (c IS NOT NULL) NOT VALID, VALIDATE, then SET NOT NULL.",
        )
    elif (
        op.kind == "add_constraint"
        and op.has("using_index")
        and op.value in ctx.unclaimable_indexes
    ):
        yield Violation(
            f"index {op.value} is on an expression or partial: a UNIQUE or PRIMARY KEY "
            "constraint cannot take it over USING INDEX, PostgreSQL rejects it",
            "Keep the unique index as it is (it enforces uniqueness), or build one on plain "
            "columns for the constraint.",
        )
    elif op.kind == "drop_index" and op.has("several"):
        yield Violation(
            "DROP INDEX CONCURRENTLY drops one index per statement: PostgreSQL rejects the list",
            "One DROP INDEX CONCURRENTLY per index.",
        )
    elif op.kind in _SINCE and op.concurrently and ctx.pg_version < _SINCE[op.kind][0]:
        since, what = _SINCE[op.kind]
        yield Violation(
            f"{what} does not exist before PostgreSQL {since}: the statement fails",
            "Check --pg-version; on older servers use the non-concurrent form in a quiet hour.",
        )
    elif op.kind == "add_enum_value" and ctx.in_transaction and ctx.pg_version < 12:
        yield Violation(
            f"ALTER TYPE {op.name} ADD VALUE cannot run inside a transaction block before "
            "PostgreSQL 12: the statement fails",
            "Run it outside the transaction (in Alembic, inside autocommit_block()).",
        )
    elif op.kind == "use_new_enum_value":
        yield Violation(
            f"enum value {op.value!r} was added in this transaction: PostgreSQL refuses to use "
            "it before the transaction commits",
            "Add the value in its own transaction (autocommit_block()) and use it after.",
        )


RULE = Rule(
    code="EC305",
    name="statement-fails",
    severity="error",
    summary="A statement PostgreSQL refuses where it stands, stopping the deploy half-way",
    hint="Rewrite the statement so that PostgreSQL accepts it where it stands.",
    kinds=frozenset(
        {
            "statement",
            "commit_in_block",
            "create_function",
            "create_object",
            "concurrently_in_block",
            "add_column",
            "add_constraint",
            "create_index",
            "drop_index",
            "reindex",
            "detach_partition",
            "add_enum_value",
            "use_new_enum_value",
        }
    ),
    doc=__doc__,
    check=check,
)
