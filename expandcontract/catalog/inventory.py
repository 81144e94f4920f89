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
- views and row-level security policies reading it, and publications whose
  column list or row filter names it (pointed at the new column by the contract,
  see :mod:`expandcontract.schema.rewrite`);

and what cannot be carried safely while both application versions run, each
as a sentence naming the object and what to do (:attr:`Inventory.refusals`):
materialized views reading it, views and policies whose references to it
cannot be told apart from another relation's, ``UPDATE OF`` triggers,
generated columns computed from it, exclusion constraints, constraint
triggers, partitioned tables, inheritance parents and inherited columns.
Each sentence says what to do and when: in a revision before the change's
expand, after its contract, or in a maintenance window instead.

Every object is read by its dependency on the column (``pg_depend``), so an
index whose predicate alone names the column is found too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from expandcontract.catalog import probes
from expandcontract.schema import rewrite
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
            "SELECT c.oid, a.attnum, a.attidentity::text, a.attstattarget, "
            "col_description(c.oid, a.attnum), c.relkind::text "
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
                   con.conname, con.contype::text, i.indisreplident
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
                f"exclusion constraint {conname} on {table} uses {column}, and an exclusion "
                "constraint has no lock-safe way to be built again. In a revision before this "
                f"change's expand, drop it (ALTER TABLE {quote(table)} DROP CONSTRAINT "
                f"{quote(conname)}) and add it on the new column after contract, in a "
                "maintenance window; or make the whole change there. "
                + _MAINTENANCE.format(table=quote(table), column=quote(column), where="its indexes")
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
            SELECT con.conname, con.contype::text, pg_get_constraintdef(con.oid),
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
                f"foreign key {conname} on {table} both uses and references {column}: it "
                "cannot point from and to the new column while both versions run. In a "
                f"revision before this change's expand, drop it (ALTER TABLE {quote(table)} "
                f"DROP CONSTRAINT {quote(conname)}); after contract, add it again on the new "
                f"column (expandcontract new add-foreign-key {table} <new> {table}.<new>)"
            )
        elif contype == "f" and points_at:
            inv.attachments.append(
                Attachment("referenced_by", conname, definition, {"table": source, "parent": table})
            )
        elif contype == "f" and points_from:
            inv.attachments.append(Attachment("foreign_key", conname, definition))
        elif contype == "t":
            inv.refusals.append(
                f"constraint trigger {conname} on {table} watches {column}: it would not "
                "fire for the new version's writes. In a revision before this change's "
                "expand, recreate it without the column list (DROP TRIGGER, then CREATE "
                "CONSTRAINT TRIGGER ... AFTER UPDATE ON ..., testing the column in its "
                "function); after contract, narrow it to UPDATE OF the new column"
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
    column_type = bind.execute(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = :oid AND attnum = :attnum"
        ),
        params,
    ).scalar()
    for view, qualified, relkind, query, options in bind.execute(
        text(
            """
            SELECT DISTINCT v.oid::regclass::text,
                   quote_ident(n.nspname) || '.' || quote_ident(v.relname), v.relkind::text,
                   CASE WHEN v.relkind IN ('v', 'm') THEN pg_get_viewdef(v.oid) END,
                   v.reloptions
            FROM pg_depend d
            JOIN pg_rewrite r ON r.oid = d.objid
            JOIN pg_class v ON v.oid = r.ev_class
            JOIN pg_namespace n ON n.oid = v.relnamespace
            WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = :oid
              AND d.refobjsubid = :attnum AND r.ev_class <> :oid
            ORDER BY 1
            """
        ),
        params,
    ):
        if relkind == "m":
            inv.refusals.append(
                f"materialized view {view} reads {where}: its stored query cannot be pointed "
                "at the new column in place, and the contract's DROP COLUMN would fail on it. "
                f"In a revision before this change's expand, drop it (DROP MATERIALIZED VIEW "
                f"{qualified}); after contract, create it again reading the new column "
                "(CREATE MATERIALIZED VIEW ... WITH NO DATA, then REFRESH MATERIALIZED VIEW)"
            )
            continue
        problem = None
        if relkind != "v":
            problem = "it is a rule, not a view"
        else:
            try:
                rewrite.view_query(query, inv.table, inv.column, "ec_probe", column_type)
            except rewrite.Unrewritable as err:
                problem = str(err)
        if problem:
            inv.refusals.append(
                f"view {view} reads {where} and cannot be pointed at the new column "
                f"automatically ({problem}). In a revision before this change's expand, "
                "redefine it so that it names the column's table in every reference "
                f"(CREATE OR REPLACE VIEW {qualified} AS ...), or drop it there and "
                "create it again after contract"
            )
            continue
        inv.attachments.append(
            Attachment(
                "view", qualified, query, {"options": list(options or []), "type": column_type}
            )
        )
    _publications(bind, inv, params)
    for policy, using, check in bind.execute(
        text(
            """
            SELECT p.polname, pg_get_expr(p.polqual, p.polrelid),
                   pg_get_expr(p.polwithcheck, p.polrelid)
            FROM pg_depend d JOIN pg_policy p ON p.oid = d.objid
            WHERE d.classid = 'pg_policy'::regclass AND d.refobjid = :oid
              AND d.refobjsubid = :attnum
            ORDER BY 1
            """
        ),
        params,
    ):
        try:
            for expression in (using, check):
                if expression:
                    rewrite.expression(expression, inv.column, "ec_probe", column_type)
        except rewrite.Unrewritable as err:
            inv.refusals.append(
                f"row-level security policy {policy} on {inv.table} uses {inv.column} and "
                f"cannot be pointed at the new column automatically ({err}). In a revision "
                f"before this change's expand, rewrite it without {inv.column} in its "
                f"subquery (ALTER POLICY {quote(policy)} ON {quote(inv.table)} USING (...)); "
                "after contract, point it at the new column the same way"
            )
            continue
        inv.attachments.append(
            Attachment("policy", policy, using or "", {"check": check, "type": column_type})
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
                "not fire for the new version's writes. In a revision before this change's "
                "expand, recreate it without the column list (DROP TRIGGER, then CREATE "
                "TRIGGER ... UPDATE ON ..., with the test in a WHEN clause or its function); "
                "after contract, narrow it to UPDATE OF the new column"
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
            f"generated column {inv.table}.{generated} is computed from {inv.column}, and "
            "PostgreSQL cannot point it at another column without rewriting the table. In "
            "a revision before this change's expand, make it a plain column (ALTER TABLE "
            f"{quote(inv.table)} ALTER COLUMN {quote(generated)} DROP EXPRESSION: catalog "
            "only, PostgreSQL 13+) filled by a BEFORE INSERT OR UPDATE trigger of yours, and "
            "have the contract revision point that trigger's function at the new column "
            "before the old one goes. "
            + _MAINTENANCE.format(
                table=quote(inv.table), column=quote(inv.column), where="its indexes"
            )
        )


def _publications(bind, inv: Inventory, params: dict, dropping: bool = False) -> None:
    """Publications whose column list or row filter (PostgreSQL 15+) names the column.

    PostgreSQL refuses the contract's DROP COLUMN while they do. They are carried: the
    contract gives the table to each again, in the swap's transaction, with the new
    column in the list and the filter (``pub_columns``: the list, by name; the
    definition: the filter). A list is kept by column number, so a new column that then
    takes the old one's name (change-type) is listed under that name. A publication of
    the whole table needs nothing: the replica identity moves with the carried index.
    ``dropping`` (drop-column): each is a refusal instead."""
    if probes.server_version(bind) < 150000:
        return
    table, column = inv.table, inv.column
    column_type = bind.execute(
        text(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = :oid AND attnum = :attnum"
        ),
        params,
    ).scalar()
    for publication, listed, row_filter, columns in bind.execute(
        text(
            """
            SELECT p.pubname, :attnum = ANY (pr.prattrs::int2[]),
                   pg_get_expr(pr.prqual, pr.prrelid),
                   ARRAY(SELECT a.attname FROM unnest(pr.prattrs::int2[]) WITH ORDINALITY
                         AS k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.attnum
                         ORDER BY k.n)
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
        if dropping:
            what = "its column list" if listed else f"its row filter (WHERE {row_filter})"
            inv.refusals.append(
                f"publication {publication} names {table}.{column} in {what}: PostgreSQL "
                "refuses the DROP COLUMN. In a revision before this one, take it out "
                f"(ALTER PUBLICATION {pub} SET TABLE {quote(table)} ..., without {column}) "
                "and run ALTER SUBSCRIPTION ... REFRESH PUBLICATION on its subscribers"
            )
            continue
        if row_filter:
            try:
                rewrite.expression(row_filter, column, "ec_probe")
            except rewrite.Unrewritable as err:
                inv.refusals.append(
                    f"publication {publication} filters {table} on {column} (WHERE "
                    f"{row_filter}) and the filter cannot be pointed at the new column "
                    f"automatically ({err}). In a revision before this change's expand, "
                    f"drop the filter (ALTER PUBLICATION {pub} SET TABLE {quote(table)}); "
                    "after contract, set it again on the new column"
                )
                continue
        inv.attachments.append(
            Attachment(
                "publication",
                publication,
                row_filter or "",
                {"columns": list(columns), "type": column_type},
            )
        )


def drop_problems(bind, table: str, column: str) -> list[str]:
    """What keeps ``table.column`` from being dropped (drop-column's contract): the
    index the table's replica identity uses (every UPDATE and DELETE of a published
    table fails without it), and publications whose column list or row filter names it
    (PostgreSQL refuses the DROP COLUMN)."""
    inv = column_inventory(bind, table, column)
    found = [
        f"{table}.{column} is in index {a.extra.get('index', a.name)}, the table's replica "
        "identity: dropping the column drops it, and a published table then refuses every "
        "UPDATE and DELETE. In a revision before this one, give the table another replica "
        f"identity (ALTER TABLE {quote(table)} REPLICA IDENTITY USING INDEX <a unique index "
        "on NOT NULL columns>, or REPLICA IDENTITY DEFAULT with a primary key)"
        for a in inv.attachments
        if a.extra.get("replica_identity")
    ]
    params = (
        bind.execute(
            text(
                "SELECT attrelid AS oid, attnum FROM pg_attribute "
                "WHERE attrelid = to_regclass(:t) AND attname = :c"
            ),
            {"t": regclass(table), "c": column},
        )
        .mappings()
        .one()
    )
    published = Inventory(table, column)
    _publications(bind, published, dict(params), dropping=True)
    readers = []  # views and policies would be dropped with CASCADE only: PostgreSQL refuses
    for attachment in inv.attachments:
        if attachment.kind == "view":
            readers.append(
                f"view {attachment.name} reads {table}.{column}: PostgreSQL refuses the DROP "
                f"COLUMN. In a revision before this one, redefine it without {column} (DROP "
                "VIEW, then CREATE VIEW: CREATE OR REPLACE VIEW cannot remove an output column)"
            )
        elif attachment.kind == "policy":
            readers.append(
                f"row-level security policy {attachment.name} on {table} reads {column}: "
                "PostgreSQL refuses the DROP COLUMN. In a revision before this one, alter it "
                f"without {column} (ALTER POLICY {quote(attachment.name)} ON {quote(table)} "
                "USING (...))"
            )
    return found + published.refusals + readers
