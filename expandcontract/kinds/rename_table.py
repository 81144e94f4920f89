"""rename-table OLD NEW

expand: NEW as a simple (automatically updatable) view of OLD, with OLD's
grants, for the new application version; contract: the view goes and the
table takes its name, in one transaction. Undoing the contract renames it back
and restores the view. NEW lives in OLD's schema. The view's columns are OLD's
when expand runs: add columns before or after the rename, not during it.
The view is ``security_invoker`` (PostgreSQL 15+): the caller's grants and
row-level security policies apply through it as on the table; an older server
is refused for a table with RLS enabled. ``COPY NEW FROM STDIN`` does not work
on a view: load through ``INSERT`` (or ``COPY`` into OLD) until contract.
"""

from __future__ import annotations

import click

from expandcontract.kinds import IDENTIFIER, LOCK_TIMEOUT, Kind, Phase, native, r


def phases(old, new):
    from expandcontract.errors import InputError

    if "." in new:
        raise InputError(f"NEW {new!r}: give the new name alone; it stays in {old}'s schema")
    o, n = r(old), r(new)
    name, schema = native(old)  # Alembic's rename_table takes the schema apart
    view, drop = f"op.create_rename_view({o}, {n})", f"op.drop_rename_view({o}, {n})"
    return {
        "expand": Phase([LOCK_TIMEOUT, view], [LOCK_TIMEOUT, drop]),
        "contract": Phase(
            [LOCK_TIMEOUT, drop, f"op.rename_table({name}, {n}{schema})"],
            [LOCK_TIMEOUT, f"op.rename_table({n}, {name}{schema})", view],
        ),
    }


def precheck(bind, old, new):
    from expandcontract.catalog.probes import relation_exists
    from expandcontract.kinds import missing
    from expandcontract.schema.names import in_schema_of

    problems = missing(bind, old)
    target = in_schema_of(old, new)
    if relation_exists(bind, target):
        problems.append(f"{target} already exists")
    if not problems:
        from expandcontract.ops.tables import invoker_problem

        problem = invoker_problem(bind, old)
        if problem:
            problems.append(problem)
    return problems


KIND = Kind(
    name="rename-table",
    help="Rename a table behind an updatable view while both versions run.",
    params=[click.Argument(["old"], type=IDENTIFIER), click.Argument(["new"], type=IDENTIFIER)],
    phases=phases,
    doc=__doc__,
    precheck=precheck,
)
