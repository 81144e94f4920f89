"""Two-way sync between an old and a new column while both application versions run.

A BEFORE INSERT OR UPDATE row trigger keeps the two columns equal (the README's
"The two-version contract" says what each version reads back):

- INSERT: the old version never names the new column. The new column's default
  is a marker that notes, for this row, that the statement left it out; the
  trigger then computes it from the old column. A new column the statement
  named (the new version, an explicit NULL included) wins: the old column is
  computed from it.
- UPDATE: whichever column the statement changed wins and the other is
  recomputed. A write of the new column that already equals what the old one
  converts to leaves the old column alone, so a conversion is never applied back
  and forth. The backfill's batches (``expandcontract.backfill = 'on'``) write
  the one column they fill and the trigger leaves them be: the refill of a
  rolled-back contract must not recompute the new column the new version wrote.

Conversions (``forward``: old to new, ``backward``: new to old) are SQL naming
the source column, passed to PostgreSQL as written: the trigger evaluates each
over a one-row subquery that names the source column as the table does. The
function runs with the search_path it was created under, so a name in a
conversion means the same in the trigger and in the backfill.

``lenient``: a value the backward conversion cannot take leaves the old column
NULL instead of failing the write. Undoing a contract uses it while only the new
version runs, so the rollback never breaks that version; it checks every row
before it finishes.

The trigger only assigns to ``NEW``: it issues no statement, so it cannot
recurse, and concurrent writers are serialized by the row lock as usual.
"""

from __future__ import annotations

import hashlib

from expandcontract.catalog import probes
from expandcontract.ops.column import is_marker
from expandcontract.ops.registry import online, operation
from expandcontract.schema.names import in_schema_of, object_name, quote


def name(table: str, old: str, new: str) -> str:
    """The trigger's and its function's name (the same)."""
    return object_name(table, old, new, prefix="ec_sync")


def marker(table: str, old: str, new: str) -> str:
    """The function the new column's default calls: it notes that a row left it out."""
    return object_name(table, old, new, prefix="ec_omit")


def named(table: str, old: str, new: str) -> str:
    """The trigger (and its function) that notes an UPDATE naming the new column: it fires
    before the sync trigger (their names sort so), even when the value does not change."""
    return object_name(table, old, new, prefix="ec_named")


def _flag(function: str) -> str:
    """The transaction-local setting the marker sets (a hash: setting names are plain)."""
    return "expandcontract.omit_" + hashlib.sha1(function.encode()).hexdigest()[:16]


def convert(expression: str | None, source: str) -> str:
    """``expression`` (naming column ``source``) evaluated on the trigger's row, verbatim:
    ``(SELECT payload::jsonb FROM (SELECT NEW.payload AS payload) AS ec_row)``."""
    if not expression:
        return f"NEW.{quote(source)}"
    return f"(SELECT {expression} FROM (SELECT NEW.{quote(source)} AS {quote(source)}) AS ec_row)"


def sync_trigger_sql(
    table: str,
    old: str,
    new: str,
    forward: str | None = None,
    backward: str | None = None,
    lenient: bool = False,
    default: str | None = None,
) -> list[str]:
    """``default``: the old column's default, as SQL; the marker returns it converted, so
    a new version that leaves the new column out (or sets it to DEFAULT) gets what the
    old version gets."""
    trigger = name(table, old, new)
    function = in_schema_of(table, trigger)
    mark = in_schema_of(table, marker(table, old, new))
    flag = _flag(mark)
    noting = named(table, old, new)
    noted = _flag(in_schema_of(table, noting))
    qo, qn = quote(old), quote(new)
    to_new, to_old = convert(forward, old), convert(backward, new)
    if lenient:
        assign_old = f"""BEGIN
            NEW.{qo} := {to_old};
        EXCEPTION WHEN data_exception OR integrity_constraint_violation THEN
            NEW.{qo} := NULL;  -- checked before the rollback finishes
        END;"""
    else:
        assign_old = f"NEW.{qo} := {to_old};"
    body = f"""
#variable_conflict use_column
DECLARE
    omitted boolean := current_setting('{flag}', true) = statement_timestamp()::text;
    named boolean := current_setting('{noted}', true) = statement_timestamp()::text;
BEGIN
    IF omitted THEN
        PERFORM set_config('{flag}', '', true);
    END IF;
    IF named THEN
        PERFORM set_config('{noted}', '', true);
    END IF;
    IF current_setting('expandcontract.backfill', true) = 'on' THEN
        RETURN NEW;  -- a batch of ours writes exactly the value it means, one column
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF omitted THEN
            NEW.{qn} := {to_new};
        ELSE
            {assign_old}
        END IF;
    ELSIF NEW.{qo} IS DISTINCT FROM OLD.{qo} AND NEW.{qn} IS NOT DISTINCT FROM OLD.{qn} THEN
        NEW.{qn} := {to_new};
    ELSIF NEW.{qn} IS DISTINCT FROM OLD.{qn} AND NEW.{qo} IS NOT DISTINCT FROM OLD.{qo}
          AND NEW.{qn} IS DISTINCT FROM {to_new} THEN
        {assign_old}
    ELSIF named AND NEW.{qn} IS NULL AND OLD.{qn} IS NULL
          AND NEW.{qo} IS NOT DISTINCT FROM OLD.{qo} AND {to_new} IS NOT NULL THEN
        -- the new version set NULL on a row the backfill has not reached: a write too
        {assign_old}
    END IF;
    RETURN NEW;
END
"""
    return [
        # the marker: the new column's default while both versions run
        f"CREATE OR REPLACE FUNCTION {quote(mark)}() RETURNS {quote(table)}.{qn}%TYPE "
        f"LANGUAGE plpgsql SET search_path FROM CURRENT AS $ec$ BEGIN "
        f"PERFORM set_config('{flag}', statement_timestamp()::text, true); "
        f"RETURN {_converted(default, forward, old)}; END $ec$",
        f"ALTER TABLE {quote(table)} ALTER COLUMN {qn} SET DEFAULT {quote(mark)}()",
        f"CREATE OR REPLACE FUNCTION {quote(function)}() RETURNS trigger LANGUAGE plpgsql "
        f"SET search_path FROM CURRENT AS $ec${body}$ec$",
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"CREATE TRIGGER {quote(trigger)} BEFORE INSERT OR UPDATE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {quote(function)}()",
        # an UPDATE that names the new column, even with the value it has
        f"CREATE OR REPLACE FUNCTION {quote(in_schema_of(table, noting))}() RETURNS trigger "
        f"LANGUAGE plpgsql AS $ec$ BEGIN PERFORM set_config('{noted}', "
        "statement_timestamp()::text, true); RETURN NEW; END $ec$",
        f"DROP TRIGGER IF EXISTS {quote(noting)} ON {quote(table)}",
        f"CREATE TRIGGER {quote(noting)} BEFORE UPDATE OF {qn} ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {quote(in_schema_of(table, noting))}()",
    ]


def _converted(default: str | None, forward: str | None, old: str) -> str:
    """The old column's default converted to the new column, as SQL (NULL: none, or a
    sequence's: the marker runs on every insert that leaves the new column out, and must
    not take a value from the sequence each time; the trigger converts the old column's)."""
    if default is None or "nextval(" in default:
        return "NULL"
    if not forward:
        return f"({default})"
    return f"(SELECT {forward} FROM (SELECT ({default}) AS {quote(old)}) AS ec_row)"


def drop_sync_trigger_sql(table: str, old: str, new: str) -> list[str]:
    trigger = name(table, old, new)
    function = in_schema_of(table, trigger)
    mark = in_schema_of(table, marker(table, old, new))
    noting = named(table, old, new)
    return [
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"DROP FUNCTION IF EXISTS {quote(function)}()",
        f"DROP TRIGGER IF EXISTS {quote(noting)} ON {quote(table)}",
        f"DROP FUNCTION IF EXISTS {quote(in_schema_of(table, noting))}()",
        # CASCADE takes the marker default with it (and only that: nothing else calls it)
        f"DROP FUNCTION IF EXISTS {quote(mark)}() CASCADE",
    ]


def _fill_names(table: str, column: str) -> tuple[str, str]:
    trigger = object_name(table, column, prefix="ec_fill")
    return trigger, in_schema_of(table, object_name(table, column, prefix="ec_omit"))


def fill_trigger_sql(table: str, column: str, expression: str, when: str = "null") -> list[str]:
    """A BEFORE INSERT OR UPDATE trigger keeping ``column`` computed from ``expression``
    (SQL over the row's columns) for the rows the old application version writes:

    - INSERT: ``when="omitted"`` (add-column: the old version never names the new
      column) computes it for a row that leaves it out (the column's default is a
      marker, as for the sync trigger), and keeps a value named, even NULL;
      ``when="null"`` (set-not-null: no NULL may stay) computes it for any NULL;
    - UPDATE not changing it, of a row whose value is still the computed one: computed
      again from the new row, so a derived value does not go stale when the old version
      changes what it derives from. A value someone set by hand is left alone; with
      ``when="null"``, a NULL is computed too."""
    if when not in ("omitted", "null"):
        raise ValueError(f"fill trigger: when must be 'omitted' or 'null', not {when!r}")
    trigger, mark = _fill_names(table, column)
    function = in_schema_of(table, trigger)
    flag = _flag(mark)
    qc = quote(column)
    on_new = f"(SELECT {expression} FROM (SELECT (NEW).*) AS ec_row)"
    on_old = f"(SELECT {expression} FROM (SELECT (OLD).*) AS ec_row)"
    fill = "omitted" if when == "omitted" else f"NEW.{qc} IS NULL"
    also_null = (
        ""
        if when == "omitted"
        else f"\n    ELSIF NEW.{qc} IS NULL THEN\n        NEW.{qc} := {on_new};"
    )
    body = f"""
#variable_conflict use_column
DECLARE
    omitted boolean := current_setting('{flag}', true) = statement_timestamp()::text;
BEGIN
    IF omitted THEN
        PERFORM set_config('{flag}', '', true);
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF {fill} THEN
            NEW.{qc} := {on_new};
        END IF;
    ELSIF omitted THEN  -- SET {qc} = DEFAULT
        NEW.{qc} := {on_new};
    ELSIF NEW.{qc} IS NOT DISTINCT FROM OLD.{qc}
          AND OLD.{qc} IS NOT DISTINCT FROM {on_old} THEN
        NEW.{qc} := {on_new};{also_null}
    END IF;
    RETURN NEW;
END
"""
    marking = [
        f"CREATE OR REPLACE FUNCTION {quote(mark)}() RETURNS {quote(table)}.{qc}%TYPE "
        f"LANGUAGE plpgsql AS $ec$ BEGIN PERFORM set_config('{flag}', "
        "statement_timestamp()::text, true); RETURN NULL; END $ec$",
        f"ALTER TABLE {quote(table)} ALTER COLUMN {qc} SET DEFAULT {quote(mark)}()",
    ]
    return (marking if when == "omitted" else []) + [
        f"CREATE OR REPLACE FUNCTION {quote(function)}() RETURNS trigger LANGUAGE plpgsql "
        f"SET search_path FROM CURRENT AS $ec${body}$ec$",
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"CREATE TRIGGER {quote(trigger)} BEFORE INSERT OR UPDATE ON {quote(table)} "
        f"FOR EACH ROW EXECUTE FUNCTION {quote(function)}()",
    ]


def drop_fill_trigger_sql(table: str, column: str) -> list[str]:
    trigger, mark = _fill_names(table, column)
    return [
        f"DROP TRIGGER IF EXISTS {quote(trigger)} ON {quote(table)}",
        f"DROP FUNCTION IF EXISTS {quote(in_schema_of(table, trigger))}()",
        f"DROP FUNCTION IF EXISTS {quote(mark)}() CASCADE",
    ]


def _reverse_sync(op):
    return "drop_sync_trigger", {"table_name": op.table_name, "old": op.old, "new": op.new}


@operation(reverse=_reverse_sync)
def create_sync_trigger(
    operations, table_name, old, new, forward=None, backward=None, lenient=False
) -> None:
    """Keep ``old`` and ``new`` equal on every INSERT and UPDATE, from either app version.

    ``forward`` computes new from old and ``backward`` old from new, as SQL naming the
    source column (``"payload::jsonb"``); None copies the value as is. ``lenient``: a
    value ``backward`` cannot convert leaves ``old`` NULL rather than failing the write.
    """
    default, identity = None, False
    if online(operations):
        bind = operations.get_bind()
        state = probes.column_state(bind, table_name, old)
        if state is not None and not is_marker(state[1]):
            default = state[1]
        identity = bool(probes.identity_of(bind, table_name, new))
    statements = sync_trigger_sql(table_name, old, new, forward, backward, lenient, default)
    if identity:  # an identity takes no default: its values are always the new column's own
        statements = [s for s in statements if " SET DEFAULT " not in s]
    for statement in statements:
        operations.execute(statement)


@operation
def drop_sync_trigger(operations, table_name, old, new) -> None:
    """Drop the trigger and functions ``create_sync_trigger`` made (and the marker default)."""
    online(operations)
    for statement in drop_sync_trigger_sql(table_name, old, new):
        operations.execute(statement)


@operation
def create_fill_trigger(operations, table_name, column, expression, when="null") -> None:
    """Compute ``column`` from ``expression`` (SQL over the row's columns) for the rows the
    old version writes: ``when="omitted"``, those that leave it out (add-column);
    ``when="null"``, any NULL (set-not-null)."""
    online(operations)
    for statement in fill_trigger_sql(table_name, column, expression, when):
        operations.execute(statement)


@operation
def drop_fill_trigger(operations, table_name, column) -> None:
    """Drop the trigger and functions ``create_fill_trigger`` made."""
    online(operations)
    for statement in drop_fill_trigger_sql(table_name, column):
        operations.execute(statement)
