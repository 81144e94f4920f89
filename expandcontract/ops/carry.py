"""Carry what hangs on a column over to its replacement, phase by phase, and back.

``op.carry_over(table, source, target, step)`` is how rename-column and
change-type keep a column's indexes, UNIQUE and CHECK constraints, outgoing
foreign keys, comment, column grants, statistics target and owned sequence
(see :mod:`expandcontract.catalog.inventory`). The steps, in the order the
phases run them:

``check``   (expand, first) read the source column's inventory, refuse with a
            message naming the object if something cannot be carried, and
            record it in ``expandcontract_carried``: the later steps, and the
            rollback, work from that record, so a rerun sees the same list.
``expand``  (expand, last) recreate each on the target under a generated name:
            CHECK and foreign keys ``NOT VALID``, indexes ``CONCURRENTLY``
            (UNIQUE ones too), comment, grants, statistics; the views and
            policies reading the source are tried on the target and undone.
``switch``  ``VALIDATE`` the carried constraints, each in its own transaction,
            and give other tables' foreign keys to the column a copy pointing at
            the target (NOT VALID, then validated).
``unswitch`` (the switch's downgrade) those copies go again.
``hand_over`` (contract, before the source column goes) the owned sequence
            now belongs to the target, so dropping the source keeps it, and a
            carried replica identity index becomes the table's replica identity
            (in the swap's transaction: a published table without one refuses
            every UPDATE and DELETE), and views (``CREATE OR REPLACE``, output
            columns kept), policies (``ALTER POLICY``) and publications' column
            lists and row filters (the table given to each again) read the target.
``rename``  (contract, after) the carried objects take the original names;
            a carried UNIQUE index becomes the UNIQUE constraint again.
``restore`` (the contract's downgrade, once the source is back and filled)
            the target's objects go back to their generated names and the
            originals are recreated on the source from the record (the
            replica identity too), and views, policies and publications read
            the source again.
``forget``  (the expand's downgrade) the record goes with the target column.

drop-column uses two more, with no target: ``record`` (before the drop: the
inventory, whatever it holds) and ``recreate`` (once the downgrade has brought
the column back: its indexes, constraints, comment, grants and statistics).

Every step is idempotent: each object is looked up before it is made,
renamed or validated, and an index left INVALID by a failed build is rebuilt.
"""

from __future__ import annotations

import json

from sqlalchemy import text

from expandcontract.catalog import bookkeeping, probes
from expandcontract.catalog.bookkeeping import CARRIED
from expandcontract.catalog.inventory import column_inventory
from expandcontract.ops import constraint
from expandcontract.ops import index as indexes
from expandcontract.ops.registry import needs_database, online, operation
from expandcontract.schema import rewrite
from expandcontract.schema.names import object_name, quote


class CarryError(Exception):
    """Something attached to the column cannot be carried over safely."""


def carried_name(original: str, target: str) -> str:
    return object_name(original, target, prefix="ec")


@operation
def carry_over(operations, table_name, source, target, step) -> None:
    """One step of carrying ``source``'s indexes, constraints, comment, grants,
    statistics target and sequence over to ``target`` (see :mod:`expandcontract.ops.carry`
    for the steps)."""
    if step not in STEPS:
        raise ValueError(f"carry_over: step must be one of {', '.join(STEPS)}, not {step!r}")
    if not online(operations):
        needs_database(operations, f"op.carry_over(..., {step!r})")
        operations.execute(f"-- carry_over {step}: {table_name}.{source} -> {target} (catalog)")
        return
    STEPS[step](operations, table_name, source, target)


def _bind(operations):
    return operations.get_bind()


def _records(operations, table: str, source: str, target: str) -> list[dict]:
    bind = _bind(operations)
    if not bookkeeping.exists(bind, CARRIED):
        return []
    rows = bind.execute(
        text(
            f"SELECT kind, name, carried, definition, extra FROM {CARRIED} "
            "WHERE table_name = :t AND source = :s AND target = :n ORDER BY position"
        ),
        {"t": table, "s": source, "n": target},
    ).mappings()
    return [dict(row) for row in rows]


def _check(operations, table, source, target) -> None:
    _save(operations, table, source, target, strict=True)


def _record(operations, table, source, target) -> None:
    _save(operations, table, source, target, strict=False)


def _save(operations, table, source, target, strict: bool) -> None:
    from expandcontract.catalog.inventory import MissingColumn
    from expandcontract.ops.sync import name as sync_name

    bind = _bind(operations)
    if _records(operations, table, source, target):
        return  # recorded by an earlier run
    try:
        inventory = column_inventory(bind, table, source, sync_name(table, source, target))
    except MissingColumn:
        if strict:
            raise
        return  # dropped by an earlier run, before its record was kept: nothing to keep
    if not strict and not target:  # drop-column: what the DROP would break for others
        from expandcontract.catalog.inventory import drop_problems

        problems = drop_problems(bind, table, source)
        if problems:
            raise CarryError(f"cannot drop {table}.{source}:\n  - " + "\n  - ".join(problems))
    if strict and inventory.refusals:
        raise CarryError(
            f"cannot replace {table}.{source} while both versions run:\n  - "
            + "\n  - ".join(inventory.refusals)
        )
    bookkeeping.ensure(bind, CARRIED)
    for position, item in enumerate(inventory.attachments):
        bind.execute(
            text(
                f"INSERT INTO {CARRIED} VALUES (:t, :s, :n, :p, :k, :name, :carried, :d, "
                "CAST(:x AS jsonb))"
            ),
            {
                "t": table,
                "s": source,
                "n": target,
                "p": position,
                "k": item.kind,
                "name": item.name,
                "carried": carried_name(item.name, target) if item.name else "",
                "d": item.definition,
                "x": json.dumps(item.extra),
            },
        )


def _column_extras(operations, table: str, column: str, record: dict) -> None:
    """Comment, grant or statistics target of ``record``, given to ``column``."""
    t, c = quote(table), quote(column)
    kind = record["kind"]
    if kind == "comment":
        literal = "'" + record["definition"].replace("'", "''") + "'"
        operations.execute(f"COMMENT ON COLUMN {t}.{c} IS {literal}")
    elif kind == "grant":
        option = " WITH GRANT OPTION" if record["extra"].get("grantable") else ""
        operations.execute(f"GRANT {record['definition']} ({c}) ON {t} TO {record['name']}{option}")
    elif kind == "statistics":
        operations.execute(
            f"ALTER TABLE {t} ALTER COLUMN {c} SET STATISTICS {int(record['definition'])}"
        )


def _expand(operations, table, source, target) -> None:
    records = _records(operations, table, source, target)
    t = quote(table)
    for record in records:
        kind, carried = record["kind"], record["carried"]
        if kind == "check" and not probes.constraint_exists(_bind(operations), table, carried):
            definition = rewrite.rename_column(record["definition"], source, target)
            operations.execute(
                f"ALTER TABLE {t} ADD CONSTRAINT {quote(carried)} {rewrite.not_valid(definition)}"
            )
        elif kind == "foreign_key" and not probes.constraint_exists(
            _bind(operations), table, carried
        ):
            definition = rewrite.carried_foreign_key(record["definition"], source, target)
            operations.execute(
                f"ALTER TABLE {t} ADD CONSTRAINT {quote(carried)} {rewrite.not_valid(definition)}"
            )
        else:
            _column_extras(operations, table, target, record)
    # the views and policies contract will point at the target, tried now and undone:
    # a definition PostgreSQL refuses stops expand, not contract
    _readers_to(operations, table, source, target, records, trial=True)
    for record in records:  # last: each builds in autocommit, after the rest is committed
        if record["kind"] in ("index", "unique", "primary_key"):
            sql = rewrite.carried_index(record["definition"], source, target, record["carried"])
            indexes.build(operations, table, record["carried"], sql)


def _switch(operations, table, source, target) -> None:
    for record in _records(operations, table, source, target):
        if record["kind"] in ("check", "foreign_key"):
            constraint.validate_if_needed(operations, table, record["carried"])
        elif record["kind"] == "referenced_by":
            _point(operations, record, record["carried"], source, target)


def _unswitch(operations, table, source, target) -> None:
    """Back to what expand left: no copies on other tables, carried constraints NOT VALID
    again (dropped and re-added NOT VALID: catalog only, a brief lock)."""
    for record in _records(operations, table, source, target):
        if record["kind"] == "referenced_by":
            _drop_constraint(
                operations, record["extra"]["table"], record["carried"], record["extra"]["parent"]
            )
        elif record["kind"] in ("check", "foreign_key") and probes.constraint_validated(
            _bind(operations), table, record["carried"]
        ):
            _drop_constraint(operations, table, record["carried"])
    _expand(operations, table, source, target)  # re-adds them NOT VALID; the rest is there


def _point(operations, record: dict, name: str, old: str, new: str) -> None:
    """The other table's foreign key, as ``name``, referencing column ``new`` of our table
    instead of ``old``: added NOT VALID (a brief lock on both tables), then validated."""
    other = record["extra"]["table"]
    if not probes.constraint_exists(_bind(operations), other, name):
        _lock_first(operations, record["extra"]["parent"], "SHARE ROW EXCLUSIVE")
        definition = record["definition"]
        if old != new:
            definition = rewrite.referencing_foreign_key(definition, old, new)
        operations.execute(
            f"ALTER TABLE {quote(other)} ADD CONSTRAINT {quote(name)} "
            f"{rewrite.not_valid(definition)}"
        )
    constraint.validate_if_needed(operations, other, name)


def _drop_constraint(operations, table: str, name: str, parent: str | None = None) -> None:
    if parent and probes.constraint_exists(_bind(operations), table, name):
        # a foreign key: both tables, the referenced one first (see _lock_first)
        _lock_first(operations, parent, "ACCESS EXCLUSIVE")
    constraint.drop(operations, table, name)


def _lock_first(operations, parent: str, mode: str) -> None:
    """Lock the referenced table before touching a foreign key on the referencing one.

    Adding or dropping a foreign key locks both tables, the referencing one first. An
    application transaction that writes the parent row, then the child (a customer,
    then their order), holds them the other way round: a deadlock, and PostgreSQL's
    detector (after deadlock_timeout, 1 s, before our lock_timeout) may cancel the
    application's query. Taking the parent first follows the application's order."""
    operations.execute(f"LOCK TABLE {quote(parent)} IN {mode} MODE")


def _identity_to(operations, table: str, source: str, target: str, kind: str) -> None:
    """Move the identity from ``source`` to ``target`` (NOT NULL already), the sequence's
    position kept: the new one continues where the old one stopped. In one transaction
    holding the table's lock, so no insert takes a value in between. It arrives BY
    DEFAULT (a rerun's refill may still write the column); :func:`_identity_always`
    makes it ALWAYS again, last."""
    bind = _bind(operations)
    t = quote(table)
    if probes.identity_of(bind, table, target):
        return  # moved by an earlier run
    sequence = probes.serial_sequence(bind, table, source)
    position = (
        bind.execute(text(f"SELECT last_value, is_called FROM {sequence}")).fetchone()
        if sequence
        else None
    )
    if sequence:
        operations.execute(f"ALTER TABLE {t} ALTER COLUMN {quote(source)} DROP IDENTITY")
    # an identity has no default: the sync trigger's marker on the target goes first
    operations.execute(f"ALTER TABLE {t} ALTER COLUMN {quote(target)} DROP DEFAULT")
    operations.execute(
        f"ALTER TABLE {t} ALTER COLUMN {quote(target)} ADD GENERATED BY DEFAULT AS IDENTITY"
    )
    if position is not None:
        new_sequence = probes.serial_sequence(bind, table, target)
        bind.execute(
            text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
            {"s": new_sequence, "v": position[0], "called": position[1]},
        )


def _identity_always(operations, table: str, column: str, kind: str) -> None:
    if kind == "a":
        operations.execute(
            f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET GENERATED ALWAYS"
        )


def _replica_identity(operations, table: str, index: str) -> None:
    """``REPLICA IDENTITY USING INDEX index``, unless it is already: catalog only, under
    the ACCESS EXCLUSIVE lock the swap holds anyway. A published table without its
    replica identity index refuses every UPDATE and DELETE."""
    if not probes.index_valid(_bind(operations), table, index):
        return  # not there (renamed by an earlier run, or not built): nothing to point at
    if probes.replica_identity_index(_bind(operations), table) == index:
        return
    operations.execute(f"ALTER TABLE {quote(table)} REPLICA IDENTITY USING INDEX {quote(index)}")


def _reader_sql(record: dict, table: str, source: str, target: str | None, cast) -> str:
    """A view or policy ``record`` reading ``target`` (``cast``: the source's type, for
    a target of another type), or as it was (``target`` None)."""
    kind, name, extra = record["kind"], record["name"], record["extra"]
    if kind == "publication":
        # given the table again, in one transaction: subscribers see one change at commit
        columns = [target if c == source and target else c for c in extra["columns"]]
        listed = f" ({', '.join(quote(c) for c in columns)})" if columns else ""
        where = record["definition"]
        if where and target is not None:
            where = rewrite.expression(where, source, target, cast)
        where = f" WHERE ({where})" if where else ""
        return (
            f"ALTER PUBLICATION {quote(name)} DROP TABLE {quote(table)}; "
            f"ALTER PUBLICATION {quote(name)} ADD TABLE {quote(table)}{listed}{where}"
        )
    if kind == "view":
        query = record["definition"].strip().rstrip(";")
        if target is not None:
            query = rewrite.view_query(query, table, source, target, cast)
        options = f" WITH ({', '.join(extra['options'])})" if extra.get("options") else ""
        return f"CREATE OR REPLACE VIEW {name}{options} AS {query}"
    clauses = []
    for clause, expression in (("USING", record["definition"]), ("WITH CHECK", extra["check"])):
        if expression:
            if target is not None:
                expression = rewrite.expression(expression, source, target, cast)
            clauses.append(f"{clause} ({expression})")
    return f"ALTER POLICY {quote(name)} ON {quote(table)} {' '.join(clauses)}"


def _readers_to(operations, table, source, target, records, trial=False) -> None:
    """Views, row-level security policies and publications' column lists and row filters
    reading ``source`` read ``target`` instead (``target`` None: as recorded, reading
    ``source`` again). A view keeps its output
    columns (``CREATE OR REPLACE VIEW``: its grants and the views on it stay); with a
    target of another type, it reads it cast to the source's type, and means the same.
    ``trial``: each is made and undone in a savepoint, its locks released with it."""
    readers = [r for r in records if r["kind"] in ("view", "policy", "publication")]
    if not readers:
        return
    bind = _bind(operations)
    cast = None
    if target is not None:
        now = probes.column_type(bind, table, target)
        if now is not None and now != readers[0]["extra"].get("type"):
            cast = readers[0]["extra"].get("type")
    for record in readers:
        sql = _reader_sql(record, table, source, target, cast)
        if not trial:
            operations.execute(sql)
            continue
        savepoint = bind.begin_nested()
        try:
            bind.exec_driver_sql(sql)
        except Exception as err:
            what = {"view": "view", "publication": "publication"}.get(
                record["kind"], "row-level security policy"
            )
            message = str(getattr(err, "orig", err)).strip().splitlines()[0]
            raise CarryError(
                f"{what} {record['name']} cannot be pointed at {table}.{target} ({message}): "
                f"redefine it in a revision before this change's expand so that it can, or "
                "drop it there and create it again after contract. Nothing was changed"
            ) from None
        finally:
            savepoint.rollback()


def _hand_over(operations, table, source, target) -> None:
    records = _records(operations, table, source, target)
    if probes.has_column(_bind(operations), table, source):  # not dropped by an earlier run
        # before the source goes with its column: in the same transaction as the swap
        _readers_to(operations, table, source, target, records)
    for record in records:
        if record["extra"].get("replica_identity"):
            # before the source's index goes with its column: in the same transaction
            _replica_identity(operations, table, record["carried"])
        if record["kind"] == "sequence":
            operations.execute(
                f"ALTER SEQUENCE {record['name']} OWNED BY {quote(table)}.{quote(target)}"
            )
        elif record["kind"] == "identity":
            _identity_to(operations, table, source, target, record["definition"])
            _identity_always(operations, table, target, record["definition"])
        elif record["kind"] == "referenced_by":
            # the copy pointing at the target has been enforced since switch
            _drop_constraint(
                operations, record["extra"]["table"], record["name"], record["extra"]["parent"]
            )


def _rename(operations, table, source, target) -> None:
    for record in _records(operations, table, source, target):
        kind, name, carried = record["kind"], record["name"], record["carried"]
        if kind in ("check", "foreign_key"):
            constraint.rename(operations, table, carried, name)
        elif kind == "index":
            indexes.rename(operations, table, carried, name)
        elif kind in ("unique", "primary_key") and not probes.constraint_exists(
            _bind(operations), table, name
        ):
            if probes.constraint_exists(_bind(operations), table, carried):
                # a constraint already (an undone contract left it one): a rename does
                constraint.rename(operations, table, carried, name)
                continue
            index = record["extra"].get("index", name)
            indexes.rename(operations, table, carried, index)
            what = "PRIMARY KEY" if kind == "primary_key" else "UNIQUE"
            operations.execute(
                f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {what} USING INDEX "
                f"{quote(index)}"
            )
        elif kind == "referenced_by":
            constraint.rename(operations, record["extra"]["table"], carried, name)


def _restore(operations, table, source, target) -> None:
    records = _records(operations, table, source, target)
    # the target's objects take their generated names again: the originals' are free.
    # Only the target's: on a rerun, an original may be back on the source already
    for record in records:
        kind, name, carried = record["kind"], record["name"], record["carried"]
        if kind in ("check", "foreign_key", "unique", "primary_key"):
            if probes.constraint_on(_bind(operations), table, name, table, target):
                constraint.rename(operations, table, name, carried)
        elif kind == "index":
            if probes.index_on(_bind(operations), table, name, target):
                indexes.rename(operations, table, name, carried)
        elif kind == "referenced_by":
            other = record["extra"]["table"]
            if probes.constraint_on(_bind(operations), other, name, table, target, referenced=True):
                constraint.rename(operations, other, name, carried)
    _originals(operations, table, source, records, target)
    _identity_back(operations, table, records)
    _readers_to(operations, table, source, None, records)  # reading the source again


def _identity_back(operations, table: str, records: list[dict]) -> None:
    """The original index, rebuilt on the source, is the replica identity again: the
    target's may lose its NOT NULL (switch undone) or go with its column (expand undone)."""
    for record in records:
        if record["extra"].get("replica_identity"):
            index = record["extra"].get("index", record["name"])
            _replica_identity(operations, table, index)


def _recreate(operations, table, source, target) -> None:
    records = _records(operations, table, source, target)
    _originals(operations, table, source, records, "")
    _identity_back(operations, table, records)


def _originals(operations, table: str, source: str, records: list[dict], target: str) -> None:
    """Everything recorded, made again on ``source`` under the original names; with a
    ``target`` (an undone contract), the primary key and identity move back from it."""
    t = quote(table)
    for record in records:
        kind, name = record["kind"], record["name"]
        if kind in ("check", "foreign_key") and not probes.constraint_exists(
            _bind(operations), table, name
        ):
            operations.execute(
                f"ALTER TABLE {t} ADD CONSTRAINT {quote(name)} "
                f"{rewrite.not_valid(record['definition'])}"
            )
        elif kind == "sequence":
            operations.execute(f"ALTER SEQUENCE {name} OWNED BY {t}.{quote(source)}")
        elif kind == "identity" and target:
            _identity_to(operations, table, target, source, record["definition"])
        elif kind not in ("index", "unique", "primary_key", "referenced_by"):
            _column_extras(operations, table, source, record)
    for record in records:
        kind, name = record["kind"], record["name"]
        if kind == "index":
            indexes.build(operations, table, name, rewrite.original_index(record["definition"]))
        elif kind == "unique" and not probes.constraint_exists(_bind(operations), table, name):
            index = record["extra"].get("index", name)
            indexes.build(operations, table, index, rewrite.original_index(record["definition"]))
            operations.execute(
                f"ALTER TABLE {t} ADD CONSTRAINT {quote(name)} UNIQUE USING INDEX {quote(index)}"
            )
        elif kind == "primary_key":
            indexes.build(
                operations,
                table,
                record["extra"].get("index", name),
                rewrite.original_index(record["definition"]),
            )
        elif kind in ("check", "foreign_key"):
            constraint.validate_if_needed(operations, table, name)
    for record in records:  # the other tables' keys point at the source again
        if record["kind"] == "referenced_by":
            _point(operations, record, record["name"], source, source)
    primary = [r for r in records if r["kind"] == "primary_key"]
    if primary:
        _primary_key_back(operations, table, source, target, primary[0], records)
    if target and not [r for r in records if r["kind"] == "referenced_by"]:
        for record in records:  # as switch left it: a unique index, not yet a constraint
            if record["kind"] != "unique":
                continue
            if probes.constraint_on(_bind(operations), table, record["carried"], table, target):
                _drop_constraint(operations, table, record["carried"])
            # built again, or found built by the run this one finishes
            sql = rewrite.carried_index(record["definition"], source, target, record["carried"])
            indexes.build(operations, table, record["carried"], sql)
    for record in records:
        if record["kind"] == "identity" and target:
            _identity_always(operations, table, source, record["definition"])


def _primary_key_back(operations, table, source, target, record, records) -> None:
    """Only one primary key per table: the target's (renamed to its generated name) gives
    way to the source's, then the target gets back its unique index and the other
    tables' keys pointing at it, as switch left them."""
    name, carried = record["name"], record["carried"]
    index = record["extra"].get("index", name)
    incoming = [r for r in records if r["kind"] == "referenced_by"]
    if not probes.constraint_on(
        _bind(operations), table, name, table, source
    ):  # not moved back yet
        for other in incoming:  # they depend on the target's key index
            _drop_constraint(
                operations, other["extra"]["table"], other["carried"], other["extra"]["parent"]
            )
        _drop_constraint(operations, table, carried)
        operations.execute(
            f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} PRIMARY KEY USING INDEX "
            f"{quote(index)}"
        )
    if target:  # each step finds what an interrupted run left, and does the rest
        sql = rewrite.carried_index(record["definition"], source, target, carried)
        indexes.build(operations, table, carried, sql)
        for other in incoming:
            _point(operations, other, other["carried"], source, target)


def _forget(operations, table, source, target) -> None:
    if bookkeeping.exists(_bind(operations), CARRIED):
        _bind(operations).execute(
            text(f"DELETE FROM {CARRIED} WHERE table_name = :t AND source = :s AND target = :n"),
            {"t": table, "s": source, "n": target},
        )


STEPS = {
    "check": _check,
    "expand": _expand,
    "switch": _switch,
    "unswitch": _unswitch,
    "hand_over": _hand_over,
    "rename": _rename,
    "restore": _restore,
    "forget": _forget,
    "record": _record,
    "recreate": _recreate,
}
