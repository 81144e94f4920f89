"""
## What it does
Reports a migration file with no SQL statement in it.

## Why is this bad?
An empty migration usually means the change was written somewhere else, or
was lost in a merge: the deploy will record it as applied and do nothing.

## Example
A `.sql` file that holds only comments.

## Use instead
Write the statements, or delete the file.

## With Alembic
A revision whose `upgrade()` is `pass` is fine to Alembic; this rule reads SQL files only.
"""

from expandcontract.lint.rule import Rule

RULE = Rule(
    code="EC003",
    name="empty-file",
    severity="warning",
    summary="Migration file with no statements",
    doc=__doc__,
)
