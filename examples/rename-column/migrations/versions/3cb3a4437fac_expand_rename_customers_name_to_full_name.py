"""rename customers.name to full_name (expand)

Phase expand of an expandcontract change (rename-column).
Edit freely; run the phases with `expandcontract upgrade expand`.

Revision ID: 3cb3a4437fac
Revises: 0001
Depends on: None
Create Date: 2026-11-26 06:00:54
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "3cb3a4437fac"
down_revision = "0001"
branch_labels = ("expand",)
depends_on = None
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
    op.lock_related("customers", ["name", "full_name"], parents="SHARE ROW EXCLUSIVE")
    op.carry_over("customers", "name", "full_name", "check")
    op.copy_column("customers", "name", "full_name")
    op.create_sync_trigger("customers", "name", "full_name")
    op.carry_over("customers", "name", "full_name", "expand")


def downgrade():
    op.set_lock_timeout()
    op.lock_related("customers", ["name", "full_name"], parents="ACCESS EXCLUSIVE")
    op.drop_sync_trigger("customers", "name", "full_name")
    op.drop_column("customers", "full_name")
    op.carry_over("customers", "name", "full_name", "forget")
