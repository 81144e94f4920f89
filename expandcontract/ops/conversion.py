"""Proving a conversion before anything depends on it: it exists, it means the same in every
session, real rows convert, and they survive the way back (or the loss is declared).

:func:`problems` is what ``new change-type`` asks the live database, and what the
expand phase asks again before it changes anything (``op.check_conversion``).
:func:`first_failure` walks every row, for a rollback that must not start when a
value cannot go back. Every probe runs in a savepoint that is rolled back: a
temporary table of the source type stands in for the column, so PostgreSQL itself
says whether a cast exists and whether the expression is immutable (an index
expression must be).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from expandcontract.catalog import probes
from expandcontract.ops.registry import online, operation
from expandcontract.schema.names import quote

SAMPLE = 1000


class ConversionError(Exception):
    """A conversion that cannot be used as it is; the message says why and what to do."""


@dataclass(frozen=True)
class Conversion:
    table: str
    source: str  # the column converted from
    target_type: str  # the type converted to (SQL)
    expression: str | None = None  # SQL naming ``source``; None: an assignment as is
    back: str | None = None  # SQL naming ``target`` for the way back (checked when given)
    target: str | None = None  # the column name ``back`` names


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", err)).strip().splitlines()[0]


def _value_sql(conversion: Conversion, source_sql: str) -> str:
    """The converted value of ``source_sql`` (a column of a subquery named as the source)."""
    if conversion.expression is None:
        return source_sql
    return conversion.expression


def problems(bind, conversion: Conversion, lossy: bool = False) -> list[str]:
    """Sentences against the conversion; none when it can be used. ``lossy``: values that
    do not survive the way back are declared, not a problem."""
    source_type = probes.column_type(bind, conversion.table, conversion.source)
    if source_type is None:
        return [f"column {conversion.table}.{conversion.source} does not exist"]
    src = quote(conversion.source)
    found: list[str] = []
    savepoint = bind.begin_nested()
    try:
        bind.execute(text(f"CREATE TEMP TABLE ec_probe_source ({src} {source_type})"))
        # the target column under its own name: PostgreSQL's messages name it
        target = quote(conversion.target or "converted")
        bind.execute(text(f"CREATE TEMP TABLE ec_probe_target ({target} {conversion.target_type})"))
        expression = _value_sql(conversion, src)
        what = f"converting {conversion.table}.{conversion.source} ({source_type}) to " + (
            f"{conversion.target_type} with {conversion.expression!r}"
            if conversion.expression
            else conversion.target_type
        )
        # a cast that exists, as the backfill's UPDATE assigns it (no text fallback)
        try:
            with bind.begin_nested():
                bind.execute(
                    text(f"INSERT INTO ec_probe_target SELECT {expression} FROM ec_probe_source")
                )
        except Exception as err:
            return [f"{what}: {_first_line(err)}"]
        # the same result in every session: the trigger runs in the applications'
        # sessions (their TimeZone, DateStyle), the backfill in ours
        try:
            with bind.begin_nested():
                bind.execute(
                    text(
                        "CREATE INDEX ON ec_probe_source "
                        f"((CAST(({expression}) AS {conversion.target_type})))"
                    )
                )
        except Exception as err:
            if getattr(getattr(err, "orig", None), "sqlstate", None) != "42P17":
                return [f"{what}: {_first_line(err)}"]
            # not immutable: stable functions are common (an enum's text, arrays); what
            # matters is whether a value converts alike under other sessions' settings
            differs = _depends_on_session(bind, conversion, source_type, expression)
            if differs:
                found.append(
                    f"{what}: its result depends on the session's settings ({differs}), so "
                    "the applications' writes and the backfill would convert alike values "
                    "differently; pin them in --using/--reverse (for a time stamp: "
                    f"\"{conversion.source} AT TIME ZONE 'UTC'\")"
                )
        found += _sample(bind, conversion, source_type, expression, lossy)
    finally:
        savepoint.rollback()
    return found


# two sessions as unlike as applications' can be: every setting a conversion may read
_SESSIONS = (
    {
        "TimeZone": "UTC",
        "DateStyle": "ISO, MDY",
        "IntervalStyle": "postgres",
        "extra_float_digits": "1",
        "lc_monetary": "C",
    },
    {
        "TimeZone": "Asia/Kathmandu",
        "DateStyle": "SQL, DMY",
        "IntervalStyle": "sql_standard",
        "extra_float_digits": "-3",
        "lc_monetary": "C",
    },
)
# values of the types whose text depends on those settings, beside the real rows
_PROBES = {
    "text": ("2026-01-02", "01/02/2026", "2026-01-02 03:04:05", "1.5", "P1D", "$1.50"),
    "character varying": ("2026-01-02", "01/02/2026", "2026-01-02 03:04:05"),
    "timestamp without time zone": ("2026-01-02 03:04:05", "2026-07-01 12:00:00"),
    "date": ("2026-01-02",),
    "interval": ("1 day 02:00:00",),
    "double precision": ("0.1", "1e300"),
    "real": ("0.1",),
}


def _depends_on_session(bind, conversion: Conversion, source_type: str, expression: str) -> str:
    """The settings a conversion's results change with, on the sampled rows and on probe
    values of its type, as a phrase; "" when they convert alike in both sessions."""
    table, src = quote(conversion.table), quote(conversion.source)
    converted = f"CAST(CAST(({expression}) AS {conversion.target_type}) AS text)"
    rows = (
        f"SELECT array_agg({converted} ORDER BY {src}::text) FROM "
        f"(SELECT {src} FROM {table} WHERE {src} IS NOT NULL LIMIT {SAMPLE}) s"
    )
    one = f"SELECT {converted} FROM (SELECT CAST(:v AS {source_type}) AS {src}) s"
    probe_values = _PROBES.get(source_type.split("(")[0].strip(), ())
    outcomes = []
    for session in _SESSIONS:
        seen = []
        for sql, params in [(rows, {}), *((one, {"v": v}) for v in probe_values)]:
            try:
                with bind.begin_nested():
                    for name, value in session.items():
                        bind.execute(
                            text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value}
                        )
                    seen.append(bind.execute(text(sql), params).scalar())
            except Exception as err:  # an error is an outcome too
                seen.append(("error", _first_line(err)))
        outcomes.append(seen)
    if outcomes[0] == outcomes[1]:
        return ""
    return "TimeZone, DateStyle, ..."


def _sample(bind, conversion: Conversion, source_type: str, expression: str, lossy: bool):
    """Real rows: they convert, and (with a way back) they come back equal."""
    table, src = quote(conversion.table), quote(conversion.source)
    rows = f"SELECT {src} FROM {table} WHERE {src} IS NOT NULL LIMIT {SAMPLE}"
    try:
        with bind.begin_nested():
            bind.execute(text(f"INSERT INTO ec_probe_target SELECT {expression} FROM ({rows}) s"))
    except Exception as err:
        bad = _failing_value(bind, conversion, source_type, expression, rows)
        return [
            f"a row of {conversion.table} does not convert ({_first_line(err)})"
            + (f": {conversion.source} = {bad}" if bad is not None else "")
        ]
    if conversion.back is None or conversion.target is None or lossy:
        return []
    there = f"(SELECT {expression} AS {quote(conversion.target)} FROM (SELECT s.{src}) x)"
    back = f"(SELECT CAST(({conversion.back}) AS {source_type}) FROM {there} y)"
    try:
        with bind.begin_nested():
            lost = bind.execute(
                text(
                    f"SELECT count(*), min(s.{src}::text) FROM ({rows}) s "
                    f"WHERE {back} IS DISTINCT FROM s.{src}"
                )
            ).one()
    except Exception as err:
        return [f"the way back from {conversion.target_type} fails: {_first_line(err)}"]
    if lost[0]:
        return [
            f"converting {conversion.table}.{conversion.source} to {conversion.target_type} "
            f"and back changes {lost[0]} of the sampled values (e.g. {lost[1]}); give a "
            "--reverse that restores them, or declare the loss with --lossy"
        ]
    return []


def _failing_value(
    bind, conversion: Conversion, source_type: str, expression: str, rows: str
) -> str | None:
    """The first sampled value that does not convert, as text."""
    src = quote(conversion.source)
    for (value,) in bind.execute(text(f"SELECT {src}::text FROM ({rows}) s")).fetchall():
        try:
            with bind.begin_nested():
                bind.execute(
                    text(
                        f"INSERT INTO ec_probe_target SELECT {expression} FROM "
                        f"(SELECT CAST(:v AS {source_type}) AS {src}) s"
                    ),
                    {"v": value},
                )
        except Exception:
            return value
    return None


def first_failure(
    bind, conversion: Conversion, alias: str | None = None, batch: int = 10_000
) -> tuple | None:
    """Every row, in key order: ``(key, value, error)`` of the first whose value does not
    convert, or None. Read only, in batches of ``batch`` keys. ``alias``: the name the
    expression calls the source column by (the way back names the new column, which a
    swap has renamed)."""
    from expandcontract.ops.backfill import key_columns

    keys = key_columns(bind, conversion.table)
    cols = ", ".join(quote(k) for k, _ in keys)
    src = quote(conversion.source)
    named = quote(alias or conversion.source)
    expression = _value_sql(conversion, named)
    # the table, its source column also under the name the expression uses
    table = (
        f"(SELECT *, {src} AS {named} FROM {quote(conversion.table)}) AS ec_rows"
        if (alias and alias != conversion.source)
        else quote(conversion.table)
    )
    last = None
    while True:
        after = (
            f"WHERE ({cols}) > ({', '.join(f':k{i}' for i in range(len(keys)))})" if last else ""
        )
        params = {f"k{i}": v for i, v in enumerate(last or [])}
        chunk = bind.execute(
            text(f"SELECT {cols}, {src} FROM {table} {after} ORDER BY {cols} LIMIT {batch}"),
            params,
        ).fetchall()
        if not chunk:
            return None
        savepoint = bind.begin_nested()
        try:
            bind.execute(text(f"CREATE TEMP TABLE ec_probe_target (v {conversion.target_type})"))
            try:
                with bind.begin_nested():
                    bind.execute(
                        text(
                            f"INSERT INTO ec_probe_target SELECT {expression} FROM {table} "
                            f"{after}{' AND' if after else 'WHERE'} ({cols}) <= "
                            f"({', '.join(f':u{i}' for i in range(len(keys)))})"
                        ),
                        {**params, **{f"u{i}": v for i, v in enumerate(chunk[-1][: len(keys)])}},
                    )
            except Exception:
                for row in chunk:
                    try:
                        with bind.begin_nested():
                            bind.execute(
                                text(
                                    f"INSERT INTO ec_probe_target SELECT {expression} FROM "
                                    f"{table} WHERE ({cols}) = "
                                    f"({', '.join(f':r{i}' for i in range(len(keys)))})"
                                ),
                                {f"r{i}": v for i, v in enumerate(row[: len(keys)])},
                            )
                    except Exception as err:
                        key = row[: len(keys)]
                        return (key[0] if len(key) == 1 else tuple(key), row[-1], _first_line(err))
        finally:
            savepoint.rollback()
        last = list(chunk[-1][: len(keys)])


@operation
def check_conversion(
    operations,
    table_name,
    source,
    target_type,
    expression=None,
    back=None,
    target=None,
    lossy=False,
    every_row=False,
    alias=None,
    restoring=None,
) -> None:
    """Refuse, before anything is changed, a conversion PostgreSQL cannot make, one whose
    result depends on the session, one a sample of real rows does not survive (unless
    ``lossy``), or (``every_row``, before a rollback) any row that does not convert.
    ``restoring``: a dropped column about to come back, whose recorded type is the
    target (``target_type`` None); ``alias``: the name ``expression`` gives ``source``."""
    if not online(operations):
        return
    bind = operations.get_bind()
    if target_type is None:
        from expandcontract.ops.column import recorded_type

        target_type = recorded_type(bind, table_name, restoring)
        if target_type is None:
            return  # no record: restore_column says so, with what to do
    if alias and alias != source and restoring:
        from expandcontract.catalog.probes import has_column

        if has_column(bind, table_name, alias):
            # a rerun: the interrupted rollback had given the new column its name back
            source, alias = alias, None
    conversion = Conversion(table_name, source, target_type, expression, back, target)
    if every_row:
        failed = first_failure(bind, conversion, alias)
        if failed is not None:
            key, value, error = failed
            raise ConversionError(
                f"{table_name}.{source} = {value!r} (key {key!r}) cannot be converted to "
                f"{target_type}: {error}. Nothing was changed; fix or delete that row (and any "
                "like it), then run the same command again"
            )
        return
    found = problems(bind, conversion, lossy)
    if found:
        raise ConversionError("; ".join(found) + ". Nothing was changed.")


@operation
def check_refilled(operations, table_name, column, source) -> None:
    """After a lenient refill of ``column`` from ``source``: refuse, naming the rows, when
    a value of ``source`` did not convert (``column`` NULL where ``source`` is not)."""
    if not online(operations):
        return
    from expandcontract.ops.backfill import key_columns

    bind = operations.get_bind()
    keys = ", ".join(quote(k) for k, _ in key_columns(bind, table_name))
    rows = bind.execute(
        text(
            f"SELECT {keys}, {quote(source)}::text FROM {quote(table_name)} "
            f"WHERE {quote(column)} IS NULL AND {quote(source)} IS NOT NULL LIMIT 5"
        )
    ).fetchall()
    if rows:
        shown = "; ".join(f"key {tuple(row[:-1])!r}: {row[-1]!r}" for row in rows)
        raise ConversionError(
            f"{table_name}.{source} holds values written meanwhile that cannot be converted "
            f"back into {column} ({shown}): fix them, then run the same command again; the "
            "running version is not affected"
        )
