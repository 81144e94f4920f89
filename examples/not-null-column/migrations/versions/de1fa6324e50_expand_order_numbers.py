"""order numbers (expand)

Phase expand of an expandcontract change (add-column).
Edit freely; run the phases with `expandcontract upgrade expand`.

Revision ID: de1fa6324e50
Revises: 0001
Depends on: None
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "de1fa6324e50"
down_revision = "0001"
branch_labels = ("expand",)
depends_on = None


def upgrade():
    op.set_lock_timeout()
    op.execute("ALTER TABLE orders ADD COLUMN IF NOT EXISTS order_number text")
    op.create_fill_trigger(
        "orders", "order_number", "'ORD-' || lpad(id::text, 8, '0')", when="omitted"
    )


def downgrade():
    op.set_lock_timeout()
    op.drop_fill_trigger("orders", "order_number")
    op.drop_column("orders", "order_number", if_exists=True)
