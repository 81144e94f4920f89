"""rename customers.name to full_name (contract)

Phase contract of an expandcontract change (rename-column).
Edit freely; run the phases with `expandcontract upgrade contract`.

Revision ID: 144dce25167e
Revises: 0001
Depends on: f74c2aaaa68b
Create Date: 2026-11-26 06:00:54
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "144dce25167e"
down_revision = "0001"
branch_labels = ("contract",)
depends_on = "f74c2aaaa68b"
expandcontract_changes = [
    {
        "backward": None,
        "forward": None,
        "kind": "replace-column",
        "lossy": False,
        "new": "full_name",
        "new_type": None,
        "old": "name",
        "swap": False,
        "table": "customers",
    }
]


def upgrade():
    op.set_lock_timeout()
    op.lock_related(
        "customers", ["name", "full_name"], parents="ACCESS EXCLUSIVE", children="ACCESS EXCLUSIVE"
    )
    op.move_default("customers", "name", "full_name")
    op.carry_over("customers", "name", "full_name", "hand_over")
    op.drop_sync_trigger("customers", "name", "full_name")
    op.drop_column("customers", "name")
    op.carry_over("customers", "name", "full_name", "rename")


def downgrade():
    op.set_lock_timeout()
    op.lock_related(
        "customers", ["name", "full_name"], parents="ACCESS EXCLUSIVE", children="ACCESS EXCLUSIVE"
    )
    op.copy_column("customers", "full_name", "name")
    op.move_default("customers", "full_name", "name")
    op.create_sync_trigger("customers", "name", "full_name")
    op.forget_backfill("customers", "name", record=revision)
    op.backfill("customers", "name", "full_name", where="name IS NULL", record=revision)
    op.forget_backfill("customers", "name", record=revision)
    op.copy_not_null("customers", "full_name", "name")
    op.carry_over("customers", "name", "full_name", "restore")
    op.create_sync_trigger("customers", "name", "full_name")
