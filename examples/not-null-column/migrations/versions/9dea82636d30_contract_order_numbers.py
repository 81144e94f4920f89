"""order numbers (contract)

Phase contract of an expandcontract change (add-column).
Edit freely; run the phases with `expandcontract upgrade contract`.

Revision ID: 9dea82636d30
Revises: 0001
Depends on: 4f38a09feb68
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "9dea82636d30"
down_revision = "0001"
branch_labels = ("contract",)
depends_on = "4f38a09feb68"


def upgrade():
    op.set_lock_timeout()
    op.drop_fill_trigger("orders", "order_number")


def downgrade():
    op.set_lock_timeout()
    op.create_fill_trigger(
        "orders", "order_number", "'ORD-' || lpad(id::text, 8, '0')", when="omitted"
    )
