"""rename customers.name to full_name (switch)

Phase switch of an expandcontract change (rename-column).
Edit freely; run the phases with `expandcontract upgrade switch`.

Revision ID: f74c2aaaa68b
Revises: 0001
Depends on: 3b84bedbd5ab
Create Date: 2026-11-26 06:00:54
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "f74c2aaaa68b"
down_revision = "0001"
branch_labels = ("switch",)
depends_on = "3b84bedbd5ab"
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
    op.lock_related("customers", ["name", "full_name"], children="SHARE ROW EXCLUSIVE")
    op.carry_over("customers", "name", "full_name", "switch")
    op.copy_not_null("customers", "name", "full_name")


def downgrade():
    op.set_lock_timeout()
    op.lock_related("customers", ["name", "full_name"], children="ACCESS EXCLUSIVE")
    op.drop_not_null("customers", "full_name")
    op.carry_over("customers", "name", "full_name", "unswitch")
