"""orders.payload to jsonb (switch)

Phase switch of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade switch`.

Revision ID: d9791277bb89
Revises: 0001
Depends on: 94716bc2c447
Create Date: 2026-11-26 06:02:25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "d9791277bb89"
down_revision = "0001"
branch_labels = ("switch",)
depends_on = "94716bc2c447"
expandcontract_changes = [
    {
        "backward": "payload_new::text",
        "forward": "payload::jsonb",
        "kind": "replace-column",
        "lossy": False,
        "new": "payload_new",
        "new_type": "jsonb",
        "old": "payload",
        "swap": False,
        "table": "orders",
    }
]


def upgrade():
    op.set_lock_timeout()
    op.lock_related("orders", ["payload", "payload_new"], children="SHARE ROW EXCLUSIVE")
    op.carry_over("orders", "payload", "payload_new", "switch")
    op.copy_not_null("orders", "payload", "payload_new")


def downgrade():
    op.set_lock_timeout()
    op.lock_related("orders", ["payload", "payload_new"], children="ACCESS EXCLUSIVE")
    op.drop_not_null("orders", "payload_new")
    op.carry_over("orders", "payload", "payload_new", "unswitch")
