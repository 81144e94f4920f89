"""
## What it does
Reports a statement that cannot be parsed as PostgreSQL, or a quote, dollar
quote or comment that never closes; and a file or folder that could not be
read at all (no permission, not UTF-8 or UTF-16 text, a symbolic link loop,
a dangling link), at its first line.

## Why is this bad?
A statement the linter cannot read is a statement it cannot judge: it may take
any lock. Most often it is a typo that PostgreSQL would reject at deploy time.
The rest of the file is still linted; an unterminated quote stops the reading
at its line. A file with a statement that could not be read is never "All
clear": `--ignore`, `--select` and `ignore` in the configuration do not turn
this rule off (an inline suppression on the statement itself still does).

## Example
```sql
ALTR TABLE users ADD COLUMN email text;
SELECT $$never closed;
```

## Use instead
```sql
ALTER TABLE users ADD COLUMN email text;
```

## With Alembic
`op.execute()` with SQL that PostgreSQL accepts.
"""

from expandcontract.lint.rule import Rule

RULE = Rule(
    code="EC001",
    name="parse-error",
    severity="error",
    summary="Statement cannot be parsed as PostgreSQL",
    doc=__doc__,
)
