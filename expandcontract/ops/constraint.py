"""Constraint operations: added NOT VALID (no scan), validated in their own transaction."""

from __future__ import annotations

from expandcontract.catalog import probes
from expandcontract.ops.registry import online, operation
from expandcontract.ops.waits import watched
from expandcontract.schema.names import quote


def add(operations, table: str, name: str, body: str) -> None:
    """``ALTER TABLE table ADD CONSTRAINT name body``, unless an earlier run added it."""
    if online(operations) and probes.constraint_exists(operations.get_bind(), table, name):
        return
    operations.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {body}")


@operation
def add_check_not_valid(operations, constraint_name, table_name, condition) -> None:
    """ADD CONSTRAINT ... CHECK (...) NOT VALID: enforced for new writes, no scan."""
    add(operations, table_name, constraint_name, f"CHECK ({condition}) NOT VALID")


def foreign_key_sql(name, table, columns, ref_table, ref_columns, **options) -> str:
    """ALTER TABLE ... ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, rendered by SQLAlchemy's
    PostgreSQL dialect with ``options`` as ``ForeignKeyConstraint`` takes them (``ondelete``,
    ``onupdate``, ``deferrable``, ``initially``, ``match``; each checked to be a phrase)."""
    from sqlalchemy import Column, ForeignKeyConstraint, MetaData, Table
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import AddConstraint
    from sqlalchemy.types import NULLTYPE

    def stub(qualified: str, names) -> Table:
        schema, _, bare = qualified.rpartition(".")
        return Table(bare, MetaData(), *(Column(n, NULLTYPE) for n in names), schema=schema or None)

    referenced = stub(ref_table, ref_columns)
    constraint = ForeignKeyConstraint(
        list(columns),
        [referenced.c[c] for c in ref_columns],
        name=name,
        postgresql_not_valid=True,
        **{k: v for k, v in options.items() if v is not None},
    )
    stub(table, columns).append_constraint(constraint)
    return str(AddConstraint(constraint).compile(dialect=postgresql.dialect()))


@operation
def add_foreign_key_not_valid(
    operations,
    constraint_name,
    table_name,
    columns,
    ref_table,
    ref_columns,
    ondelete=None,
    onupdate=None,
    deferrable=None,
    initially=None,
    match=None,
) -> None:
    """ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID: no scan, brief lock. Takes the options
    of SQLAlchemy's ``ForeignKeyConstraint``: ``ondelete``, ``onupdate``, ``deferrable``,
    ``initially``, ``match``."""
    sql = foreign_key_sql(
        constraint_name,
        table_name,
        columns,
        ref_table,
        ref_columns,
        ondelete=ondelete,
        onupdate=onupdate,
        deferrable=deferrable,
        initially=initially,
        match=match,
    )
    if online(operations) and probes.constraint_exists(
        operations.get_bind(), table_name, constraint_name
    ):
        return
    operations.execute(sql)


@operation
def validate_constraint(operations, table_name, constraint_name) -> None:
    """VALIDATE CONSTRAINT in its own transaction (SHARE UPDATE EXCLUSIVE: reads and
    writes go on)."""
    sql = f"ALTER TABLE {quote(table_name)} VALIDATE CONSTRAINT {quote(constraint_name)}"
    with operations.get_context().autocommit_block():
        online(operations)
        with watched(operations, sql, f"validating {constraint_name} on {table_name}"):
            operations.execute(sql)


def validate_if_needed(operations, table: str, name: str) -> None:
    """VALIDATE ``name`` when it is NOT VALID (nothing when valid or absent)."""
    if probes.constraint_validated(operations.get_bind(), table, name) is False:
        validate_constraint(operations, table, name)


@operation
def add_unique_using_index(
    operations, table_name, constraint_name, index_name, primary_key=False
) -> None:
    """ADD CONSTRAINT ... UNIQUE (or PRIMARY KEY) USING INDEX: catalog only."""
    kind = "PRIMARY KEY" if primary_key else "UNIQUE"
    add(operations, table_name, constraint_name, f"{kind} USING INDEX {quote(index_name)}")


def drop(operations, table: str, name: str) -> None:
    """DROP CONSTRAINT ``name`` when it is there."""
    if probes.constraint_exists(operations.get_bind(), table, name):
        operations.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")


def rename(operations, table: str, old: str, new: str) -> None:
    """RENAME CONSTRAINT, when ``old`` is there and ``new`` is not (rerunnable)."""
    bind = operations.get_bind()
    if probes.constraint_exists(bind, table, old) and not probes.constraint_exists(
        bind, table, new
    ):
        operations.execute(
            f"ALTER TABLE {quote(table)} RENAME CONSTRAINT {quote(old)} TO {quote(new)}"
        )
