"""Table-level steps: the rename view and the archive a dropped table becomes.

**Rename view.** While both versions run, the new name is a simple
(automatically updatable) view of the table, with the table's grants, so the
new version's role can use it. A view's column list is fixed when it is made:
a column added to the table during the window is not in it.

**Archive.** ``drop-table``'s contract renames the table to
``expandcontract_dropped_<name>`` in its schema, so the downgrade gets it back
whole. An archive must not act like a table any more: its outgoing foreign
keys are dropped (recorded, and recreated ``NOT VALID`` then validated if the
contract is undone), so a delete in a referenced table is not refused
because of an archived row. Tables other tables' foreign keys point at are
refused before anything runs. ``expandcontract purge`` drops archives once the
rollback window has passed; the record stays, so undoing such a contract fails
with a sentence, not a missing table.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from expandcontract.schema.names import in_schema_of, object_name, quote

ARCHIVES = "expandcontract_archived"


def archive_name(table: str) -> str:
    return in_schema_of(
        table, object_name(table.rsplit(".", 1)[-1], prefix="expandcontract_dropped")
    )


def view_name(old: str, new: str) -> str:
    """The new name, in the old table's schema unless it names its own."""
    return new if "." in new else in_schema_of(old, new)


def _grants(bind, relation: str) -> list[tuple[str, str, bool]]:
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


def create_view_sql(bind, old: str, new: str) -> list[str]:
    view = quote(view_name(old, new))
    statements = [f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {quote(old)}"]
    if bind is not None:
        for grantee, privilege, grantable in _grants(bind, old):
            option = " WITH GRANT OPTION" if grantable else ""
            statements.append(f"GRANT {privilege} ON {view} TO {grantee}{option}")
    return statements


def referencing(bind, table: str) -> list[str]:
    """Foreign keys of other tables that point at ``table``."""
    return [
        f"foreign key {name} on {source} references {table}"
        for name, source in bind.execute(
            text(
                "SELECT con.conname, con.conrelid::regclass::text FROM pg_constraint con "
                "WHERE con.contype = 'f' AND con.confrelid = to_regclass(:t) "
                "AND con.conrelid <> con.confrelid ORDER BY 1"
            ),
            {"t": quote(table)},
        )
    ]


def _ensure(bind) -> None:
    bind.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {ARCHIVES} (archive text PRIMARY KEY, original text "
            "NOT NULL, foreign_keys jsonb NOT NULL, archived_at timestamptz NOT NULL DEFAULT "
            "now(), purged_at timestamptz)"
        )
    )


def archive(operations, table: str) -> None:
    bind = operations.get_bind()
    name = archive_name(table)
    if bind.execute(text("SELECT to_regclass(:t)"), {"t": quote(table)}).scalar() is None:
        if bind.execute(text("SELECT to_regclass(:t)"), {"t": quote(name)}).scalar():
            return  # archived by an earlier run
        raise ValueError(f"drop-table: table {table} does not exist")
    problems = referencing(bind, table)
    if problems:
        raise ValueError(
            f"drop-table: {table} is still referenced ({'; '.join(problems)}): drop or move "
            "those foreign keys first"
        )
    keys = bind.execute(
        text(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:t) AND contype = 'f' ORDER BY conname"
        ),
        {"t": quote(table)},
    ).fetchall()
    _ensure(bind)
    bind.execute(
        text(
            f"INSERT INTO {ARCHIVES} (archive, original, foreign_keys) VALUES (:a, :o, "
            "CAST(:k AS jsonb)) ON CONFLICT (archive) DO UPDATE SET original = EXCLUDED.original, "
            "foreign_keys = EXCLUDED.foreign_keys, archived_at = now(), purged_at = NULL"
        ),
        {"a": name, "o": table, "k": json.dumps([list(k) for k in keys])},
    )
    for key, _ in keys:
        operations.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(key)}")
    operations.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(name.rsplit('.', 1)[-1])}")


def unarchive(operations, table: str) -> list[str]:
    """Rename the archive back and add its foreign keys back NOT VALID; returns their
    names, to validate. Rerunnable: the record stays until :func:`forget` (after the
    validation), so a rerun after a failed validation finds the keys again."""
    bind = operations.get_bind()
    name = archive_name(table)
    record = None
    if bind.execute(text("SELECT to_regclass(:t)"), {"t": ARCHIVES}).scalar():
        record = bind.execute(
            text(f"SELECT foreign_keys, purged_at FROM {ARCHIVES} WHERE archive = :a"),
            {"a": name},
        ).fetchone()
    if record is not None and record.purged_at is not None:
        raise ValueError(
            f"drop-table: the archive of {table} was purged on {record.purged_at:%Y-%m-%d}; "
            "this contract can no longer be undone"
        )
    if bind.execute(text("SELECT to_regclass(:t)"), {"t": quote(table)}).scalar() is None:
        operations.execute(f"ALTER TABLE {quote(name)} RENAME TO {quote(table.rsplit('.', 1)[-1])}")
    keys = record.foreign_keys if record is not None else []
    for key, definition in keys:
        exists = bind.execute(
            text("SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(:t) AND conname = :n"),
            {"t": quote(table), "n": key},
        ).scalar()
        if not exists:
            suffix = "" if definition.rstrip().endswith("NOT VALID") else " NOT VALID"
            operations.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(key)} {definition}{suffix}"
            )
    return [key for key, _ in keys]


def forget(operations, table: str) -> None:
    bind = operations.get_bind()
    if bind.execute(text("SELECT to_regclass(:t)"), {"t": ARCHIVES}).scalar():
        bind.execute(text(f"DELETE FROM {ARCHIVES} WHERE archive = :a"), {"a": archive_name(table)})


def archives(conn) -> list[dict]:
    """Every archive on record: original name, when, its size, whether purged."""
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": ARCHIVES}).scalar() is None:
        return []
    rows = [
        dict(row)
        for row in conn.execute(
            text(
                f"SELECT archive, original, archived_at, purged_at, "
                f"extract(epoch FROM now() - archived_at)::float8 AS age FROM {ARCHIVES} "
                "ORDER BY archived_at"
            )
        ).mappings()
    ]
    for row in rows:
        row["bytes"] = conn.execute(
            text("SELECT pg_total_relation_size(to_regclass(:t))"), {"t": quote(row["archive"])}
        ).scalar()
    return rows


def purge(conn, archive_: str) -> None:
    conn.execute(text(f"DROP TABLE IF EXISTS {quote(archive_)}"))
    conn.execute(
        text(f"UPDATE {ARCHIVES} SET purged_at = now() WHERE archive = :a"), {"a": archive_}
    )
