"""
## What it does
Reports an `expandcontract: ignore` comment that suppressed nothing, or that
names a rule that does not exist.

## Why is this bad?
A stale suppression hides the next real problem on that statement, and a
misspelled rule name suppresses nothing while looking as if it did.

## Example
```sql
-- expandcontract: ignore create-index-not-concurrently -- small table
CREATE INDEX CONCURRENTLY ix_users_email ON users (email);
```

## Use instead
Remove the comment once the statement no longer needs it.

## With Alembic
The same comment, with `#`, on the `op.*` line or the line above it.
"""

from expandcontract.lint.rule import Rule

RULE = Rule(
    code="EC002",
    name="unused-suppression",
    severity="warning",
    summary="Suppression comment that matches no finding",
    doc=__doc__,
)
