"""
## What it does
Flags what a migration removes, renames or narrows that the application
version still running can use, beyond tables and columns (which their own
rules judge), read from PostgreSQL's statement table and what earlier
migrations created:

- dropping, renaming or moving a function, procedure, aggregate, operator,
  collation, text search configuration, extension, schema object, role...;
- `REVOKE` of a privilege;
- a new overload of a function an earlier migration created (a call with
  untyped arguments becomes ambiguous);
- setting a sequence or identity back (`RESTART`, `setval`): new rows reuse
  taken keys;
- a rule `DO INSTEAD NOTHING` (writes vanish, `INSERT ... RETURNING` returns nothing);
- `DROP DEFAULT` of a NOT NULL column added with a default (Django's
  `sqlmigrate` writes both): the running version's inserts leave it out and fail;
- dropping a unique constraint or index an `INSERT ... ON CONFLICT` names;
- a publication with a row filter or column list: subscribers get part of the table;
- a column given a nondeterministic collation: `LIKE` on it fails.

## Why is this bad?
The old version keeps running during and after the deploy; each of these
makes some of its queries fail or do something else, with no error at deploy
time.

## Example
```sql
DROP FUNCTION order_total(bigint);
```

## Use instead
Add the new object beside the old one (a new name or signature), move the
application over, and remove the old one in the contract phase.

## With Alembic
Put the removal in a revision on the `contract` branch.
"""

from expandcontract.lint.rule import Rule, Violation
from expandcontract.sql.postgres.statement_table import BY_KEY, REMOVES, RENAMES

# statements whose own rules already judge the break
_JUDGED_ELSEWHERE = frozenset(
    {
        "DROP TABLE",
        "DROP VIEW",
        "DROP MATERIALIZED VIEW",
        "DROP SEQUENCE",
        "DROP TYPE",
        "DROP DOMAIN",
        "DROP SCHEMA",
        "TRUNCATE",
        "ALTER TABLE DROP COLUMN",
        "ALTER TABLE RENAME TO",
        "ALTER TABLE RENAME COLUMN",
        "ALTER TABLE SET SCHEMA",
        "ALTER TABLE ALTER COLUMN DROP IDENTITY",
        "ALTER VIEW",
        "ALTER MATERIALIZED VIEW",
        "ALTER SCHEMA",
    }
)
# objects the running version's queries name (a renamed index or trigger breaks none)
_BY_NAME = frozenset(
    {
        "ALTER FUNCTION",
        "ALTER PROCEDURE",
        "ALTER ROUTINE",
        "ALTER AGGREGATE",
        "ALTER OPERATOR",
        "ALTER COLLATION",
        "ALTER TEXT SEARCH CONFIGURATION",
        "ALTER TEXT SEARCH DICTIONARY",
        "ALTER ROLE",
        "ALTER SERVER",
    }
)
_SEEN = {
    "instead_nothing": "a rule DO INSTEAD NOTHING makes the running version's writes vanish "
    "without an error, and its INSERT ... RETURNING return no row",
    "resets_sequence": "setting a sequence back makes new rows reuse keys already taken: the "
    "running version's inserts fail on the unique key",
    "filtered": "a publication with a row filter or column list sends its subscribers part "
    "of the table only",
}


def check(op, ctx):
    if ctx.removal_expected:
        return
    if op.kind == "drop_default":
        default = ctx.facts.get(f"not_null_default:{op.table}.{op.column}")
        if default is not None:
            yield Violation(
                f"{op.table}.{op.column} is NOT NULL and was added with DEFAULT {default}: "
                "the running version's inserts leave it out and fail once the default is gone"
            )
        return
    if op.kind == "drop_constraint":
        if f"unique:{op.table}.{op.name}" in ctx.facts:
            yield Violation(
                f"dropping unique constraint {op.name} breaks the running version's INSERT ... "
                "ON CONFLICT on its columns (no unique index matches any more)"
            )
        return
    if op.kind == "drop_index":
        if op.concurrently and f"unique_index:{op.name}" in ctx.facts:
            yield Violation(
                f"dropping unique index {op.name} breaks the running version's INSERT ... ON "
                "CONFLICT on its columns"
            )
        return
    if op.kind == "create_function":
        yield from _overload(op, ctx)
        return
    yield from _table_verdict(op, ctx)


def _overload(op, ctx):
    if not op.name or op.type_sql is None:
        return
    short = op.name.rsplit(".", 1)[-1]
    before = ctx.facts.get(f"function:{short}")
    if short in ctx.functions:
        return  # the one before is of this migration too: no running version calls it
    if before is None or before.split("|")[0] == op.type_sql.split("|")[0]:
        return
    yield Violation(
        f"function {short}({op.type_sql.split('|')[0]}) overloads {short}"
        f"({before.split('|')[0]}): the running version's calls with untyped or other-typed "
        "arguments may become ambiguous or pick the other one"
    )


def _table_verdict(op, ctx):
    entry = BY_KEY.get(op.value or "")
    if entry is None:
        return
    for flag, message in _SEEN.items():
        if op.has(flag):
            yield Violation(message)
            return
    for flag in op.flags:
        nondeterministic = ctx.facts.get(f"collation:{flag[8:]}")
        if flag.startswith("collate:") and nondeterministic and ctx.pg_version < 18:
            yield Violation(
                f"collation {flag[8:]} is nondeterministic: the running version's LIKE on "
                "this column fails (before PostgreSQL 18)"
            )
            return
    if op.has("covered") or entry.key in _JUDGED_ELSEWHERE:
        return
    renames = entry.visible == RENAMES or (op.has("renames") and entry.key in _BY_NAME)
    if not (renames or entry.visible == REMOVES) or _is_new(op, ctx, entry):
        return
    what = entry.key.split(" ", 1)[1].lower() if " " in entry.key else entry.key.lower()
    name = f" {op.name}" if op.name else ""
    if entry.key == "REVOKE":
        yield Violation(
            "REVOKE takes a privilege away: the running version's queries that need it fail "
            "with permission denied"
        )
    elif renames:
        yield Violation(
            f"renaming or moving {what}{name} breaks the running version's uses of its old name"
        )
    else:
        yield Violation(f"dropping {what}{name} breaks the running version's uses of it")


def _is_new(op, ctx, entry) -> bool:
    """Created earlier in this migration: no running version uses it."""
    if not op.name:
        return False
    kind = entry.key.split(" ", 1)[1].lower() if " " in entry.key else ""
    short = op.name.rsplit(".", 1)[-1]
    if entry.key == "REVOKE":  # of any kind of object: made in this migration?
        return (
            short in ctx.functions
            or op.name in ctx.new_tables
            or any(name == op.name for _, name in ctx.new_objects)
        )
    return (
        (kind, op.name) in ctx.new_objects
        or (kind in ("function", "procedure", "routine") and short in ctx.functions)
        or ctx.is_new(op)
    )


RULE = Rule(
    code="EC414",
    name="breaking-change",
    severity="error",
    summary="Removes, renames or narrows something the running version uses",
    hint="Add the new beside the old, move the application over, remove the old in the "
    "contract phase.",
    kinds=frozenset(
        {
            "statement",
            "alter_table_other",
            "drop_default",
            "drop_constraint",
            "drop_index",
            "create_function",
        }
    ),
    doc=__doc__,
    check=check,
    breaking=True,
)
