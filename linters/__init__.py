"""The rules: one module each, registered in this one table."""

from importlib import import_module

from expandcontract.lint.rule import Rule

_MODULES = (
    "parse_error",
    "unused_suppression",
    "empty_file",
    "missing_lock_timeout",
    "unknown_statement",
    "add_column_volatile_default",
    "add_column_default_before_pg11",
    "add_column_generated_stored",
    "add_column_identity",
    "add_column_not_null",
    "add_column_unique",
    "add_column_foreign_key",
    "drop_column",
    "rename_column",
    "change_column_type",
    "change_column_type_unverified",
    "set_not_null",
    "drop_identity",
    "add_check_constraint",
    "add_foreign_key",
    "add_unique_constraint",
    "add_exclusion_constraint",
    "domain_constraint",
    "validate_in_same_transaction",
    "create_index_not_concurrently",
    "concurrently_in_transaction",
    "drop_index_not_concurrently",
    "reindex_not_concurrently",
    "statement_fails",
    "rename_table",
    "drop_table",
    "truncate_table",
    "drop_schema",
    "drop_object",
    "rename_object",
    "table_rewrite",
    "vacuum_full_or_cluster",
    "refresh_matview_not_concurrently",
    "detach_partition_not_concurrently",
    "attach_partition",
    "lock_table",
    "blocking_statement",
    "breaking_change",
    "update_without_where",
    "lock_held_until_commit",
    "dynamic_sql",
    "revision_error",
    "phase_expand",
    "phase_migrate",
    "phase_switch",
    "phase_contract",
)

RULES: tuple[Rule, ...] = tuple(
    sorted((import_module(f"{__name__}.{m}").RULE for m in _MODULES), key=lambda r: r.code)
)
BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
# a rule code or name -> its code (what configuration and suppressions accept)
LOOKUP: dict[str, str] = {**{r.code: r.code for r in RULES}, **{r.name: r.code for r in RULES}}
