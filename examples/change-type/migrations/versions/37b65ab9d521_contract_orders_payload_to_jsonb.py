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
    op.lock_related(
        "orders",
        ["payload", "payload_new"],
        parents="ACCESS EXCLUSIVE",
        children="ACCESS EXCLUSIVE",
    )
    op.copy_default("orders", "payload", "payload_new", cast=True)
    op.carry_over("orders", "payload", "payload_new", "hand_over")
    op.drop_sync_trigger("orders", "payload", "payload_new")
    op.drop_column_recorded("orders", "payload")
    op.carry_over("orders", "payload", "payload_new", "rename")


def downgrade():
    op.check_conversion(
        "orders",
        "payload_new",
        None,
        expression="payload_new::text",
        alias="payload_new",
        restoring="payload",
        every_row=True,
    )
    op.set_lock_timeout()
    op.lock_related(
        "orders",
        ["payload", "payload_new"],
        parents="ACCESS EXCLUSIVE",
        children="ACCESS EXCLUSIVE",
    )
    op.restore_column("orders", "payload")
    op.create_sync_trigger(
        "orders",
        "payload",
        "payload_new",
        forward="payload::jsonb",
        backward="payload_new::text",
        lenient=True,
    )
    op.forget_backfill("orders", "payload", record=revision)
    op.backfill("orders", "payload", "payload_new::text", where="payload IS NULL", record=revision)
    op.forget_backfill("orders", "payload", record=revision)
    op.check_refilled("orders", "payload", "payload_new")
    op.copy_not_null("orders", "payload_new", "payload")
    op.carry_over("orders", "payload", "payload_new", "restore")
    op.create_sync_trigger(
        "orders", "payload", "payload_new", forward="payload::jsonb", backward="payload_new::text"
    )
