"""rename-column TABLE OLD NEW

expand: NEW, of OLD's type, kept equal to OLD by a two-way sync trigger, with
OLD's indexes, UNIQUE and CHECK constraints, foreign keys, comment, grants and
statistics target carried over (constraints NOT VALID, indexes CONCURRENTLY);
migrate: existing rows copied in batches; switch: the carried constraints are
validated and NEW becomes NOT NULL if OLD is (the new version reads and writes
NEW, the old one OLD); contract: OLD's default and sequence move to NEW, the
trigger and OLD go, and the carried objects take the original names. Undoing
the contract brings OLD back, refilled from NEW, with all of it. What cannot be
carried (a primary key, a view reading OLD, ...) is refused before anything runs.
"""

from __future__ import annotations

import re

import click

from expandcontract.kinds import IDENTIFIER, Kind, carry_problems
from expandcontract.kinds.replace_column import Replacement
from expandcontract.kinds.replace_column import phases as replaced


def phases(table, old, new):
    return replaced(Replacement(table, old, new))


# --- autogenerate: a column the model marks ``renamed_from`` -----------------------------------


def renames(top: list) -> dict[tuple[str | None, str], dict[str, str]]:
    """(schema, table) -> {old: new} for each column renamed through
    ``info={"expandcontract": {"renamed_from": "old"}}``: autogenerate sees a drop and an
    add, which would lose the data."""
    from alembic.operations import ops

    found: dict[tuple[str | None, str], dict[str, str]] = {}
    for group in top:
        if not isinstance(group, ops.ModifyTableOps):
            continue
        dropped = {o.column_name for o in group.ops if isinstance(o, ops.DropColumnOp)}
        for add in (o for o in group.ops if isinstance(o, ops.AddColumnOp)):
            old = add.column.info.get("expandcontract", {}).get("renamed_from")
            if old in dropped:
                found.setdefault((group.schema, group.table_name), {})[old] = add.column.name
    return found


def _signature(op) -> tuple | None:
    """What an index, UNIQUE or foreign key is, apart from its name and column names:
    (kind, schema, table, name, unique, columns, referent, remote columns)."""
    from alembic.operations import ops

    if isinstance(op, ops.DropIndexOp | ops.DropConstraintOp):
        try:
            op = op.reverse()  # what is dropped, as its creation
        except ValueError:  # Alembic does not have the constraint it drops
            return None
    if isinstance(op, ops.CreateIndexOp):
        columns = tuple(getattr(c, "name", None) or str(c) for c in op.columns)
        return ("index", op.schema, op.table_name, op.index_name, op.unique, columns, None, ())
    if isinstance(op, ops.CreateUniqueConstraintOp):
        return (
            "unique",
            op.schema,
            op.table_name,
            op.constraint_name,
            True,
            tuple(op.columns),
            None,
            (),
        )
    if isinstance(op, ops.CreateForeignKeyOp):
        return (
            "fkey",
            op.kw.get("source_schema"),
            op.source_table,
            op.constraint_name,
            False,
            tuple(op.local_cols),
            (op.kw.get("referent_schema"), op.referent_table),
            tuple(op.remote_cols),
        )
    return None


def carried_by_renames(top: list) -> set[int]:
    """The ids of the drop and create operations a rename's carry-over already makes.

    Autogenerate sees an index, UNIQUE or foreign key on a renamed column as one
    dropped and one created under the same name; the rename phases carry it over,
    so both are left out. One that changes in more than the column's name stays."""
    from alembic.operations import ops

    found = renames(top)
    if not found:
        return set()

    def spelt(columns: tuple, table: tuple[str | None, str], new: bool) -> tuple:
        out = []
        for text in columns:
            for old, name in found.get(table, {}).items():
                word = name if new else old
                text = re.sub(
                    rf'"{re.escape(word)}"|(?<![\w"]){re.escape(word)}(?![\w"])', "\x00" + old, text
                )
            out.append(text)
        return tuple(out)

    def key(op, new: bool) -> tuple | None:
        sig = _signature(op)
        if sig is None:
            return None
        kind, schema, table, name, unique, columns, referent, remote = sig
        columns = spelt(columns, (schema, table), new)
        remote = spelt(remote, referent, new) if referent else remote
        return (kind, schema, table, name, unique, columns, referent, remote)

    def unnamed(k: tuple) -> tuple:
        return k[:3] + k[4:]

    flat = [o for g in top for o in (g.ops if isinstance(g, ops.ModifyTableOps) else [g])]
    drops = {
        key(o, False): o for o in flat if isinstance(o, ops.DropIndexOp | ops.DropConstraintOp)
    }
    carried: set[int] = set()
    for op in flat:
        if isinstance(
            op, ops.CreateIndexOp | ops.CreateUniqueConstraintOp | ops.CreateForeignKeyOp
        ):
            k = key(op, True)
            if k is None:
                continue
            if k[3] is None:
                # unnamed in the model (``unique=True``, ``ForeignKey("items.sku")``): the
                # database has it under the name PostgreSQL gave it, which the carry keeps
                k = next(
                    (
                        d
                        for d in drops
                        if d and unnamed(d) == unnamed(k) and id(drops[d]) not in carried
                    ),
                    k,
                )
            if k in drops:
                carried |= {id(op), id(drops[k])}
    return carried


def precheck(bind, table, old, new):
    return carry_problems(bind, table, old, new)


KIND = Kind(
    name="rename-column",
    help="Rename a column while the old and the new application version both run.",
    params=[
        click.Argument(["table"], type=IDENTIFIER),
        click.Argument(["old"], type=IDENTIFIER),
        click.Argument(["new"], type=IDENTIFIER),
    ],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
)
