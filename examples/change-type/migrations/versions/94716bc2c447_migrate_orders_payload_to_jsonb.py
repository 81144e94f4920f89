"""orders.payload to jsonb (migrate)

Phase migrate of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade migrate`.

Revision ID: 94716bc2c447
Revises: 0001
Depends on: d68df9c1e820
Create Date: 2026-11-26 06:02:25
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "94716bc2c447"
down_revision = "0001"
branch_labels = ("migrate",)
depends_on = "d68df9c1e820"
expandcontract_irreversible = {
    "why": ("the backfilled values stay after the downgrade; undoing expand removes them"),
    "data": [
        "orders.payload_new",
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
    op.backfill(
        "orders", "payload_new", "payload::jsonb", where="payload_new IS NULL", record=revision
    )


def downgrade():
    op.forget_backfill("orders", "payload_new", record=revision)
