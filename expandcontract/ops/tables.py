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

from expandcontract.catalog import bookkeeping, probes
from expandcontract.catalog.bookkeeping import ARCHIVES
from expandcontract.ops.registry import needs_database, online, operation
from expandcontract.schema.names import in_schema_of, object_name, quote


def archive_name(table: str) -> str:
    return in_schema_of(
        table, object_name(table.rsplit(".", 1)[-1], prefix="expandcontract_dropped")
    )


def view_name(old: str, new: str) -> str:
    """The new name, in the old table's schema unless it names its own."""
    return new if "." in new else in_schema_of(old, new)


class RenameViewError(Exception):
    """The rename view cannot be made safely on this server."""


def invoker_problem(bind, old: str) -> str | None:
    """Why the rename view cannot keep ``old``'s row-level security here, or None.

    A view runs as its owner: a tenant-limited role would see every tenant's rows
    through it. ``security_invoker`` (PostgreSQL 15+) makes it check the caller's
    policies; an older server cannot, so a table with RLS enabled is refused."""
    if probes.server_version(bind) >= 150000 or not probes.row_security(bind, old):
        return None
    return (
        f"{old} has row-level security, and a view on PostgreSQL before 15 runs as its "
        "owner (no security_invoker): every role would see every row through the new "
        f"name. Rename it in a maintenance window instead (ALTER TABLE {quote(old)} "
        "RENAME TO ... in a plain revision), or upgrade to PostgreSQL 15"
    )


def create_view_sql(bind, old: str, new: str) -> list[str]:
    """The rename view and its grants. ``security_invoker``: the caller's privileges and
    row-level security policies apply through the view, as on the table (PostgreSQL 15+;
    offline, written as for 15+)."""
    view = quote(view_name(old, new))
    invoker = " WITH (security_invoker = true)"
    if bind is not None:
        problem = invoker_problem(bind, old)
        if problem:
            raise RenameViewError(problem)
        if probes.server_version(bind) < 150000:
            invoker = ""
    statements = [f"CREATE OR REPLACE VIEW {view}{invoker} AS SELECT * FROM {quote(old)}"]
    if bind is not None:
        for grantee, privilege, grantable in probes.table_grants(bind, old):
            option = " WITH GRANT OPTION" if grantable else ""
            statements.append(f"GRANT {privilege} ON {view} TO {grantee}{option}")
    return statements


def referencing(bind, table: str) -> list[str]:
    """Foreign keys of other tables that point at ``table``."""
    return [
        f"foreign key {name} on {source} references {table}"
        for name, source in probes.referencing_keys(bind, table)
    ]


def archive(operations, table: str) -> None:
    bind = operations.get_bind()
    name = archive_name(table)
    if not probes.relation_exists(bind, table):
        if probes.relation_exists(bind, name):
            return  # archived by an earlier run
        raise ValueError(f"drop-table: table {table} does not exist")
    problems = referencing(bind, table)
    if problems:
        raise ValueError(
            f"drop-table: {table} is still referenced ({'; '.join(problems)}): drop or move "
            "those foreign keys first"
        )
    keys = probes.outgoing_keys(bind, table)
    bookkeeping.ensure(bind, ARCHIVES)
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
    if bookkeeping.exists(bind, ARCHIVES):
        record = bind.execute(
            text(f"SELECT foreign_keys, purged_at FROM {ARCHIVES} WHERE archive = :a"),
            {"a": name},
        ).fetchone()
    if record is not None and record.purged_at is not None:
        raise ValueError(
            f"drop-table: the archive of {table} was purged on {record.purged_at:%Y-%m-%d}; "
            "this contract can no longer be undone"
        )
    if not probes.relation_exists(bind, table):
        operations.execute(f"ALTER TABLE {quote(name)} RENAME TO {quote(table.rsplit('.', 1)[-1])}")
    keys = record.foreign_keys if record is not None else []
    for key, definition in keys:
        if not probes.constraint_exists(bind, table, key):
            suffix = "" if definition.rstrip().endswith("NOT VALID") else " NOT VALID"
            operations.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(key)} {definition}{suffix}"
            )
    return [key for key, _ in keys]


def forget(operations, table: str) -> None:
    bind = operations.get_bind()
    if bookkeeping.exists(bind, ARCHIVES):
        bind.execute(text(f"DELETE FROM {ARCHIVES} WHERE archive = :a"), {"a": archive_name(table)})


def archives(conn) -> list[dict]:
    """Every archive on record: original name, when, its size, whether purged."""
    if not bookkeeping.exists(conn, ARCHIVES):
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
        row["bytes"] = probes.relation_bytes(conn, row["archive"])
    return rows


def is_archive(row: dict) -> bool:
    """Whether a record's table is an archive by its name as well: the name drop-table
    gives the original it records. A row of the bookkeeping table is only data (anyone
    who can write it could name ``orders``): purge drops nothing else."""
    original = row.get("original")
    return isinstance(original, str) and row.get("archive") == archive_name(original)


def purge(conn, archive_: str) -> None:
    original = conn.execute(
        text(f"SELECT original FROM {ARCHIVES} WHERE archive = :a"), {"a": archive_}
    ).scalar()
    if not is_archive({"archive": archive_, "original": original}):
        raise ValueError(f"{archive_} is not an archive drop-table made: not dropped")
    conn.execute(text(f"DROP TABLE IF EXISTS {quote(archive_)}"))
    conn.execute(
        text(f"UPDATE {ARCHIVES} SET purged_at = now() WHERE archive = :a"), {"a": archive_}
    )


@operation
def create_rename_view(operations, old, new) -> None:
    """NEW as an updatable view of table OLD, with OLD's grants (rename-table)."""
    bind = operations.get_bind() if online(operations) else None
    for statement in create_view_sql(bind, old, new):
        operations.execute(statement)


@operation
def drop_rename_view(operations, old, new) -> None:
    """DROP VIEW IF EXISTS NEW (in OLD's schema unless NEW names one)."""
    online(operations)
    operations.execute(f"DROP VIEW IF EXISTS {quote(view_name(old, new))}")


@operation
def archive_table(operations, table_name) -> None:
    """Rename the table to its archive name, its outgoing foreign keys recorded and
    dropped (drop-table's contract)."""
    if not online(operations):
        needs_database(operations, "op.archive_table (its foreign keys, recorded)")
        name = archive_name(table_name).rsplit(".", 1)[-1]
        operations.execute(f"ALTER TABLE {quote(table_name)} RENAME TO {quote(name)}")
        return
    archive(operations, table_name)


@operation
def restore_archived_table(operations, table_name) -> None:
    """Undo ``archive_table``: the name back, the foreign keys NOT VALID, validated."""
    from expandcontract.ops.constraint import validate_if_needed

    if not online(operations):
        needs_database(operations, "op.restore_archived_table (its recorded foreign keys)")
        operations.execute(
            f"ALTER TABLE {quote(archive_name(table_name))} "
            f"RENAME TO {quote(table_name.rsplit('.', 1)[-1])}"
        )
        return
    for key in unarchive(operations, table_name):
        validate_if_needed(operations, table_name, key)
    forget(operations, table_name)
