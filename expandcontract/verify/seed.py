"""Seed every table with a few rows made from its column types, before each upgrade.

Values respect NOT NULL, defaults and identity (left to the database), unique
keys (every value is new), foreign keys (a row of the referenced table, seeded
first) and, where they can, CHECK constraints (a rejected row is retried with
its nullable columns left NULL). A table that cannot be filled is reported,
never skipped in silence.
"""

from __future__ import annotations

import datetime
import itertools
import json
from dataclasses import dataclass

# far above the keys a table usually holds, so seeded keys do not collide with them
_COUNTER = itertools.count(1_000_000_001)

# Tables are named ``schema.name`` as the snapshot names them: never through ::regclass,
# whose text form comes back quoted ("user", "OrderNotes") and whose input folds case.
COLUMNS = """
SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' AS filled_by_db,
       a.attgenerated <> '' AS generated,
       t.typtype = 'e' AS is_enum,
       (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid
        ORDER BY e.enumsortorder LIMIT 1) AS first_label,
       a.atttypmod, t.typcategory,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique
               AND a.attnum = ANY (i.indkey)) AS is_unique,
       a.attidentity = 'a' AS identity_always
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname || '.' || c.relname = ANY (%(tables)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

FOREIGN_KEYS = """
SELECT n.nspname || '.' || c.relname, a.attname, fn.nspname || '.' || fc.relname, fa.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class fc ON fc.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
JOIN LATERAL unnest(con.conkey, con.confkey) AS k(col, fcol) ON true
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fcol
WHERE con.contype = 'f' AND n.nspname || '.' || c.relname = ANY (%(tables)s)
"""


@dataclass
class Column:
    name: str
    type: str
    not_null: bool
    filled_by_db: bool
    generated: bool
    is_enum: bool
    first_label: str | None
    typmod: int
    category: str
    is_unique: bool
    identity_always: bool


def value_for(column: Column, n: int):
    """A value of the column's type, distinct for every ``n``; None when unknown."""
    t = column.type
    if column.is_enum:
        return column.first_label
    if t.endswith("[]"):
        return "{}"
    if t == "smallint":
        return n % 32000
    if t == "integer":
        return n % 2_000_000_000
    if t in ("bigint", "oid") or t.startswith(("numeric", "real", "double")):
        return n
    if t.startswith(("character varying", "character", "text", "citext", "name")):
        limit = column.typmod - 4 if column.typmod > 4 else None
        text = f"s{n}"
        return text[-limit:] if limit else text
    if t == "boolean":
        return n % 2 == 0
    if t == "uuid":
        return f"00000000-0000-4000-8000-{n:012d}"
    if t in ("json", "jsonb"):
        return json.dumps({"n": n})
    if t == "date":
        return datetime.date(2020, 1, 1) + datetime.timedelta(days=n % 3000)
    if t.startswith("timestamp"):
        return datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(minutes=n)
    if t.startswith("time"):
        return datetime.time(n % 24, n % 60)
    if t == "interval":
        return f"{n} seconds"
    if t == "bytea":
        return n.to_bytes(8, "big")
    if t in ("inet", "cidr"):
        return f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    return None


def _order(tables: list[str], references: dict[str, dict]) -> list[str]:
    """Referenced tables first (a cycle keeps its given order)."""
    names = set(tables)
    deps = {t: {ref for ref, _ in references.get(t, {}).values()} & names - {t} for t in tables}
    ordered: list[str] = []
    while deps:
        ready = [t for t, d in deps.items() if not d - set(ordered)] or [next(iter(deps))]
        for table in ready:
            ordered.append(table)
            deps.pop(table)
    return ordered


def seed(connection, tables: list[str], rows: int = 2) -> list[str]:
    """Insert ``rows`` rows into each table; returns notes on tables it could not fill."""
    notes: list[str] = []
    if not tables or rows <= 0:
        return notes
    with connection.cursor() as cursor:
        cursor.execute(COLUMNS, {"tables": tables})
        columns: dict[str, list[Column]] = {}
        for row in cursor.fetchall():
            columns.setdefault(row[0], []).append(Column(*row[1:]))
        cursor.execute(FOREIGN_KEYS, {"tables": tables})
        references: dict[str, dict] = {}
        for table, column, ref_table, ref_column in cursor.fetchall():
            references.setdefault(table, {})[column] = (ref_table, ref_column)
        for table in _order(tables, references):
            failure = _insert(
                connection, cursor, table, columns.get(table, []), references.get(table, {}), rows
            )
            if failure:
                notes.append(f"could not seed {table}: {failure}")
    return notes


def _insert(
    connection, cursor, table: str, columns: list[Column], references, rows: int
) -> str | None:
    """All rows in one statement; when refused, row by row with nullable columns left NULL."""
    statement, values, failure = _statement(cursor, table, columns, references, rows, False)
    if failure:
        return failure
    try:
        cursor.execute(statement, values)
        return None
    except Exception as err:  # a CHECK or another constraint refused it: try the slow way
        error = str(err).splitlines()[0]
    for _ in range(rows):
        for leave_nullable_null in (False, True):
            statement, values, failure = _statement(
                cursor, table, columns, references, 1, leave_nullable_null
            )
            if failure:
                return failure
            try:
                cursor.execute(statement, values)
                break
            except Exception as err:
                error = str(err).splitlines()[0]
        else:
            return error
    return None


def _statement(cursor, table, columns, references, rows: int, leave_nullable_null: bool):
    from psycopg import sql

    names: list[str] = []
    overriding = False
    chosen = []
    for column in columns:
        # defaults fill the rest; a unique key (a serial id) gets a fresh value of ours, as
        # its sequence may lag behind rows inserted with explicit keys
        if column.generated or (
            column.filled_by_db and not column.is_unique and column.name not in references
        ):
            continue
        if leave_nullable_null and not column.not_null and column.name not in references:
            continue
        overriding = overriding or column.identity_always
        names.append(column.name)
        chosen.append(column)
    values: list = []
    for _ in range(rows):
        for column in chosen:
            if column.name in references:
                ref_table, ref_column = references[column.name]
                schema, _, name = ref_table.partition(".")
                cursor.execute(
                    sql.SQL("SELECT {} FROM {} ORDER BY random() LIMIT 1").format(
                        sql.Identifier(ref_column), sql.Identifier(schema, name)
                    )
                )
                row = cursor.fetchone()
                value = row[0] if row else None
            else:
                value = value_for(column, next(_COUNTER))
            if value is None and column.not_null:
                return None, None, f"no value for NOT NULL column {column.name} ({column.type})"
            values.append(value)
    schema, _, name = table.partition(".")
    target = sql.Identifier(schema, name)
    if not names:
        return sql.SQL("INSERT INTO {} DEFAULT VALUES").format(target), [], None
    row_sql = sql.SQL("({})").format(sql.SQL(", ").join(sql.Placeholder() * len(names)))
    statement = sql.SQL("INSERT INTO {} ({}) {} VALUES {}").format(
        target,
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL("OVERRIDING SYSTEM VALUE" if overriding else ""),
        sql.SQL(", ").join([row_sql] * rows),
    )
    return statement, values, None
