"""
## What it does
Reports an Alembic revision that cannot be imported (a syntax error, a missing
module) or whose `upgrade()` / `downgrade()` raises while Alembic renders it.

## Why is this bad?
A revision that does not load is a deploy that fails, and a revision the
linter cannot render is one it cannot judge. The other revisions are still
linted.

## Example
```python
from alembic import op
import app.models  # imports the whole application, which is not installed here
```

## Use instead
Keep revisions self-contained: import `alembic`, `sqlalchemy` and nothing from
the application (copy the few constants a migration needs).

## With Alembic
The same: revisions should import and run on their own.
"""

from expandcontract.lint.rule import Rule

RULE = Rule(
    code="EC005",
    name="revision-error",
    severity="error",
    summary="Alembic revision that does not import or render",
    doc=__doc__,
)
