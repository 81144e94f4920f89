"""
## What it does
Reports SQL that is built while the migration runs and cannot be known from
its text: `EXECUTE` of a variable or of `format()` with arguments read from
rows, a psql `\\gexec` whose query builds no string the linter can read, a
function in another language called by the migration.

## Why is this bad?
What such a statement locks, rewrites or breaks is invisible to a linter; a
`DO` block that loops over tables with `EXECUTE format('ALTER TABLE %I ...',
r.tablename)` can take ACCESS EXCLUSIVE on every table in turn, all in one
transaction.

## Example
```sql
DO $$ DECLARE r record; BEGIN
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'app' LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN tenant_id SET NOT NULL', r.tablename);
  END LOOP;
END $$;
```

## Use instead
Write the statements out (generate the migration file instead of generating
SQL at deploy time), or check the generated statements by hand and suppress
the finding with the reason.

## With Alembic
Render the statements in Python (`op.execute(...)` per table) so each is linted.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    yield Violation(
        f"dynamic SQL the linter cannot read ({op.value}): what it locks, rewrites or "
        "breaks was not checked"
    )


RULE = Rule(
    code="EC503",
    name="unverifiable-dynamic-sql",
    severity="warning",
    summary="SQL built at run time that the linter cannot read",
    hint="Write the statements out, or check them by hand and suppress with the reason.",
    kinds=frozenset({"dynamic_sql"}),
    doc=__doc__,
    check=check,
)
