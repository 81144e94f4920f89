"""orders.payload to jsonb (contract)

Phase contract of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade contract`.

Revision ID: 37b65ab9d521
Revises: 0001
Depends on: d9791277bb89
Create Date: 2026-11-26 06:02:25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "37b65ab9d521"
down_revision = "0001"
branch_labels = ("contract",)
depends_on = "d9791277bb89"
expandcontract_irreversible = {
    "why": (
        "undoing the contract converts payload_new back to payload's type: a value "
        "that does not survive the round trip (JSON spacing and key order, precision,"
        " time zone) comes back converted"
    ),
    "data": [
        "orders.payload",
    ],
}


def upgrade():
    op.set_lock_timeout()
    op.copy_default("orders", "payload", "payload_new", cast=True)
    op.carry_over("orders", "payload", "payload_new", "hand_over")
    op.drop_sync_trigger("orders", "payload", "payload_new")
    op.drop_column_recorded("orders", "payload")
    op.carry_over("orders", "payload", "payload_new", "rename")


def downgrade():
    op.set_lock_timeout()
    op.restore_column("orders", "payload")
    op.create_sync_trigger(
        "orders", "payload", "payload_new", forward="payload::jsonb", backward="payload_new::text"
    )
    op.forget_backfill("orders", "payload")
    op.backfill("orders", "payload", "payload_new::text")
    op.forget_backfill("orders", "payload")
    op.copy_not_null("orders", "payload_new", "payload")
    op.drop_default("orders", "payload_new")
    op.carry_over("orders", "payload", "payload_new", "restore")
