"""expandcontract's Alembic operations, usable as ``op.<name>(...)`` in any revision.

They are registered when Alembic loads the expandcontract plugin. Each runs
its DDL the lock-safe way (see :mod:`expandcontract.alembic_integration.execution`)
and is idempotent, so a phase interrupted half-way can simply be run again.
Offline (``--sql``, and the linter) they render the SQL they would run.

    op.create_index_concurrently("ix_users_email", "users", ["email"], unique=True)
    op.drop_index_concurrently("ix_users_email")
    op.add_check_not_valid("users_age_ck", "users", "age >= 0")
    op.add_foreign_key_not_valid("orders_user_fk", "orders", ["user_id"], "users", ["id"])
    op.validate_constraint("orders", "orders_user_fk")
    op.add_unique_using_index("users", "users_email_key", "ix_users_email")
    op.set_not_null("users", "email")           # CHECK NOT VALID, VALIDATE, SET NOT NULL
    op.drop_not_null("users", "email")
    op.copy_column("users", "name", "full_name")  # same type, nullable
    op.create_sync_trigger("users", "name", "full_name")        # two-way, with conversions
    op.drop_sync_trigger("users", "name", "full_name")
    op.backfill("users", "full_name", "name")  # keyset batches, resumable
"""

from __future__ import annotations

import contextlib
import re

from alembic.operations import MigrateOperation, Operations
from sqlalchemy import text

from expandcontract.alembic_integration import execution
from expandcontract.schema.names import object_name, quote


@Operations.register_operation("set_lock_timeout")
class SetLockTimeoutOp(MigrateOperation):
    @classmethod
    def set_lock_timeout(cls, operations):
        """Run the rest of the revision under the configured ``lock_timeout``, retrying
        statements that hit it (``expandcontract upgrade`` does this for every revision)."""
        return operations.invoke(cls())


@Operations.implementation_for(SetLockTimeoutOp)
def _set_lock_timeout(operations, op: SetLockTimeoutOp) -> None:
    if not _online(operations):
        operations.execute(f"SET lock_timeout = '{execution.Settings().lock_timeout}'")


def _online(operations) -> bool:
    context = operations.get_context()
    if not context.as_sql:
        execution.install(context, execution.settings_of(context))
        return True
    return False


def _scalar(operations, sql: str, **params):
    return operations.get_bind().execute(text(sql), params).scalar()


def _exists_constraint(operations, table: str, name: str) -> bool:
    return bool(
        _scalar(
            operations,
            "SELECT 1 FROM pg_constraint WHERE conname = :n AND conrelid = to_regclass(:t)",
            n=name,
            t=quote(table),
        )
    )


# --- indexes ----------------------------------------------------------------------------------


@Operations.register_operation("create_index_concurrently")
class CreateIndexConcurrentlyOp(MigrateOperation):
    def __init__(self, index_name, table_name, columns, unique=False, where=None):
        self.index_name, self.table_name, self.columns = index_name, table_name, list(columns)
        self.unique, self.where = unique, where

    @classmethod
    def create_index_concurrently(cls, operations, index_name, table_name, columns, **kw):
        """CREATE INDEX CONCURRENTLY outside the transaction; an INVALID leftover is rebuilt."""
        return operations.invoke(cls(index_name, table_name, columns, **kw))

    def reverse(self):
        return DropIndexConcurrentlyOp(self.index_name)


@Operations.register_operation("drop_index_concurrently")
class DropIndexConcurrentlyOp(MigrateOperation):
    def __init__(self, index_name):
        self.index_name = index_name

    @classmethod
    def drop_index_concurrently(cls, operations, index_name):
        """DROP INDEX CONCURRENTLY IF EXISTS, outside the transaction."""
        return operations.invoke(cls(index_name))


def _column_list(columns) -> str:
    """Column names, each quoted; an expression only as ``sa.text("lower(email)")``: a
    name is never read as SQL, whatever it contains."""
    from sqlalchemy.sql.elements import TextClause

    return ", ".join(c.text if isinstance(c, TextClause) else quote(c) for c in columns)


@Operations.implementation_for(CreateIndexConcurrentlyOp)
def _create_index_concurrently(operations, op: CreateIndexConcurrentlyOp) -> None:
    unique = "UNIQUE " if op.unique else ""
    where = f" WHERE {op.where}" if op.where else ""
    sql = (
        f"CREATE {unique}INDEX CONCURRENTLY IF NOT EXISTS {quote(op.index_name)} "
        f"ON {quote(op.table_name)} ({_column_list(op.columns)}){where}"
    )
    # an index lives in its table's schema; its name in CREATE INDEX cannot say so
    schema = op.table_name.rsplit(".", 1)[0] + "." if "." in op.table_name else ""
    where = quote(schema + op.index_name)
    with operations.get_context().autocommit_block():
        if _online(operations):
            valid = _scalar(
                operations,
                "SELECT i.indisvalid FROM pg_index i WHERE i.indexrelid = to_regclass(:n)",
                n=where,
            )
            if valid is True:
                return
            if valid is False:  # left INVALID by an earlier failed build: drop and retry
                operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {where}")
        try:
            operations.execute(sql)
        except Exception:
            # a failed build (a duplicate for a UNIQUE one, a lock timeout) leaves an INVALID
            # index that would slow every write and block the rerun's name: drop it now
            if _online(operations):
                with contextlib.suppress(Exception):
                    operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {where}")
            raise


@Operations.implementation_for(DropIndexConcurrentlyOp)
def _drop_index_concurrently(operations, op: DropIndexConcurrentlyOp) -> None:
    with operations.get_context().autocommit_block():
        operations.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(op.index_name)}")


# --- constraints ------------------------------------------------------------------------------


@Operations.register_operation("add_check_not_valid")
class AddCheckNotValidOp(MigrateOperation):
    def __init__(self, constraint_name, table_name, condition):
        self.constraint_name, self.table_name, self.condition = (
            constraint_name,
            table_name,
            condition,
        )

    @classmethod
    def add_check_not_valid(cls, operations, constraint_name, table_name, condition):
        """ADD CONSTRAINT ... CHECK (...) NOT VALID: enforced for new writes, no scan."""
        return operations.invoke(cls(constraint_name, table_name, condition))


@Operations.register_operation("add_foreign_key_not_valid")
class AddForeignKeyNotValidOp(MigrateOperation):
    def __init__(self, constraint_name, table_name, columns, ref_table, ref_columns):
        self.constraint_name, self.table_name = constraint_name, table_name
        self.columns, self.ref_table, self.ref_columns = list(columns), ref_table, list(ref_columns)

    @classmethod
    def add_foreign_key_not_valid(
        cls, operations, constraint_name, table_name, columns, ref_table, ref_columns
    ):
        """ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID: no scan, brief lock."""
        return operations.invoke(cls(constraint_name, table_name, columns, ref_table, ref_columns))


@Operations.register_operation("validate_constraint")
class ValidateConstraintOp(MigrateOperation):
    def __init__(self, table_name, constraint_name):
        self.table_name, self.constraint_name = table_name, constraint_name

    @classmethod
    def validate_constraint(cls, operations, table_name, constraint_name):
        """VALIDATE CONSTRAINT in its own transaction (SHARE UPDATE EXCLUSIVE: reads and
        writes go on)."""
        return operations.invoke(cls(table_name, constraint_name))


@Operations.register_operation("add_unique_using_index")
class AddUniqueUsingIndexOp(MigrateOperation):
    def __init__(self, table_name, constraint_name, index_name, primary_key=False):
        self.table_name, self.constraint_name = table_name, constraint_name
        self.index_name, self.primary_key = index_name, primary_key

    @classmethod
    def add_unique_using_index(
        cls, operations, table_name, constraint_name, index_name, primary_key=False
    ):
        """ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) USING INDEX: catalog only."""
        return operations.invoke(cls(table_name, constraint_name, index_name, primary_key))


def _add_constraint(operations, table: str, name: str, body: str) -> None:
    if _online(operations) and _exists_constraint(operations, table, name):
        return
    operations.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {body}")


@Operations.implementation_for(AddCheckNotValidOp)
def _add_check_not_valid(operations, op: AddCheckNotValidOp) -> None:
    _add_constraint(
        operations, op.table_name, op.constraint_name, f"CHECK ({op.condition}) NOT VALID"
    )


@Operations.implementation_for(AddForeignKeyNotValidOp)
def _add_foreign_key_not_valid(operations, op: AddForeignKeyNotValidOp) -> None:
    _add_constraint(
        operations,
        op.table_name,
        op.constraint_name,
        f"FOREIGN KEY ({_column_list(op.columns)}) REFERENCES {quote(op.ref_table)} "
        f"({_column_list(op.ref_columns)}) NOT VALID",
    )


@Operations.implementation_for(ValidateConstraintOp)
def _validate_constraint(operations, op: ValidateConstraintOp) -> None:
    with operations.get_context().autocommit_block():
        _online(operations)
        operations.execute(
            f"ALTER TABLE {quote(op.table_name)} VALIDATE CONSTRAINT {quote(op.constraint_name)}"
        )


@Operations.implementation_for(AddUniqueUsingIndexOp)
def _add_unique_using_index(operations, op: AddUniqueUsingIndexOp) -> None:
    kind = "PRIMARY KEY" if op.primary_key else "UNIQUE"
    _add_constraint(
        operations, op.table_name, op.constraint_name, f"{kind} USING INDEX {quote(op.index_name)}"
    )


# --- NOT NULL ---------------------------------------------------------------------------------


@Operations.register_operation("set_not_null")
class SetNotNullOp(MigrateOperation):
    def __init__(self, table_name, column_name):
        self.table_name, self.column_name = table_name, column_name

    @classmethod
    def set_not_null(cls, operations, table_name, column_name):
        """The NOT NULL recipe: CHECK (c IS NOT NULL) NOT VALID; VALIDATE in its own
        transaction; SET NOT NULL (no scan on PostgreSQL 12+); drop the CHECK."""
        return operations.invoke(cls(table_name, column_name))

    def reverse(self):
        return DropNotNullOp(self.table_name, self.column_name)


@Operations.register_operation("drop_not_null")
class DropNotNullOp(MigrateOperation):
    def __init__(self, table_name, column_name):
        self.table_name, self.column_name = table_name, column_name

    @classmethod
    def drop_not_null(cls, operations, table_name, column_name):
        """ALTER COLUMN ... DROP NOT NULL (catalog only)."""
        return operations.invoke(cls(table_name, column_name))


@Operations.implementation_for(SetNotNullOp)
def _set_not_null(operations, op: SetNotNullOp) -> None:
    table, column = quote(op.table_name), quote(op.column_name)
    check = object_name(op.table_name, op.column_name, "not_null")
    if _online(operations):
        already = _scalar(
            operations,
            "SELECT attnotnull FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = :c",
            t=quote(op.table_name),
            c=op.column_name,
        )
        if already:
            return
    _add_constraint(operations, op.table_name, check, f"CHECK ({column} IS NOT NULL) NOT VALID")
    with operations.get_context().autocommit_block():
        try:
            operations.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {quote(check)}")
        except Exception:
            # a NULL is still there: the committed NOT VALID CHECK would go on rejecting the
            # old version's NULL writes while nothing is applied; take it away again
            if _online(operations):
                with contextlib.suppress(Exception):
                    operations.execute(
                        f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {quote(check)}"
                    )
            raise
    operations.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL")
    operations.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {quote(check)}")


@Operations.implementation_for(DropNotNullOp)
def _drop_not_null(operations, op: DropNotNullOp) -> None:
    _online(operations)
    operations.execute(
        f"ALTER TABLE {quote(op.table_name)} ALTER COLUMN {quote(op.column_name)} DROP NOT NULL"
    )


# --- columns ----------------------------------------------------------------------------------


@Operations.register_operation("copy_column")
class CopyColumnOp(MigrateOperation):
    def __init__(self, table_name, source, new, type_=None):
        self.table_name, self.source, self.new, self.type_ = table_name, source, new, type_

    @classmethod
    def copy_column(cls, operations, table_name, source, new, type_=None):
        """ADD COLUMN new, nullable, of the source column's type (or ``type_``): catalog only.
        No default and no NOT NULL: the sync trigger and the backfill fill it."""
        return operations.invoke(cls(table_name, source, new, type_))


@Operations.implementation_for(CopyColumnOp)
def _copy_column(operations, op: CopyColumnOp) -> None:
    type_sql = op.type_
    if type_sql is None:
        if _online(operations):
            type_sql = _scalar(
                operations,
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attname = :c AND NOT attisdropped",
                t=quote(op.table_name),
                c=op.source,
            )
            if type_sql is None:
                raise ValueError(f"copy_column: {op.table_name}.{op.source} does not exist")
        else:
            type_sql = "text"
    else:
        _online(operations)
    operations.execute(
        f"ALTER TABLE {quote(op.table_name)} ADD COLUMN IF NOT EXISTS {quote(op.new)} {type_sql}"
    )


@Operations.register_operation("copy_not_null")
class CopyNotNullOp(MigrateOperation):
    def __init__(self, table_name, source, target):
        self.table_name, self.source, self.target = table_name, source, target

    @classmethod
    def copy_not_null(cls, operations, table_name, source, target):
        """If ``source`` is NOT NULL, make ``target`` NOT NULL too (the lock-safe recipe)."""
        return operations.invoke(cls(table_name, source, target))


@Operations.register_operation("move_default")
class MoveDefaultOp(MigrateOperation):
    keep_source = False

    def __init__(self, table_name, source, target, cast=False):
        self.table_name, self.source, self.target, self.cast = table_name, source, target, cast

    @classmethod
    def move_default(cls, operations, table_name, source, target, cast=False):
        """Give ``target`` the default of ``source`` and drop it from ``source``;
        ``cast=True`` casts it to the target's type (a change of type)."""
        return operations.invoke(cls(table_name, source, target, cast))


def _attribute(operations, table: str, column: str):
    return (
        operations.get_bind()
        .execute(
            text(
                "SELECT a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = to_regclass(:t) AND a.attname = :c AND NOT a.attisdropped"
            ),
            {"t": quote(table), "c": column},
        )
        .fetchone()
    )


@Operations.implementation_for(CopyNotNullOp)
def _copy_not_null(operations, op: CopyNotNullOp) -> None:
    if _online(operations):
        row = _attribute(operations, op.table_name, op.source)
        if row is None or not row[0]:
            return
    operations.invoke(SetNotNullOp(op.table_name, op.target))


@Operations.register_operation("copy_default")
class CopyDefaultOp(MoveDefaultOp):
    keep_source = True

    @classmethod
    def copy_default(cls, operations, table_name, source, target, cast=False):
        """Give ``target`` the default of ``source`` (``cast=True``: cast to the target's
        type), leaving ``source``'s in place: it goes with the column, recorded."""
        return operations.invoke(cls(table_name, source, target, cast))


@Operations.implementation_for(CopyDefaultOp)
@Operations.implementation_for(MoveDefaultOp)
def _move_default(operations, op: MoveDefaultOp) -> None:
    table = quote(op.table_name)
    if _online(operations):
        row = _attribute(operations, op.table_name, op.source)
        if row is None or row[1] is None:
            return
        default = row[1]
        if op.cast and not _assignable(operations, table, op.target, default):
            type_sql = _scalar(
                operations,
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attname = :c AND NOT attisdropped",
                t=quote(op.table_name),
                c=op.target,
            )
            default = f"CAST(({default}) AS {type_sql})"
    else:
        default = "NULL"
    operations.execute(f"ALTER TABLE {table} ALTER COLUMN {quote(op.target)} SET DEFAULT {default}")
    if not op.keep_source:
        operations.execute(f"ALTER TABLE {table} ALTER COLUMN {quote(op.source)} DROP DEFAULT")


def _assignable(operations, table: str, column: str, default: str) -> bool:
    """Whether PostgreSQL takes ``default`` for ``column`` as it is, converting it the
    way it converts an assigned value (``0`` for a bigint stays ``0``, as after a plain
    ALTER COLUMN TYPE); tried in a savepoint, nothing evaluated."""
    from sqlalchemy.exc import DBAPIError

    bind = operations.get_bind()
    try:
        with bind.begin_nested() as savepoint:
            bind.exec_driver_sql(
                f"ALTER TABLE {table} ALTER COLUMN {quote(column)} SET DEFAULT {default}"
            )
            savepoint.rollback()
        return True
    except DBAPIError:
        return False


DROPPED_COLUMNS = "expandcontract_dropped_columns"


@Operations.register_operation("drop_column_recorded")
class DropColumnRecordedOp(MigrateOperation):
    def __init__(self, table_name, column_name):
        self.table_name, self.column_name = table_name, column_name

    @classmethod
    def drop_column_recorded(cls, operations, table_name, column_name):
        """DROP COLUMN, first recording its type, NOT NULL and default so that
        ``restore_column`` can bring it back on downgrade."""
        return operations.invoke(cls(table_name, column_name))


@Operations.register_operation("restore_column")
class RestoreColumnOp(MigrateOperation):
    def __init__(self, table_name, column_name, complete=False):
        self.table_name, self.column_name, self.complete = table_name, column_name, complete

    @classmethod
    def restore_column(cls, operations, table_name, column_name, complete=False):
        """Re-add a column dropped by ``drop_column_recorded``: its type and default,
        nullable (fill it, then ``copy_not_null`` / ``set_not_null``). ``complete=True``
        (nothing will refill it): a constant default fills the existing rows as it is
        added (catalog only), and a NOT NULL column is NOT NULL again."""
        return operations.invoke(cls(table_name, column_name, complete))


@Operations.implementation_for(DropColumnRecordedOp)
def _drop_column_recorded(operations, op: DropColumnRecordedOp) -> None:
    if _online(operations):
        _recorded_or_present(operations, op)
        bind = operations.get_bind()
        bind.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {DROPPED_COLUMNS} (table_name text, column_name text, "
                "type text NOT NULL, not_null boolean NOT NULL, default_sql text, "
                "PRIMARY KEY (table_name, column_name))"
            )
        )
        bind.execute(
            text(
                f"INSERT INTO {DROPPED_COLUMNS} SELECT CAST(:t AS text), CAST(:c AS text), "
                "format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
                "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "WHERE a.attrelid = to_regclass(:rel) AND a.attname = CAST(:c AS name) "
                "AND NOT a.attisdropped "
                "ON CONFLICT (table_name, column_name) DO UPDATE SET type = EXCLUDED.type, "
                "not_null = EXCLUDED.not_null, default_sql = EXCLUDED.default_sql"
            ),
            {"t": op.table_name, "c": op.column_name, "rel": quote(op.table_name)},
        )
    operations.execute(
        f"ALTER TABLE {quote(op.table_name)} DROP COLUMN IF EXISTS {quote(op.column_name)}"
    )


def _recorded_or_present(operations, op) -> None:
    """Refuse to drop a column that is not there, unless an earlier run dropped it (a
    misspelt column must not make the contract succeed while dropping nothing)."""
    exists = _scalar(
        operations,
        "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attname = :c "
        "AND attnum > 0 AND NOT attisdropped",
        t=quote(op.table_name),
        c=op.column_name,
    )
    if exists:
        return
    recorded = _scalar(operations, "SELECT to_regclass(:t)", t=DROPPED_COLUMNS) and _scalar(
        operations,
        f"SELECT 1 FROM {DROPPED_COLUMNS} WHERE table_name = :t AND column_name = :c",
        t=op.table_name,
        c=op.column_name,
    )
    if not recorded:
        raise ValueError(f"drop_column_recorded: {op.table_name}.{op.column_name} does not exist")


@Operations.implementation_for(RestoreColumnOp)
def _restore_column(operations, op: RestoreColumnOp) -> None:
    table, column = quote(op.table_name), quote(op.column_name)
    if not _online(operations):
        operations.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} text")
        return
    row = (
        operations.get_bind()
        .execute(
            text(
                f"SELECT type, default_sql, not_null FROM {DROPPED_COLUMNS} "
                "WHERE table_name = :t AND column_name = :c"
            ),
            {"t": op.table_name, "c": op.column_name},
        )
        .fetchone()
        if _scalar(operations, "SELECT to_regclass(:t)", t=DROPPED_COLUMNS)
        else None
    )
    if row is None:
        raise ValueError(
            f"restore_column: no record of {op.table_name}.{op.column_name}; it was not dropped "
            "by drop_column_recorded"
        )
    type_sql, default, not_null = row
    if op.complete and default is not None and _CONSTANT.match(default):
        # a constant default: existing rows read it without a rewrite (PostgreSQL 11+)
        operations.execute(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type_sql} DEFAULT {default}"
        )
        if not_null:
            operations.invoke(SetNotNullOp(op.table_name, op.column_name))
        return
    operations.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {type_sql}")
    if default is not None:
        operations.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default}")


# a default whose value is fixed: a literal, maybe cast (pg_get_expr's spelling)
_CONSTANT = re.compile(
    r"^(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|true|false|NULL)(?:::[\w ]+(?:\([\d, ]+\))?)*$"
)


# --- two-way sync ------------------------------------------------------------------------------


@Operations.register_operation("create_sync_trigger")
class CreateSyncTriggerOp(MigrateOperation):
    def __init__(self, table_name, old, new, forward=None, backward=None):
        self.table_name, self.old, self.new = table_name, old, new
        self.forward, self.backward = forward, backward

    @classmethod
    def create_sync_trigger(cls, operations, table_name, old, new, forward=None, backward=None):
        """Keep ``old`` and ``new`` equal on every INSERT and UPDATE, from either app version.

        ``forward`` computes new from old and ``backward`` old from new, as SQL naming the
        source column (``"payload::jsonb"``); None copies the value as is.
        """
        return operations.invoke(cls(table_name, old, new, forward, backward))

    def reverse(self):
        return DropSyncTriggerOp(self.table_name, self.old, self.new)


@Operations.register_operation("drop_sync_trigger")
class DropSyncTriggerOp(MigrateOperation):
    def __init__(self, table_name, old, new):
        self.table_name, self.old, self.new = table_name, old, new

    @classmethod
    def drop_sync_trigger(cls, operations, table_name, old, new):
        """Drop the trigger and function ``create_sync_trigger`` made."""
        return operations.invoke(cls(table_name, old, new))


@Operations.implementation_for(CreateSyncTriggerOp)
def _create_sync_trigger(operations, op: CreateSyncTriggerOp) -> None:
    from expandcontract.alembic_integration.sync import sync_trigger_sql

    _online(operations)
    for statement in sync_trigger_sql(op.table_name, op.old, op.new, op.forward, op.backward):
        operations.execute(statement)


@Operations.implementation_for(DropSyncTriggerOp)
def _drop_sync_trigger(operations, op: DropSyncTriggerOp) -> None:
    from expandcontract.alembic_integration.sync import drop_sync_trigger_sql

    _online(operations)
    for statement in drop_sync_trigger_sql(op.table_name, op.old, op.new):
        operations.execute(statement)


@Operations.register_operation("create_fill_trigger")
class CreateFillTriggerOp(MigrateOperation):
    def __init__(self, table_name, column, expression):
        self.table_name, self.column, self.expression = table_name, column, expression

    @classmethod
    def create_fill_trigger(cls, operations, table_name, column, expression):
        """Compute ``column`` from ``expression`` (SQL over the row's columns) on every
        INSERT or UPDATE that leaves it NULL, so the old version's writes fill it too."""
        return operations.invoke(cls(table_name, column, expression))


@Operations.register_operation("drop_fill_trigger")
class DropFillTriggerOp(MigrateOperation):
    def __init__(self, table_name, column):
        self.table_name, self.column = table_name, column

    @classmethod
    def drop_fill_trigger(cls, operations, table_name, column):
        """Drop the trigger and function ``create_fill_trigger`` made."""
        return operations.invoke(cls(table_name, column))


@Operations.implementation_for(CreateFillTriggerOp)
def _create_fill_trigger(operations, op: CreateFillTriggerOp) -> None:
    from expandcontract.alembic_integration.sync import fill_trigger_sql

    _online(operations)
    for statement in fill_trigger_sql(op.table_name, op.column, op.expression):
        operations.execute(statement)


@Operations.implementation_for(DropFillTriggerOp)
def _drop_fill_trigger(operations, op: DropFillTriggerOp) -> None:
    from expandcontract.alembic_integration.sync import drop_fill_trigger_sql

    _online(operations)
    for statement in drop_fill_trigger_sql(op.table_name, op.column):
        operations.execute(statement)


# --- backfill ----------------------------------------------------------------------------------


@Operations.register_operation("backfill")
class BackfillOp(MigrateOperation):
    def __init__(
        self,
        table_name,
        column,
        expression=None,
        batch_size=None,
        pause=None,
        where=None,
        cast_from=None,
    ):
        self.table_name, self.column, self.expression = table_name, column, expression
        self.batch_size, self.pause, self.where = batch_size, pause, where
        self.cast_from = cast_from

    @classmethod
    def backfill(
        cls,
        operations,
        table_name,
        column,
        expression=None,
        batch_size=None,
        pause=None,
        where=None,
        cast_from=None,
    ):
        """Set ``column = expression`` on every existing row, in keyset batches over the
        primary key, each committed on its own and recorded, so a rerun after a crash or
        Ctrl-C resumes where it stopped without missing or repeating a row.
        ``cast_from=other`` fills it with ``other`` cast to the column's type."""
        return operations.invoke(
            cls(table_name, column, expression, batch_size, pause, where, cast_from)
        )


@Operations.register_operation("forget_backfill")
class ForgetBackfillOp(MigrateOperation):
    def __init__(self, table_name, column):
        self.table_name, self.column = table_name, column

    @classmethod
    def forget_backfill(cls, operations, table_name, column):
        """Drop the progress record of a backfill, so that it runs again from the start."""
        return operations.invoke(cls(table_name, column))


@Operations.implementation_for(BackfillOp)
def _backfill(operations, op: BackfillOp) -> None:
    from expandcontract.alembic_integration import backfill

    context = operations.get_context()
    with context.autocommit_block():
        expression = op.expression
        if not _online(operations):
            operations.execute(
                backfill.preview_sql(op.table_name, op.column, expression or quote(op.cast_from))
            )
            return
        if expression is None:
            type_sql = _scalar(
                operations,
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attname = :c AND NOT attisdropped",
                t=quote(op.table_name),
                c=op.column,
            )
            expression = f"CAST({quote(op.cast_from)} AS {type_sql})"
        settings = execution.backfill_settings_of(context) or backfill.BatchSettings()
        backfill.run(
            operations.get_bind(),
            op.table_name,
            op.column,
            expression,
            batch_size=op.batch_size or settings.batch_size,
            pause=op.pause if op.pause is not None else settings.pause,
            where=op.where,
            settings=execution.settings_of(context),
            # an explicit batch_size in the revision is a fixed size
            batch_time=0 if op.batch_size else settings.batch_time,
            workers=settings.workers,
            max_replica_lag=settings.max_replica_lag,
            replica_urls=settings.replica_urls,
            triggers=settings.triggers,
        )


@Operations.implementation_for(ForgetBackfillOp)
def _forget_backfill(operations, op: ForgetBackfillOp) -> None:
    from expandcontract.alembic_integration import backfill

    if _online(operations):
        backfill.forget(operations.get_bind(), op.table_name, op.column)


# --- carrying a column's attachments over -----------------------------------------------------


@Operations.register_operation("carry_over")
class CarryOverOp(MigrateOperation):
    def __init__(self, table_name, source, target, step):
        self.table_name, self.source, self.target, self.step = table_name, source, target, step

    @classmethod
    def carry_over(cls, operations, table_name, source, target, step):
        """One step of carrying ``source``'s indexes, constraints, comment, grants,
        statistics target and sequence over to ``target`` (see
        :mod:`expandcontract.alembic_integration.carry` for the steps)."""
        return operations.invoke(cls(table_name, source, target, step))


@Operations.implementation_for(CarryOverOp)
def _carry_over(operations, op: CarryOverOp) -> None:
    from expandcontract.alembic_integration import carry

    carry.run(operations, op.table_name, op.source, op.target, op.step)


@Operations.register_operation("drop_default")
class DropDefaultOp(MigrateOperation):
    def __init__(self, table_name, column_name):
        self.table_name, self.column_name = table_name, column_name

    @classmethod
    def drop_default(cls, operations, table_name, column_name):
        """ALTER COLUMN ... DROP DEFAULT (catalog only)."""
        return operations.invoke(cls(table_name, column_name))


@Operations.implementation_for(DropDefaultOp)
def _drop_default(operations, op: DropDefaultOp) -> None:
    _online(operations)
    operations.execute(
        f"ALTER TABLE {quote(op.table_name)} ALTER COLUMN {quote(op.column_name)} DROP DEFAULT"
    )


# --- tables: the rename view and the archive --------------------------------------------------


@Operations.register_operation("create_rename_view")
class CreateRenameViewOp(MigrateOperation):
    def __init__(self, old, new):
        self.old, self.new = old, new

    @classmethod
    def create_rename_view(cls, operations, old, new):
        """NEW as an updatable view of table OLD, with OLD's grants (rename-table)."""
        return operations.invoke(cls(old, new))


@Operations.register_operation("drop_rename_view")
class DropRenameViewOp(MigrateOperation):
    def __init__(self, old, new):
        self.old, self.new = old, new

    @classmethod
    def drop_rename_view(cls, operations, old, new):
        """DROP VIEW IF EXISTS NEW (in OLD's schema unless NEW names one)."""
        return operations.invoke(cls(old, new))


@Operations.implementation_for(CreateRenameViewOp)
def _create_rename_view(operations, op: CreateRenameViewOp) -> None:
    from expandcontract.alembic_integration import tables

    bind = operations.get_bind() if _online(operations) else None
    for statement in tables.create_view_sql(bind, op.old, op.new):
        operations.execute(statement)


@Operations.implementation_for(DropRenameViewOp)
def _drop_rename_view(operations, op: DropRenameViewOp) -> None:
    from expandcontract.alembic_integration import tables

    _online(operations)
    operations.execute(f"DROP VIEW IF EXISTS {quote(tables.view_name(op.old, op.new))}")


@Operations.register_operation("archive_table")
class ArchiveTableOp(MigrateOperation):
    def __init__(self, table_name):
        self.table_name = table_name

    @classmethod
    def archive_table(cls, operations, table_name):
        """Rename the table to its archive name, its outgoing foreign keys recorded and
        dropped (drop-table's contract)."""
        return operations.invoke(cls(table_name))


@Operations.register_operation("restore_archived_table")
class RestoreArchivedTableOp(MigrateOperation):
    def __init__(self, table_name):
        self.table_name = table_name

    @classmethod
    def restore_archived_table(cls, operations, table_name):
        """Undo ``archive_table``: the name back, the foreign keys NOT VALID, validated."""
        return operations.invoke(cls(table_name))


@Operations.implementation_for(ArchiveTableOp)
def _archive_table(operations, op: ArchiveTableOp) -> None:
    from expandcontract.alembic_integration import tables

    if not _online(operations):
        name = tables.archive_name(op.table_name).rsplit(".", 1)[-1]
        operations.execute(f"ALTER TABLE {quote(op.table_name)} RENAME TO {quote(name)}")
        return
    tables.archive(operations, op.table_name)


@Operations.implementation_for(RestoreArchivedTableOp)
def _restore_archived_table(operations, op: RestoreArchivedTableOp) -> None:
    from expandcontract.alembic_integration import tables

    if not _online(operations):
        operations.execute(
            f"ALTER TABLE {quote(tables.archive_name(op.table_name))} "
            f"RENAME TO {quote(op.table_name.rsplit('.', 1)[-1])}"
        )
        return
    keys = tables.unarchive(operations, op.table_name)
    for key in keys:
        valid = _scalar(
            operations,
            "SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass(:t) "
            "AND conname = :n",
            t=quote(op.table_name),
            n=key,
        )
        if not valid:
            operations.invoke(ValidateConstraintOp(op.table_name, key))
    tables.forget(operations, op.table_name)
