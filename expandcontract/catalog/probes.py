"""Small questions to the live catalog: does it exist, of what type, valid, keyed how.

Every function takes a SQLAlchemy connection and names relations as we write them
(``billing.Orders``): they are quoted before ``to_regclass`` reads them, so mixed
case and odd names survive. Nothing here changes the database.
"""

from __future__ import annotations

from sqlalchemy import text

from expandcontract.schema.names import quote


def _scalar(bind, sql: str, **params):
    return bind.execute(text(sql), params).scalar()


def server_version(bind) -> int:
    """The server's ``server_version_num`` (150004 for 15.4)."""
    return int(_scalar(bind, "SELECT current_setting('server_version_num')"))


def row_security(bind, table: str) -> bool:
    """Whether row-level security is enabled on ``table``."""
    return bool(
        _scalar(
            bind, "SELECT relrowsecurity FROM pg_class WHERE oid = to_regclass(:t)", t=quote(table)
        )
    )


def relation_exists(bind, name: str) -> bool:
    return _scalar(bind, "SELECT to_regclass(:t) IS NOT NULL", t=quote(name))


def has_column(bind, table: str, column: str) -> bool:
    return bool(
        _scalar(
            bind,
            "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = :c "
            "AND attnum > 0 AND NOT attisdropped",
            t=quote(table),
            c=column,
        )
    )


def column_type(bind, table: str, column: str) -> str | None:
    """The column's type as PostgreSQL spells it (``numeric(10,2)``); None: no such column."""
    return _scalar(
        bind,
        "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(:t) AND attname = :c AND attnum > 0 AND NOT attisdropped",
        t=quote(table),
        c=column,
    )


def column_state(bind, table: str, column: str):
    """``(not_null, default_sql)`` of the column, or None when it is not there."""
    return bind.execute(
        text(
            "SELECT a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = to_regclass(:t) AND a.attname = :c AND a.attnum > 0 "
            "AND NOT a.attisdropped"
        ),
        {"t": quote(table), "c": column},
    ).fetchone()


def constraint_exists(bind, table: str, name: str) -> bool:
    return bool(
        _scalar(
            bind,
            "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:t) AND conname = :n",
            t=quote(table),
            n=name,
        )
    )


def constraint_validated(bind, table: str, name: str) -> bool | None:
    """True, False (NOT VALID) or None (no such constraint on the table)."""
    return _scalar(
        bind,
        "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(:t) AND conname = :n",
        t=quote(table),
        n=name,
    )


def constraint_on(
    bind, table: str, name: str, our_table: str, column: str, referenced: bool = False
) -> bool:
    """Does constraint ``name`` of ``table`` use (or, ``referenced``, point at) ``column``
    of ``our_table``?"""
    keys = "confkey" if referenced else "conkey"
    relation = "confrelid" if referenced else "conrelid"
    return bool(
        _scalar(
            bind,
            f"SELECT 1 FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.{relation} "
            f"AND a.attnum = ANY (c.{keys}) WHERE c.conrelid = to_regclass(:t) "
            f"AND c.conname = :n AND c.{relation} = to_regclass(:ours) AND a.attname = :col",
            t=quote(table),
            n=name,
            ours=quote(our_table),
            col=column,
        )
    )


def index_valid(bind, table: str, name: str) -> bool | None:
    """Index ``name`` of ``table``: True, False (left INVALID by a failed build) or None."""
    return _scalar(
        bind,
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(:t) AND c.relname = :n",
        t=quote(table),
        n=name,
    )


def replica_identity_index(bind, table: str) -> str | None:
    """The name of the index ``table``'s REPLICA IDENTITY USING INDEX names, or None."""
    return _scalar(
        bind,
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = to_regclass(:t) AND i.indisreplident",
        t=quote(table),
    )


def replica_identity_of(bind, index: str) -> str | None:
    """The table (as ``regclass`` spells it) whose replica identity index ``index`` (a
    name, maybe schema-qualified) is, or None."""
    return _scalar(
        bind,
        "SELECT indrelid::regclass::text FROM pg_index "
        "WHERE indexrelid = to_regclass(:n) AND indisreplident",
        n=quote(index),
    )


def index_valid_named(bind, index: str) -> bool | None:
    """The same, for an index named on its own (``schema.name``)."""
    return _scalar(
        bind,
        "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:n)",
        n=quote(index),
    )


def index_on(bind, table: str, name: str, column: str) -> bool:
    """Does index ``name`` of ``table`` use ``column`` (as a key, or in an expression or
    its predicate)?"""
    return bool(
        _scalar(
            bind,
            "SELECT 1 FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid "
            "WHERE x.indrelid = to_regclass(:t) AND i.relname = :n AND a.attname = :col "
            "AND (a.attnum = ANY (x.indkey::int2[]) OR EXISTS (SELECT 1 FROM pg_depend d "
            "WHERE d.classid = 'pg_class'::regclass AND d.objid = i.oid "
            "AND d.refobjid = x.indrelid AND d.refobjsubid = a.attnum))",
            t=quote(table),
            n=name,
            col=column,
        )
    )


def walk_keys(bind, table: str) -> list[tuple[str, str]] | None:
    """The columns and types a table can be walked by in key order: its primary key, else
    a unique NOT NULL key (plain columns, no predicate). None: the table has neither."""
    rows = bind.execute(
        text(
            """
            SELECT i.indisprimary, i.indexrelid, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, array_position(i.indkey::int2[], a.attnum) AS pos
            FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = to_regclass(:t) AND i.indisunique AND i.indisvalid
              AND i.indpred IS NULL AND i.indexprs IS NULL
            ORDER BY i.indisprimary DESC, i.indnatts, i.indexrelid, pos
            """
        ),
        {"t": quote(table)},
    ).fetchall()
    by_index: dict[int, list] = {}
    for primary, index, name, type_, notnull, _ in rows:
        by_index.setdefault(index, []).append((primary, name, type_, notnull))
    for columns in by_index.values():
        if columns[0][0] or all(c[3] for c in columns):
            return [(c[1], c[2]) for c in columns]
    return None


def referencing_keys(bind, table: str) -> list[tuple[str, str]]:
    """Foreign keys of *other* tables that point at ``table``: ``(name, table)``."""
    return [
        tuple(row)
        for row in bind.execute(
            text(
                "SELECT con.conname, con.conrelid::regclass::text FROM pg_constraint con "
                "WHERE con.contype = 'f' AND con.confrelid = to_regclass(:t) "
                "AND con.conrelid <> con.confrelid ORDER BY 1"
            ),
            {"t": quote(table)},
        )
    ]


def outgoing_keys(bind, table: str) -> list[tuple[str, str]]:
    """``table``'s own foreign keys: ``(name, definition)``."""
    return [
        tuple(row)
        for row in bind.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = to_regclass(:t) AND contype = 'f' ORDER BY conname"
            ),
            {"t": quote(table)},
        )
    ]


def table_grants(bind, relation: str) -> list[tuple[str, str, bool]]:
    """Grants on the relation to roles other than its owner: ``(grantee, privilege,
    grantable)``, the grantee quoted (or PUBLIC)."""
    return bind.execute(
        text(
            """
            SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END,
                   x.privilege_type, x.is_grantable
            FROM pg_class c, aclexplode(c.relacl) x
            LEFT JOIN pg_roles r ON r.oid = x.grantee
            WHERE c.oid = to_regclass(:t) AND x.grantee <> c.relowner
            ORDER BY 1, 2
            """
        ),
        {"t": quote(relation)},
    ).fetchall()


def user_triggers(bind, table: str, ours_prefix: str = "ec\\_") -> list[str]:
    """The table's own triggers (not internal, not ours)."""
    return [
        name
        for (name,) in bind.execute(
            text(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass(:t) "
                "AND NOT tgisinternal AND tgname NOT LIKE :ours ORDER BY 1"
            ),
            {"t": quote(table), "ours": ours_prefix + "%"},
        )
    ]


def is_superuser(bind) -> bool:
    return bool(_scalar(bind, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))


def estimated_rows(bind, table: str) -> int:
    """The planner's row estimate (0 for a table never analysed)."""
    return (
        _scalar(
            bind,
            "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(:t)",
            t=quote(table),
        )
        or 0
    )


def relation_bytes(bind, name: str) -> int | None:
    return _scalar(bind, "SELECT pg_total_relation_size(to_regclass(:t))", t=quote(name))


def serial_sequence(bind, table: str, column: str) -> str | None:
    """The sequence the column owns (serial or identity), quoted and qualified."""
    return _scalar(bind, "SELECT pg_get_serial_sequence(:t, :c)", t=quote(table), c=column)


def identity_of(bind, table: str, column: str) -> str | None:
    """``'a'`` (ALWAYS), ``'d'`` (BY DEFAULT) or ``''``/None (no identity)."""
    return _scalar(
        bind,
        "SELECT attidentity::text FROM pg_attribute "
        "WHERE attrelid = to_regclass(:t) AND attname = :c",
        t=quote(table),
        c=column,
    )


def has_sync_trigger(bind, table: str) -> bool:
    """Whether one of expandcontract's sync triggers (``ec_sync_...``) is on the table."""
    return bool(
        _scalar(
            bind,
            "SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(:t) "
            "AND tgname LIKE 'ec\\_sync\\_%' LIMIT 1",
            t=quote(table),
        )
    )


def columns(bind, table: str) -> list[tuple[str, str, bool]]:
    """The table's columns in order: ``(name, type, written by the database)`` where the
    last is an identity or a generated column (an insert names neither)."""
    return [
        tuple(row)
        for row in bind.execute(
            text(
                "SELECT attname, format_type(atttypid, atttypmod), "
                "attidentity <> '' OR attgenerated <> '' FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped "
                "ORDER BY attnum"
            ),
            {"t": quote(table)},
        )
    ]


def enum_labels(bind, table: str, column: str) -> list[str]:
    """The labels of the column's enum type (an array's element type too); [] otherwise."""
    return [
        label
        for (label,) in bind.execute(
            text(
                "SELECT e.enumlabel FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "JOIN pg_enum e ON e.enumtypid = CASE WHEN t.typelem <> 0 THEN t.typelem "
                "ELSE t.oid END WHERE a.attrelid = to_regclass(:t) AND a.attname = :c "
                "ORDER BY e.enumsortorder"
            ),
            {"t": quote(table), "c": column},
        )
    ]


def related_by_keys(bind, table: str, columns: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The tables joined to ``table`` by a foreign key on one of ``columns``: those the keys
    reference (its parents), and those whose keys reference them (its children); each
    qualified and quoted, ``table`` itself left out."""
    rows = bind.execute(
        text(
            """
            SELECT c.confrelid::regclass::text, 'parent' FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
            WHERE c.contype = 'f' AND c.conrelid = to_regclass(:t) AND a.attname = ANY (:cols)
              AND c.confrelid <> c.conrelid
            UNION
            SELECT c.conrelid::regclass::text, 'child' FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = ANY (c.confkey)
            WHERE c.contype = 'f' AND c.confrelid = to_regclass(:t) AND a.attname = ANY (:cols)
              AND c.confrelid <> c.conrelid
            """
        ),
        {"t": quote(table), "cols": list(columns)},
    ).fetchall()
    parents = sorted({name for name, side in rows if side == "parent"})
    children = sorted({name for name, side in rows if side == "child"})
    return parents, children


def default_evaluated_once(bind, type_sql: str, default: str) -> bool:
    """Whether PostgreSQL adds a column with this default in the catalog alone (a
    non-volatile default, PostgreSQL 11+: evaluated once, existing rows read the value).
    Asked of PostgreSQL itself, on a temporary table in a savepoint rolled back."""
    from sqlalchemy.exc import DBAPIError

    try:
        with bind.begin_nested() as savepoint:
            bind.exec_driver_sql("CREATE TEMP TABLE ec_probe_default ()")
            bind.exec_driver_sql(
                f"ALTER TABLE ec_probe_default ADD COLUMN v {type_sql} DEFAULT {default}"
            )
            found = bind.exec_driver_sql(
                "SELECT atthasmissing FROM pg_attribute WHERE attname = 'v' AND "
                "attrelid = 'ec_probe_default'::regclass"
            ).scalar()
            savepoint.rollback()
        return bool(found)
    except DBAPIError:
        return False


def fk_match_type(bind, schema: str | None, table: str, name: str) -> str | None:
    """A foreign key's ``confmatchtype`` (``f`` full, ``s`` simple), None when not there."""
    return bind.execute(
        text(
            "SELECT confmatchtype FROM pg_constraint WHERE conname = :n AND conrelid = "
            "to_regclass(concat_ws('.', quote_ident(CAST(:s AS text)), "
            "quote_ident(CAST(:t AS text))))"
        ),
        {"n": name, "s": schema, "t": table},
    ).scalar()


# every user table's columns, named as the linter names tables (``public.`` left out):
# (table, column, type, partitioned)
USER_COLUMNS = """
SELECT CASE WHEN n.nspname = 'public' THEN '' ELSE n.nspname || '.' END || c.relname,
       a.attname, format_type(a.atttypid, a.atttypmod), c.relkind = 'p'
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
"""
