"""expandcontract's Alembic operations, usable as ``op.<name>(...)`` in any revision.

They are registered when Alembic loads the expandcontract plugin (or :func:`register`
is called). Each runs its DDL the lock-safe way (:mod:`.execution`: ``lock_timeout``,
retries) and is idempotent, so a phase interrupted half-way can simply be run again.
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

One module per seam: ``index``, ``constraint``, ``not_null``, ``column``, ``sync``,
``backfill``, ``carry``, ``tables``; ``registry`` turns a function into an operation.
"""

from __future__ import annotations

SEAMS = (
    "session",
    "locks",
    "index",
    "constraint",
    "not_null",
    "column",
    "sync",
    "conversion",
    "backfill",
    "carry",
    "tables",
)


def register() -> None:
    """Make every ``op.*`` of ours known to Alembic (idempotent)."""
    from importlib import import_module

    for seam in SEAMS:
        import_module(f"{__name__}.{seam}")


# Alembic loads its plugins (this package's among them, which calls register()) when it
# is first imported. Importing it here, before any seam, keeps a seam from being half
# loaded when the plugin asks for it: `import expandcontract.ops.backfill` works first.
import alembic.operations  # noqa: E402, F401
