"""order numbers (migrate)

Phase migrate of an expandcontract change (add-column).
Edit freely; run the phases with `expandcontract upgrade migrate`.

Revision ID: 18d9ae553d2c
Revises: 0001
Depends on: de1fa6324e50
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "18d9ae553d2c"
down_revision = "0001"
branch_labels = ("migrate",)
depends_on = "de1fa6324e50"
expandcontract_irreversible = {
    "why": ("the backfilled values stay after the downgrade; undoing expand removes them"),
    "data": [
        "orders.order_number",
    ],
}


def upgrade():
    op.backfill(
        "orders",
        "order_number",
        "'ORD-' || lpad(id::text, 8, '0')",
        where="order_number IS NULL",
        record=revision,
    )


def downgrade():
    op.forget_backfill("orders", "order_number", record=revision)
