"""
## What it does
Warns on `ALTER COLUMN ... TYPE text`, `varchar`, `varchar(n)` or
`numeric(p, s)`: changes that are catalog-only from the right source type and
a full rewrite from any other.

## Why is this bad?
These are free (no rewrite, no index rebuild) exactly when binary-coercible:
`varchar(n)` to `varchar(m)` with m > n, `varchar` to `text`, `numeric(p,s)`
to `numeric(p2,s)` with p2 > p, or dropping a length limit. From any other type
(`integer` to `text`, shrinking a `varchar`) PostgreSQL rewrites the table
under ACCESS EXCLUSIVE. A migration file does not say what the old type was,
so check it; `expandcontract verify` reports whether the table was rewritten.

## Example
```sql
ALTER TABLE users ALTER COLUMN email TYPE varchar(320);
```

## Use instead
Keep it when the old type is a shorter `varchar` (suppress with that reason);
otherwise use the change-type phases.
```sql
-- expandcontract: ignore change-column-type-unverified -- was varchar(255)
ALTER TABLE users ALTER COLUMN email TYPE varchar(320);
```

## With Alembic
Give the old type: `op.alter_column("users", "email", type_=sa.String(320),
existing_type=sa.String(255))` is then judged exactly (a free widening passes,
anything else is a `change-column-type` error), with no comment needed.
"""

from expandcontract.lint.rule import Rule, Violation


def check(op, ctx):
    if ctx.is_new(op) or not op.has("maybe_coercible") or op.has("using"):
        return
    if ctx.type_change(op) is not None:  # the old type is known: EC110 decides
        return
    yield Violation(
        f"changing {op.table}.{op.column} to {op.type_sql} is catalog-only only from a "
        "binary-coercible type; from any other it rewrites the table under ACCESS EXCLUSIVE",
    )


RULE = Rule(
    code="EC111",
    name="change-column-type-unverified",
    severity="warning",
    summary="ALTER COLUMN TYPE that rewrites unless the old type is coercible",
    hint="Confirm the old type widens binary-coercibly (e.g. varchar(255) -> varchar(320)); "
    "otherwise use the change-type phases.",
    kinds=frozenset({"alter_type"}),
    doc=__doc__,
    check=check,
)
