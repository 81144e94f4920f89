"""What the linter knows at a point in a migration: the state rules judge against.

Rules read the context as it was *before* the operation under judgement; the
engine then applies the operation. This is where a statement's verdict depends
on what came earlier: a table created in the same file is empty, a transaction
still holds the locks of its earlier statements, a validated
``CHECK (c IS NOT NULL)`` makes ``SET NOT NULL`` skip its scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from expandcontract.lint.schema import Schema
from expandcontract.phases import mirror
from expandcontract.sql.op import Op
from expandcontract.sql.target import DEFAULT_VERSION

_NEXTVAL = re.compile(r"(?i)nextval\(\s*'([^']+)'")


@dataclass
class Context:
    pg_version: int = DEFAULT_VERSION
    assume_in_transaction: bool = False
    new_tables: set[str] = field(default_factory=set)
    new_indexes: set[str] = field(default_factory=set)
    # views, sequences, types and domains created earlier in this migration: (kind, name)
    new_objects: set[tuple[str, str]] = field(default_factory=set)
    # expression and partial indexes made earlier in this migration: no constraint can
    # take them over with USING INDEX
    unclaimable_indexes: set[str] = field(default_factory=set)
    # functions created earlier in this migration -> their volatility
    functions: dict[str, str] = field(default_factory=dict)
    # partitioned tables created earlier in this migration
    partitioned: set[str] = field(default_factory=set)
    # enum labels added in the open transaction: PostgreSQL refuses their use before commit
    new_enum_labels: set[str] = field(default_factory=set)
    # (table, column) added earlier in this migration with no default: NULL in every row
    null_columns: set[tuple[str | None, str | None]] = field(default_factory=set)
    in_transaction: bool = False
    # constraints added NOT VALID in the open transaction (or the current statement)
    not_valid_pending: set[tuple[str | None, str | None]] = field(default_factory=set)
    # ... of those, the ones an earlier revision in the same transaction added: -> revision
    not_valid_origin: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    # CHECK (c IS NOT NULL) constraints added NOT VALID, by (table, name) -> column
    not_null_checks: dict[tuple[str | None, str | None], str] = field(default_factory=dict)
    # (table, column) pairs with a valid CHECK (c IS NOT NULL)
    valid_not_null: set[tuple[str | None, str | None]] = field(default_factory=set)
    # CHECK constraints added NOT VALID, and tables that have a validated CHECK
    pending_checks: set[tuple[str | None, str | None]] = field(default_factory=set)
    checked_tables: set[str | None] = field(default_factory=set)
    # (table, column) -> the column's type before this migration, where the input says so
    # (Alembic's existing_type)
    column_types: dict[tuple[str, str], str] = field(default_factory=dict)
    # index -> (its table, the columns it is on where known), and user-defined types: what
    # earlier migrations left and this one changed
    indexes: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    types: set[str] = field(default_factory=set)
    # index -> its columns, where the input says so beyond its SQL (an Alembic op's args)
    index_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lock_timeout: bool = False
    lock_timeout_local: bool = False
    lock_timeout_warned: bool = False
    # Alembic revisions: the phase branch (None when unphased) and the function's direction
    revision: bool = False
    phase: str | None = None
    direction: str = "up"
    # (table, column) added earlier in this migration: no running version knows them
    new_columns: set[tuple[str | None, str | None]] = field(default_factory=set)
    # what earlier migrations and this one established, "<what>:<object>" -> value
    # (lint.schema.Schema.facts): kept from file to file
    facts: dict[str, str] = field(default_factory=dict)
    # relation -> (the strongest lock taken on it in the open transaction, what took it):
    # held until COMMIT, whatever runs meanwhile (pre-existing relations only)
    held: dict[str, tuple[str, str]] = field(default_factory=dict)
    # (table, column) whose default this migration dropped
    dropped_defaults: set[tuple[str | None, str | None]] = field(default_factory=set)
    # the statement being judged, and tables renamed in the open transaction -> the index of
    # the statement that renamed them
    statement_index: int = 0
    renamed_tables: dict[str, int] = field(default_factory=dict)
    # (statement index, rule code) of findings a later statement showed to be harmless
    retracted: set[tuple[int, str]] = field(default_factory=set)
    # functions and procedures of this migration -> (language, body): run where called
    routines: dict[str, tuple[str, str]] = field(default_factory=dict)
    # a DO block or routine body opened a transaction of its own (outside any other)
    block_transaction: bool = False
    # column_types, indexes and facts are a tracked schema's own, changed in place
    shared: bool = False

    def __post_init__(self) -> None:
        self.in_transaction = self.assume_in_transaction

    @property
    def effective_phase(self) -> str | None:
        """The phase whose rules apply: a downgrade is judged by its mirror phase."""
        return mirror(self.phase, self.direction)

    @property
    def removal_expected(self) -> bool:
        """Dropping is this unit's job: a contract, or any downgrade undoing an upgrade."""
        return self.effective_phase == "contract" or (self.revision and self.direction == "down")

    def type_change(self, op: Op) -> str | None:
        """For an ALTER COLUMN TYPE: ``"free"``, ``"rewrite"``, or None when the column's
        current type is not known."""
        from expandcontract.sql.postgres.facts import type_change

        old = self.column_types.get((op.table or "", op.column or ""))
        if old is None or op.type_sql is None or op.has("using"):
            return None
        return type_change(old, op.type_sql)

    def is_new(self, op: Op) -> bool:
        """True when ``op`` acts on a table (or index, view, sequence, type, domain) created
        earlier in this migration."""
        if op.table is not None:
            return op.table in self.new_tables
        if op.kind in ("drop_object", "rename_object", "domain_constraint"):
            kind = op.value or "domain"
            return (kind, op.name or "") in self.new_objects or (
                kind == "view" and op.name in self.new_tables
            )
        return op.name is not None and op.name in self.new_indexes

    def start_from(self, schema: Schema) -> None:
        """Know what the migrations before this one left. A tracked schema (a replay of
        SQL files) is worked on in place, its dicts shared, not copied: copying a schema
        that grows with every file made a replay's cost grow with the square of its
        files."""
        if schema.tracked and not (self.column_types or self.indexes or self.facts):
            self.column_types, self.indexes, self.facts = (
                schema.column_types,
                schema.indexes,
                schema.facts,
            )
            self.shared = True
        else:
            self.column_types.update(schema.column_types)
            self.indexes.update(schema.indexes)
            self.facts.update(schema.facts)
        self.partitioned |= schema.partitioned
        self.types |= schema.types
        self.load_routines()

    def schema(self) -> Schema:
        """What this migration leaves known for the ones after it (in place, when it
        started from a tracked schema: its dicts, as they are now)."""
        if self.shared:
            return Schema(
                self.column_types, set(self.partitioned), self.indexes, set(self.types), self.facts
            )
        return Schema(
            dict(self.column_types),
            set(self.partitioned),
            dict(self.indexes),
            set(self.types),
            dict(self.facts),
        )

    def index_table(self, name: str | None) -> str | None:
        """The table an index is on, where known."""
        known = self.indexes.get(name or "")
        return known[0] if known else None

    def _forget_table(self, table: str) -> None:
        self.column_types = {k: v for k, v in self.column_types.items() if k[0] != table}
        self.indexes = {k: v for k, v in self.indexes.items() if v[0] != table}
        self.partitioned.discard(table)

    def _rename_table(self, table: str, new: str) -> None:
        self.column_types = {
            ((new if t == table else t), c): v for (t, c), v in self.column_types.items()
        }
        self.indexes = {k: ((new if t == table else t), c) for k, (t, c) in self.indexes.items()}

    def load_routines(self) -> None:
        """The functions and procedures earlier migrations created, from their facts."""
        for key, value in self.facts.items():
            if key.startswith("routine:"):
                language, _, body = value.partition("\n")
                self.routines.setdefault(key[8:], (language, body))

    def is_new_column(self, op: Op) -> bool:
        """True when ``op``'s column (or its table) was created earlier in this migration:
        the running application version has never used it."""
        return self.is_new(op) or (op.table, op.column) in self.new_columns

    def sequence_unused(self, sequence: str) -> bool:
        """True when every column default known to use ``sequence`` (a ``nextval`` default,
        or a serial's ``<table>_<column>_seq``) was dropped earlier in this migration."""
        short = sequence.rsplit(".", 1)[-1]
        users = {
            (t, c)
            for t, c in self.dropped_defaults
            if f"{(t or '').rsplit('.', 1)[-1]}_{c}_seq" == short
        }
        known = self.facts.get(f"sequence_of:{short}")
        if known is not None:
            table, _, column = known.rpartition(".")
            return (table, column) in self.dropped_defaults
        # no column known to use it: a default dropped earlier in this migration was
        # what it was for
        return bool(users) or bool(self.dropped_defaults)

    @property
    def default_partitions(self) -> dict[str, str]:
        """Partitioned table -> its default partition, where one existed before this
        migration (so may hold rows)."""
        return {k.split(":", 1)[1]: v for k, v in self.facts.items() if k.startswith("default_of:")}

    def _hold(self, op: Op) -> None:
        """Record the lock ``op`` takes: in a transaction it is held until COMMIT."""
        target = op.table if op.kind != "drop_index" else None
        if not (self.in_transaction and op.lock and target) or target in self.new_tables:
            return
        from expandcontract.sql.postgres.facts import LOCK_ORDER

        if op.lock not in LOCK_ORDER:
            return
        before = self.held.get(target)
        if before is None or LOCK_ORDER.index(op.lock) > LOCK_ORDER.index(before[0]):
            what = (op.value if op.kind == "statement" else op.kind.replace("_", " ")) or ""
            self.held[target] = (op.lock, what.lower())

    def end_statement(self) -> None:
        if not self.in_transaction:
            self.not_valid_pending.clear()
            self.new_enum_labels.clear()

    def apply(self, op: Op) -> None:
        kind = op.kind
        self._hold(op)
        if kind == "block_begin":
            if not self.in_transaction:  # the block is a transaction of its own
                self.in_transaction = self.block_transaction = True
        elif kind == "block_end":
            if self.block_transaction:
                self.block_transaction = False
                self.apply(Op("commit"))
        elif kind == "begin":
            self.in_transaction = True
        elif kind in ("commit", "rollback"):
            self.in_transaction = False
            self.not_valid_pending.clear()
            self.not_valid_origin.clear()
            self.new_enum_labels.clear()
            self.held.clear()
            self.renamed_tables.clear()
            if self.lock_timeout_local:
                self._set_lock_timeout(False, local=False)
        elif kind == "create_table":
            if op.table and not op.has("if_not_exists"):
                self.new_tables.add(op.table)
                for column, type_sql in op.columns:
                    self.column_types[(op.table, column)] = type_sql
            if op.table and op.has("partitioned"):
                self.partitioned.add(op.table)
            if op.table and op.ref_table and op.has("default_partition"):
                self.facts[f"default_of:{op.ref_table}"] = op.table
        elif kind == "drop_table":
            if op.table:
                self._forget_table(op.table)
        elif kind == "rename_table":
            if op.table in self.new_tables and op.new_name:
                self.new_tables.add(op.new_name)
            if op.table and op.new_name:
                self._rename_table(op.table, op.new_name)
            if op.table and self.in_transaction:
                self.renamed_tables[op.table] = self.statement_index
        elif kind == "drop_column":
            self.column_types.pop((op.table or "", op.column or ""), None)
            # PostgreSQL drops the indexes on a dropped column with it
            self.indexes = {
                k: v for k, v in self.indexes.items() if v[0] != op.table or op.column not in v[1]
            }
        elif kind == "rename_column":
            old = self.column_types.pop((op.table or "", op.column or ""), None)
            if old is not None and op.table and op.new_name:
                self.column_types[(op.table, op.new_name)] = old
            if (op.table, op.column) in self.new_columns:
                self.new_columns.add((op.table, op.new_name))
        elif kind == "drop_index":
            self.indexes.pop(op.name or "", None)
        elif kind == "drop_object":
            if op.value in ("type", "domain"):
                self.types.discard(op.name or "")
        elif kind == "rename_object":
            if op.value in ("type", "domain") and op.name in self.types and op.new_name:
                self.types.discard(op.name)
                self.types.add(op.new_name)
        elif kind == "alter_type":
            if op.table and op.column and op.type_sql:
                self.column_types[(op.table, op.column)] = op.type_sql
        elif kind == "create_function":
            if op.name:
                short = op.name.rsplit(".", 1)[-1]
                self.functions[short] = op.value or "volatile"
                if op.body is not None:
                    self.routines[short] = op.body
                    # kept for the migrations after this one, which may call it
                    self.facts[f"routine:{short}"] = "\n".join(op.body)
                else:
                    self.facts.pop(f"routine:{short}", None)
                if op.type_sql is not None:
                    self.facts[f"function:{short}"] = op.type_sql
        elif kind == "add_column":
            self.new_columns.add((op.table, op.column))
            if op.table and op.column and op.type_sql:
                self.column_types[(op.table, op.column)] = op.type_sql
            if op.has("not_null") and op.default_sql is not None:
                self.facts[f"not_null_default:{op.table}.{op.column}"] = op.default_sql
            filled = {"serial", "identity", "generated_stored", "generated_virtual"}
            if op.default_sql is None and not op.flags & filled:
                self.null_columns.add((op.table, op.column))
        elif kind == "set_default" and op.default_sql and "nextval" in op.default_sql.lower():
            used = _NEXTVAL.search(op.default_sql)
            if used:
                self.facts[f"sequence_of:{used.group(1).rsplit('.', 1)[-1]}"] = (
                    f"{op.table}.{op.column}"
                )
        elif kind == "drop_default":
            self.dropped_defaults.add((op.table, op.column))
            self.facts.pop(f"not_null_default:{op.table}.{op.column}", None)
        elif kind == "statement":
            self._table_statement(op)
        elif kind == "add_enum_value":
            if self.in_transaction and op.value:
                self.new_enum_labels.add(op.value)
        elif kind == "create_object":
            if op.name and not op.has("if_not_exists"):
                self.new_objects.add((op.value or "", op.name))
            if op.name and op.value in ("type", "domain"):
                self.types.add(op.name)
            if op.value == "view" and op.name and op.columns:
                self.facts[f"view:{op.name}"] = ",".join(c for c, _ in op.columns)
            renamed = self.renamed_tables.get(op.name or "")
            if op.value == "view" and renamed is not None and self.in_transaction:
                # a compatibility view under the old name, in the rename's transaction: the
                # running version never sees the name missing
                self.retracted.add((renamed, "EC401"))
        elif kind == "create_index":
            if op.has("unique") and op.name:
                self.facts[f"unique_index:{op.name}"] = op.table or ""
            if op.table in self.new_tables and op.name:
                self.new_indexes.add(op.name)
            if op.table and op.name:
                self.indexes[op.name] = (op.table, self.index_columns.get(op.name, ()))
            if op.name and (op.has("expression") or op.has("partial")):
                self.unclaimable_indexes.add(op.name)
        elif kind == "add_constraint":
            key = (op.table, op.name)
            if op.constraint in ("unique", "primary_key") and op.name:
                self.facts[f"unique:{op.table}.{op.name}"] = op.constraint
                self.facts[f"unique_name:{op.name}"] = op.table or ""
            if op.not_valid:
                self.not_valid_pending.add(key)
            if op.constraint == "check":
                if op.not_valid:
                    self.pending_checks.add(key)
                else:
                    self.checked_tables.add(op.table)
            if op.constraint in ("check", "not_null") and op.column:
                if op.not_valid:
                    self.not_null_checks[key] = op.column
                else:
                    self.valid_not_null.add((op.table, op.column))
        elif kind == "validate_constraint":
            key = (op.table, op.name)
            if key in self.pending_checks:
                self.checked_tables.add(op.table)
            column = self.not_null_checks.get(key)
            if column:
                self.valid_not_null.add((op.table, column))
        elif kind == "set_lock_timeout":
            value = (op.value or "").strip("'\" ").upper()
            self._set_lock_timeout(value not in ("0", "DEFAULT", "0MS", "0S"), op.has("local"))

    def _set_lock_timeout(self, on: bool, local: bool) -> None:
        if on != self.lock_timeout:
            self.lock_timeout_warned = False
        self.lock_timeout = on
        self.lock_timeout_local = on and local

    def _table_statement(self, op: Op) -> None:
        """What a statement known only to the statement table leaves: the objects it
        creates (not breaking to drop later in this migration)."""
        key = op.value or ""
        if key.startswith("CREATE ") and op.name and not op.has("covered"):
            self.new_objects.add((key[7:].lower(), op.name))
        if op.has("nondeterministic") and op.name:
            self.facts[f"collation:{op.name}"] = "nondeterministic"
