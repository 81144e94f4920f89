"""What hangs on a column, read from the catalog: what a phased change must carry over.

:func:`column_inventory` lists, for one column of one table, everything that a
rename or a type change would lose if the column were simply replaced:

- indexes naming it (as a key, in an expression or in a partial predicate), with
  the constraint they back (PRIMARY KEY, UNIQUE, EXCLUDE) and whether the table's
  ``REPLICA IDENTITY USING INDEX`` names it;
- CHECK constraints, foreign keys from it (outgoing) and to it (incoming);
- its comment, column grants and statistics target;
- the sequence it owns (serial);

- the primary key it is in, its identity, and foreign keys pointing at it;

and what cannot be carried safely while both application versions run, each
as a sentence naming the object and what to do (:attr:`Inventory.refusals`):
views and materialized views reading it, row-level security policies,
``UPDATE OF`` triggers, generated columns computed from it, exclusion
constraints, constraint triggers, partitioned tables, and publications whose
column list or row filter names it.

Every object is read by its dependency on the column (``pg_depend``), so an
index whose predicate alone names the column is found too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from expandcontract.catalog import probes
from expandcontract.schema.names import quote


@dataclass
class Attachment:
    kind: str  # index | unique | check | foreign_key | comment | grant | statistics | sequence
    name: str  # the object's name (the index, the constraint; "" for comment and the like)
    definition: str  # SQL as the catalog gives it (pg_get_indexdef, pg_get_constraintdef, ...)
    extra: dict = field(default_factory=dict)


@dataclass
class Inventory:
    table: str
    column: str
    attachments: list[Attachment] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def of(self, kind: str) -> list[Attachment]:
        return [a for a in self.attachments if a.kind == kind]


class MissingColumn(LookupError):
    pass


def regclass(table: str) -> str:
    """The text ``to_regclass`` reads as ``table``: quoted, so mixed case and odd names
    survive (``to_regclass('Orders')`` would look for ``orders``)."""
    return quote(table)


def column_inventory(bind, table: str, column: str, ignore_trigger: str = "") -> Inventory:
    """Everything attached to ``table.column``; ``ignore_trigger``: our own sync trigger."""
    rel = regclass(table)
    row = bind.execute(
        text(
            "SELECT c.oid, a.attnum, a.attidentity, a.attstattarget, "
            "col_description(c.oid, a.attnum), c.relkind "
            "FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE c.oid = to_regclass(:t) AND a.attname = :c AND NOT a.attisdropped"
        ),
        {"t": rel, "c": column},
    ).fetchone()
    if row is None:
        raise MissingColumn(f"{table}.{column} does not exist")
    oid, attnum, identity, stattarget, comment, relkind = row
    inv = Inventory(table, column)
    params = {"oid": oid, "attnum": attnum}

    if identity:
        inv.attachments.append(Attachment("identity", "", identity))
    if relkind == "p":
        inv.refusals.append(
            f"{table} is partitioned: its indexes and constraints would have to be built on "
            "every partition and attached, which expandcontract does not do yet. "
            + _MAINTENANCE.format(table=quote(table), column=quote(column), where="every partition")
        )
    _inheritance(bind, inv, params)

    for name, definition, unique, primary, conname, contype, replica in bind.execute(
        text(
            """
            SELECT ic.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary,
                   con.conname, con.contype, i.indisreplident
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
            WHERE i.indrelid = :oid AND (
                :attnum = ANY (i.indkey::int2[])
                OR EXISTS (  -- an expression or a predicate naming it
                    SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                      AND d.refobjid = :oid AND d.refobjsubid = :attnum))
            ORDER BY ic.relname
            """
        ),
        params,
    ):
        # the table's REPLICA IDENTITY USING INDEX: the carried index takes it over
        identity = {"replica_identity": True} if replica else {}
        if primary:
            inv.attachments.append(
                Attachment("primary_key", conname, definition, {"index": name, **identity})
            )
        elif contype == "x":
            inv.refusals.append(
                f"exclusion constraint {conname} on {table} uses {column}: drop it first, "
                "or change the column in a maintenance window"
            )
        elif contype == "u":
            inv.attachments.append(
                Attachment("unique", conname, definition, {"index": name, **identity})
            )
        else:
            inv.attachments.append(
                Attachment("index", name, definition, {"unique": unique, **identity})
            )

    for conname, contype, definition, source, points_at, points_from in bind.execute(
        text(
            """
            SELECT con.conname, con.contype, pg_get_constraintdef(con.oid),
                   n.nspname || '.' || oc.relname,
                   con.confrelid = :oid AND :attnum = ANY (con.confkey),
                   con.conrelid = :oid AND :attnum = ANY (con.conkey)
            FROM pg_constraint con
            JOIN pg_class oc ON oc.oid = con.conrelid
            JOIN pg_namespace n ON n.oid = oc.relnamespace
            WHERE (con.conrelid = :oid AND :attnum = ANY (con.conkey))
               OR (con.confrelid = :oid AND :attnum = ANY (con.confkey))
            ORDER BY con.conname
            """
        ),
        params,
    ):
        if contype == "c":
            inv.attachments.append(Attachment("check", conname, definition))
        elif contype == "f" and points_at and points_from:
            inv.refusals.append(
                f"foreign key {conname} on {table} both uses and references {column}: "
                "recreate it by hand"
            )
        elif contype == "f" and points_at:
            inv.attachments.append(
                Attachment("referenced_by", conname, definition, {"table": source, "parent": table})
            )
        elif contype == "f" and points_from:
            inv.attachments.append(Attachment("foreign_key", conname, definition))
        elif contype == "t":
            inv.refusals.append(
                f"constraint trigger {conname} on {table} watches {column}: recreate it on the "
                "new column by hand"
            )

    if comment is not None:
        inv.attachments.append(Attachment("comment", "", comment))
    if stattarget is not None and stattarget >= 0:
        inv.attachments.append(Attachment("statistics", "", str(stattarget)))
    for grantee, privilege, grantable in bind.execute(
        text(
            """
            SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END,
                   x.privilege_type, x.is_grantable
            FROM pg_attribute a, aclexplode(a.attacl) x
            LEFT JOIN pg_roles r ON r.oid = x.grantee
            WHERE a.attrelid = :oid AND a.attnum = :attnum
            ORDER BY 1, 2
            """
        ),
        params,
    ):
        inv.attachments.append(
            Attachment("grant", grantee, privilege, {"grantable": bool(grantable)})
        )
    for (sequence,) in bind.execute(
        text(
            """
            SELECT quote_ident(n.nspname) || '.' || quote_ident(s.relname)
            FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
            JOIN pg_namespace n ON n.oid = s.relnamespace
            WHERE d.classid = 'pg_class'::regclass AND s.relkind = 'S' AND d.deptype = 'a'
              AND d.refobjid = :oid AND d.refobjsubid = :attnum
            """
        ),
        params,
    ):
        inv.attachments.append(Attachment("sequence", sequence, sequence))

    _dependents(bind, inv, params, ignore_trigger)
    return inv


# what to do when no online path exists: one plain revision, run while nothing writes
_MAINTENANCE = (
    "Make the change in a maintenance window instead, as one plain revision outside the "
    "phase branches (alembic revision), run with the application stopped: ALTER TABLE "
    "{table} RENAME COLUMN {column} TO <new> (catalog only) or ALTER TABLE {table} ALTER "
    "COLUMN {column} TYPE <type> (rewrites the table and {where})"
)


def _inheritance(bind, inv: Inventory, params: dict) -> None:
    """Inheritance (``pg_inherits``, partitions aside): a sync trigger on the parent does
    not fire for rows written to its children, and their indexes are their own."""
    table, column = inv.table, inv.column
    children = [
        child
        for (child,) in bind.execute(
            text(
                "SELECT i.inhrelid::regclass::text FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = :oid AND NOT c.relispartition ORDER BY 1"
            ),
            params,
        )
    ]
    if (
        children
        and bind.execute(
            text("SELECT relkind <> 'p' FROM pg_class WHERE oid = :oid"), params
        ).scalar()
    ):
        inv.refusals.append(
            f"{table} has inheritance children ({', '.join(children)}): rows written to them "
            f"would bypass the sync trigger on {table}, and their own indexes and constraints "
            f"on {column} would not be carried. "
            + _MAINTENANCE.format(
                table=quote(table), column=quote(column), where=", ".join(children)
            )
        )
    inherited = bind.execute(
        text(
            "SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno), "
            "bool_or(c.relispartition) FROM pg_attribute a "
            "JOIN pg_inherits i ON i.inhrelid = a.attrelid "
            "JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE a.attrelid = :oid AND a.attnum = :attnum AND a.attinhcount > 0"
        ),
        params,
    ).fetchone()
    if inherited and inherited[0]:
        what = "a partition of" if inherited[1] else "inherited from"
        inv.refusals.append(
            f"{table}.{column} is {what} {inherited[0]}: PostgreSQL renames or retypes it "
            f"only there; change {column} on {inherited[0]} instead"
        )


def _dependents(bind, inv: Inventory, params: dict, ignore_trigger: str) -> None:
    where = f"{inv.table}.{inv.column}"
    for (view,) in bind.execute(
        text(
            """
            SELECT DISTINCT r.ev_class::regclass::text FROM pg_depend d
            JOIN pg_rewrite r ON r.oid = d.objid
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = :oid
              AND d.refobjsubid = :attnum AND r.ev_class <> :oid
            """
        ),
        params,
    ):
        inv.refusals.append(
            f"view {view} reads {where}: it would break at contract; redefine it on the new "
            "column (CREATE OR REPLACE VIEW) in its own revision first"
        )
    _publications(bind, inv, params)
    for (policy,) in bind.execute(
        text(
            """
            SELECT p.polname FROM pg_depend d JOIN pg_policy p ON p.oid = d.objid
            WHERE d.classid = 'pg_policy'::regclass AND d.refobjid = :oid
              AND d.refobjsubid = :attnum
            """
        ),
        params,
    ):
        inv.refusals.append(
            f"row-level security policy {policy} on {inv.table} uses {inv.column}: recreate it "
            "on the new column first"
        )
    for (trigger,) in bind.execute(
        text(
            """
            SELECT tgname FROM pg_trigger
            WHERE tgrelid = :oid AND NOT tgisinternal AND :attnum = ANY (tgattr::int2[])
            ORDER BY tgname
            """
        ),
        params,
    ):
        if trigger != ignore_trigger:
            inv.refusals.append(
                f"trigger {trigger} on {inv.table} fires on UPDATE OF {inv.column}: it would "
                "not fire for the new version's writes; make it fire on the new column too first"
            )
    for (generated,) in bind.execute(
        text(
            """
            SELECT a.attname FROM pg_depend d
            JOIN pg_attrdef ad ON ad.oid = d.objid
            JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
            WHERE d.classid = 'pg_attrdef'::regclass AND d.refobjid = :oid
              AND d.refobjsubid = :attnum AND a.attgenerated <> '' AND a.attnum <> :attnum
            """
        ),
        params,
    ):
        inv.refusals.append(
            f"generated column {inv.table}.{generated} is computed from {inv.column}: redefine "
            "it on the new column first"
        )


def _publications(bind, inv: Inventory, params: dict) -> None:
    """Publications whose column list or row filter (PostgreSQL 15+) names the column.

    The subscribers' tables follow a column list, and a row filter is evaluated on the
    column: neither can name the new column while both versions run, and the contract's
    DROP COLUMN fails on them (or, dropped with CASCADE, the table leaves the
    publication). A publication of the whole table needs nothing: the replica identity
    moves with the carried index."""
    if probes.server_version(bind) < 150000:
        return
    table, column = inv.table, inv.column
    for publication, listed, row_filter in bind.execute(
        text(
            """
            SELECT p.pubname, :attnum = ANY (pr.prattrs::int2[]),
                   pg_get_expr(pr.prqual, pr.prrelid)
            FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
            WHERE pr.prrelid = :oid AND EXISTS (
                SELECT 1 FROM pg_depend d
                WHERE d.classid = 'pg_publication_rel'::regclass AND d.objid = pr.oid
                  AND d.refobjid = :oid AND d.refobjsubid = :attnum)
            ORDER BY p.pubname
            """
        ),
        params,
    ):
        pub = quote(publication)
        if listed:
            inv.refusals.append(
                f"publication {publication} publishes {table}.{column} in its column list, "
                "which its subscribers' tables follow: it cannot name the new column while "
                f"both versions run. In a revision before this change's expand, take "
                f"{column} out of it (ALTER PUBLICATION {pub} SET TABLE {quote(table)} "
                f"(<the other columns>), or ALTER PUBLICATION {pub} DROP TABLE "
                f"{quote(table)}); after contract, add the new column (ALTER PUBLICATION "
                f"{pub} SET TABLE ...) and run ALTER SUBSCRIPTION ... REFRESH PUBLICATION "
                "on its subscribers"
            )
        if row_filter and (not listed or column in row_filter):
            inv.refusals.append(
                f"publication {publication} filters {table} on {column} (WHERE {row_filter}): "
                "the filter cannot follow the column while both versions run. In a revision "
                f"before this change's expand, drop the filter (ALTER PUBLICATION {pub} SET "
                f"TABLE {quote(table)}); after contract, set it again on the new column "
                f"(ALTER PUBLICATION {pub} SET TABLE {quote(table)} WHERE (...))"
            )
