"""Two-way sync between an old and a new column while both application versions run.

A BEFORE INSERT OR UPDATE row trigger keeps the two columns equal:

- INSERT: the old application version never names the new column, so a NULL
  new column means "computed from old"; a non-NULL one came from the new
  version, and the old column is computed from it (over any default).
- UPDATE: whichever column the statement changed wins and the other is
  recomputed. A write of the new column that already equals what the old one
  converts to (the backfill) leaves the old column alone, so a conversion is
  never applied back and forth.

The trigger only assigns to ``NEW``: it issues no statement, so it cannot
recurse, and concurrent writers are serialized by the row lock as usual.
Conversions are SQL naming the source column; sqlglot rewrites each reference
to ``NEW.<column>``.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from expandcontract.ops.registry import online, operation
from expandcontract.schema.names import in_schema_of, object_name, quote


def _on_new_row(expression: str | None, column: str) -> str:
    """``payload::jsonb`` with column ``payload`` -> ``CAST(NEW.payload AS JSONB)``."""
    if not expression:
        return f"NEW.{quote(column)}"
    tree = sqlglot.parse_one(expression, read="postgres")

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name == column:
            return exp.column(node.this.copy(), table="NEW")
        return node

    return tree.transform(rewrite).sql(dialect="postgres")


def name(table: str, old: str, new: str) -> str:
    """The trigger's and its function's name (the same)."""
    return object_name(table, old, new, prefix="ec_sync")


def sync_trigger_sql(
    table: str, old: str, new: str, forward: str | None = None, backward: str | None = None
) -> list[str]:
    trigger = name(table, old, new)
    function = in_schema_of(table, trigger)
    qo, qn = quote(old), quote(new)
    to_new = _on_new_row(forward, old)
    to_old = _on_new_row(backward, new)
    body = f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.{qn} IS NULL THEN
            NEW.{qn} := {to_new};
        ELSE
            NEW.{qo} := {to_old};
        END IF;
    ELSIF NEW.{qo} IS DISTINCT FROM OLD.{qo} AND NEW.{qn} IS NOT DISTINCT FROM OLD.{qn} THEN
        NEW.{qn} := {to_new};
    ELSIF NEW.{qn} IS DISTINCT FROM OLD.{qn} AND NEW.{qo} IS NOT DISTINCT FROM OLD.{qo}
          AND NEW.{qn} IS DISTINCT FROM {to_new} THEN
        NEW.{qo} := {to_old};
    END IF;
    RETURN NEW;
END
"""
    return [
        f"CREATE OR REPLACE FUNCTION {quote(function)}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $ec${body}$ec$",
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"CREATE TRIGGER {quote(trigger)} BEFORE INSERT OR UPDATE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {quote(function)}()",
    ]


def drop_sync_trigger_sql(table: str, old: str, new: str) -> list[str]:
    trigger = name(table, old, new)
    function = in_schema_of(table, trigger)
    return [
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"DROP FUNCTION IF EXISTS {quote(function)}()",
    ]


def _on_row(expression: str, row: str = "NEW") -> str:
    """Every unqualified column reference of ``expression`` read from ``row`` (NEW, OLD)."""
    tree = sqlglot.parse_one(expression, read="postgres")

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            return exp.column(node.this.copy(), table=row)
        return node

    return tree.transform(rewrite).sql(dialect="postgres")


def fill_trigger_sql(table: str, column: str, expression: str) -> list[str]:
    """A BEFORE INSERT OR UPDATE trigger keeping ``column`` computed from ``expression`` for
    the rows the old application version writes (it never names the column):

    - INSERT leaving it NULL: computed;
    - UPDATE not changing it, of a row whose value is still the computed one: computed
      again from the new row, so a derived value does not go stale when the old version
      changes what it derives from. A value someone set by hand is left alone."""
    trigger = object_name(table, column, prefix="ec_fill")
    function = in_schema_of(table, trigger)
    qc = quote(column)
    body = f"""
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.{qc} IS NULL THEN
            NEW.{qc} := {_on_row(expression)};
        END IF;
    ELSIF NEW.{qc} IS NOT DISTINCT FROM OLD.{qc}
          AND OLD.{qc} IS NOT DISTINCT FROM {_on_row(expression, "OLD")} THEN
        NEW.{qc} := {_on_row(expression)};
    ELSIF NEW.{qc} IS NULL AND OLD.{qc} IS NULL THEN
        NEW.{qc} := {_on_row(expression)};
    END IF;
    RETURN NEW;
END
"""
    return [
        f"CREATE OR REPLACE FUNCTION {quote(function)}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $ec${body}$ec$",
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"CREATE TRIGGER {quote(trigger)} BEFORE INSERT OR UPDATE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {quote(function)}()",
    ]


def drop_fill_trigger_sql(table: str, column: str) -> list[str]:
    name = object_name(table, column, prefix="ec_fill")
    return [
        f"DROP TRIGGER IF EXISTS {quote(name)} ON {quote(table)}",
        f"DROP FUNCTION IF EXISTS {quote(in_schema_of(table, name))}()",
    ]


def _reverse_sync(op):
    return "drop_sync_trigger", {"table_name": op.table_name, "old": op.old, "new": op.new}


@operation(reverse=_reverse_sync)
def create_sync_trigger(operations, table_name, old, new, forward=None, backward=None) -> None:
    """Keep ``old`` and ``new`` equal on every INSERT and UPDATE, from either app version.

    ``forward`` computes new from old and ``backward`` old from new, as SQL naming the
    source column (``"payload::jsonb"``); None copies the value as is.
    """
    online(operations)
    for statement in sync_trigger_sql(table_name, old, new, forward, backward):
        operations.execute(statement)


@operation
def drop_sync_trigger(operations, table_name, old, new) -> None:
    """Drop the trigger and function ``create_sync_trigger`` made."""
    online(operations)
    for statement in drop_sync_trigger_sql(table_name, old, new):
        operations.execute(statement)


@operation
def create_fill_trigger(operations, table_name, column, expression) -> None:
    """Compute ``column`` from ``expression`` (SQL over the row's columns) on every
    INSERT or UPDATE that leaves it NULL, so the old version's writes fill it too."""
    online(operations)
    for statement in fill_trigger_sql(table_name, column, expression):
        operations.execute(statement)


@operation
def drop_fill_trigger(operations, table_name, column) -> None:
    """Drop the trigger and function ``create_fill_trigger`` made."""
    online(operations)
    for statement in drop_fill_trigger_sql(table_name, column):
        operations.execute(statement)
