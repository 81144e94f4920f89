"""unique order numbers (expand)

Phase expand of an expandcontract change (add-unique).
Edit freely; run the phases with `expandcontract upgrade expand`.

Revision ID: 799ccb118d80
Revises: de1fa6324e50
Depends on: None
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "799ccb118d80"
down_revision = "de1fa6324e50"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index_concurrently("orders_order_number_key", "orders", ["order_number"], unique=True)


def downgrade():
    op.drop_index_concurrently("orders_order_number_key")
