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
import re
from dataclasses import dataclass

from expandcontract.catalog.seeding import CHECKS, COLUMNS, FOREIGN_KEYS, NOT_VALID

# far above the keys a table usually holds, so seeded keys do not collide with them
_COUNTER = itertools.count(1_000_000_001)


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
    if t.startswith("numeric") and column.typmod > 4:  # numeric(p, s): p - s digits
        precision, scale = (column.typmod - 4) >> 16, (column.typmod - 4) & 0xFFFF
        return n % 10 ** max(precision - scale, 1)
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
                check = getattr(getattr(err, "diag", None), "constraint_name", None)
                if getattr(err, "sqlstate", None) == "23514" and check:  # a CHECK refused it
                    error = _satisfy(cursor, table, columns, references, check) or ""
                    if not error:
                        break
        else:
            return error
    return None


def _satisfy(cursor, table: str, columns: list[Column], references, check: str) -> str | None:
    """Insert one row that every CHECK accepts: for the columns the refusing CHECK names,
    values are tried from the constants in its expression (and their neighbours, strings
    of the lengths it names, LIKE patterns filled in), the database judging each row;
    a row refused by another CHECK then goes the same way for that one. None when a row
    went in; else what to tell the user."""
    fixed: dict = {}
    for _ in range(5):  # one round per CHECK in the way
        definition = _check_definition(cursor, table, check)
        named = [c for c in columns if _names(definition, c.name)]
        pools = [_candidates(c, definition) for c in named]
        refused_by = check
        for combo in itertools.islice(itertools.product(*pools), 200):
            attempt = {**fixed, **dict(zip((c.name for c in named), combo, strict=True))}
            statement, values, failure = _statement(
                cursor, table, columns, references, 1, False, fixed=attempt
            )
            if failure:
                return failure
            try:
                cursor.execute(statement, values)
                return None
            except Exception as err:
                if getattr(err, "sqlstate", None) != "23514":
                    return str(err).splitlines()[0]
                refused_by = err.diag.constraint_name or check
                if refused_by != check:  # this CHECK is satisfied; another is not
                    fixed = attempt
                    break
        if refused_by == check:
            return (
                f"CHECK {check} ({definition.removeprefix('CHECK ')}) refused every row "
                "tried; give rows that satisfy it in the revision's expandcontract_seed"
            )
        check = refused_by
    return f"CHECK {check} refused every row tried; give rows in expandcontract_seed"


def _check_definition(cursor, table: str, check: str) -> str:
    schema, _, name = table.partition(".")
    cursor.execute(CHECKS, (schema, name, check))
    found = cursor.fetchone()
    return found[1] if found else ""


def _names(definition: str, column: str) -> bool:
    """Whether the CHECK's text names the column (bare or quoted)."""
    bare = rf'(?<![\w"]){re.escape(column)}(?![\w"])'
    return bool(re.search(rf'{bare}|"{re.escape(column)}"', definition))


def _candidates(column: Column, definition: str) -> list:
    """Values worth trying for ``column`` under a CHECK reading ``definition``."""
    n = next(_COUNTER)
    pool: list = []
    numeric = column.category == "N"
    for text in re.findall(r"'((?:[^']|'')*)'", definition):
        text = text.replace("''", "'")
        if not numeric and ("%" in text or "_" in text):  # a LIKE pattern, filled in
            pool.append(text.replace("%", f"s{n}").replace("_", "x"))
        if numeric:
            try:
                pool.append(int(float(text)))
            except ValueError:
                continue
        else:
            pool.append(text)
    if numeric:
        for number in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?", definition):
            k = float(number)
            k = int(k) if k == int(k) else k
            pool += [k, k + 1, k - 1, k * 2 + 1]
    else:
        for size in re.findall(
            r"length\((?:[^()]|\([^()]*\))*\)\s*(?:=|<=|>=|<|>)\s*\(?(\d+)", definition
        ):
            size = int(size)
            pool += ["x" * size, "x" * max(size - 1, 1), "x" * (size + 1)]
    default = value_for(column, n)
    pool += [default, value_for(column, n + 1000)]
    if column.not_null is False:
        pool.append(None)
    unique: list = []
    for value in pool:
        if value not in unique:  # 0 == False: harmless, one of them is tried
            unique.append(value)
    return unique[:12]


def _statement(
    cursor, table, columns, references, rows: int, leave_nullable_null: bool, fixed=None
):
    """The INSERT of ``rows`` rows; ``fixed``: values chosen for some columns."""
    from psycopg import sql

    fixed = fixed or {}

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
        own = {  # this row's own values first: a self-reference may point at them
            c.name: fixed[c.name] if c.name in fixed else value_for(c, next(_COUNTER))
            for c in chosen
            if c.name not in references or c.name in fixed
        }
        for column in chosen:
            if column.name in own:
                value = own[column.name]
            else:
                ref_table, ref_column = references[column.name]
                schema, _, name = ref_table.partition(".")
                cursor.execute(  # never prepared: a change of type would change its result
                    sql.SQL("SELECT {} FROM {} ORDER BY random() LIMIT 1").format(
                        sql.Identifier(ref_column), sql.Identifier(schema, name)
                    ),
                    prepare=False,
                )
                row = cursor.fetchone()
                value = row[0] if row else None
                if value is None and ref_table == table and ref_column in own:
                    value = own[ref_column]  # the first row of a self-reference: itself
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


def conform(connection, tables: list[str]) -> list[str]:
    """Fix the seeded rows of ``tables`` that a constraint added NOT VALID since they were
    seeded rejects: the VALIDATE of a later revision would fail on them, as it would on
    such rows in production, and they say nothing about whether the change reverses. A
    foreign key's columns are set to NULL where they may be, else the rows are deleted.
    Returns a note for each constraint that changed any row."""
    from psycopg import sql

    notes = []
    with connection.cursor() as cursor:
        cursor.execute(NOT_VALID, {"tables": tables})
        for (
            schema,
            name,
            constraint,
            kind,
            check,
            ref_schema,
            ref_name,
            cols,
            ref_cols,
        ) in cursor.fetchall():
            table = sql.Identifier(schema, name)
            if kind == "c":
                violates = sql.SQL("NOT COALESCE(({}), true)").format(sql.SQL(check))
                fixes = []
            else:
                pairs = [
                    sql.SQL("r.{} = t.{}").format(sql.Identifier(rc), sql.Identifier(c))
                    for c, rc in zip(cols, ref_cols, strict=True)
                ]
                present = [sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in cols]
                violates = sql.SQL("{} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})").format(
                    sql.SQL(" AND ").join(present),
                    sql.Identifier(ref_schema, ref_name),
                    sql.SQL(" AND ").join(pairs),
                )
                cleared = sql.SQL(", ").join(
                    sql.SQL("{} = NULL").format(sql.Identifier(c)) for c in cols
                )
                fixes = [
                    (
                        sql.SQL("UPDATE {} t SET {} WHERE {}"),
                        cleared,
                        f"set {', '.join(cols)} to NULL in",
                    )
                ]
            fixes.append((sql.SQL("DELETE FROM {} t WHERE {}"), None, "removed"))
            for statement, assignment, done in fixes:
                parts = (
                    [table, assignment, violates] if assignment is not None else [table, violates]
                )
                try:
                    with connection.transaction():
                        cursor.execute(statement.format(*parts))
                        count = cursor.rowcount
                except Exception:  # NOT NULL columns, or rows others still reference
                    continue
                if count:
                    notes.append(
                        f"{done} {count} seeded row(s) of {schema}.{name} that {constraint}, "
                        "added NOT VALID, rejects: a VALIDATE fails on such rows in production too"
                    )
                break
    return notes
