"""orders.payload to jsonb (expand)

Phase expand of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade expand`.

Revision ID: d68df9c1e820
Revises: 0001
Depends on: None
Create Date: 2026-11-26 06:02:25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "d68df9c1e820"
down_revision = "0001"
branch_labels = ("expand",)
depends_on = None
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
    op.check_conversion(
        "orders",
        "payload",
        "jsonb",
        expression="payload::jsonb",
        back="payload_new::text",
        target="payload_new",
    )
    op.lock_related("orders", ["payload", "payload_new"], parents="SHARE ROW EXCLUSIVE")
    op.carry_over("orders", "payload", "payload_new", "check")
    op.copy_column("orders", "payload", "payload_new", type_="jsonb")
    op.create_sync_trigger(
        "orders", "payload", "payload_new", forward="payload::jsonb", backward="payload_new::text"
    )
    op.carry_over("orders", "payload", "payload_new", "expand")


def downgrade():
    op.set_lock_timeout()
    op.lock_related("orders", ["payload", "payload_new"], parents="ACCESS EXCLUSIVE")
    op.drop_sync_trigger("orders", "payload", "payload_new")
    op.drop_column("orders", "payload_new")
    op.carry_over("orders", "payload", "payload_new", "forget")
