"""
## What it does
Reports a statement that the linter's statement table (every statement type of
PostgreSQL's grammar, with its locks, its work and the versions that accept
it) does not know: a statement type of a newer PostgreSQL, another database's
SQL, or a spelling the table's reader does not follow.

## Why is this bad?
A linter that says nothing about a statement it does not understand reads as
"safe". The lock it takes, the rows it reads and whether the server accepts it
are unknown, so it is reported instead of passed over.

## Example
```sql
CREATE PROPERTY GRAPH social VERTEX TABLES (people);
```

## Use instead
Check the statement by hand (or with `expandcontract verify` on a copy of the
database), then suppress the finding with the reason:
```sql
-- expandcontract: ignore unknown-statement -- checked on staging, catalog only
```

## With Alembic
The same suppression comment, above the `op.execute(...)` call.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    yield Violation(
        f"the linter does not know the statement {op.value!r}: what it locks, reads and "
        "whether PostgreSQL accepts it were not checked"
    )


RULE = Rule(
    code="EC006",
    name="unknown-statement",
    severity="warning",
    summary="Statement the linter's statement table does not know",
    hint="Check it by hand; suppress this finding with the reason once you have.",
    kinds=frozenset({"unknown_statement"}),
    doc=__doc__,
    check=check,
)
