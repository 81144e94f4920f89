"""unique order numbers (switch)

Phase switch of an expandcontract change (add-unique).
Edit freely; run the phases with `expandcontract upgrade switch`.

Revision ID: 1db1fa8c4f31
Revises: 4f38a09feb68
Depends on: 799ccb118d80
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "1db1fa8c4f31"
down_revision = "4f38a09feb68"
branch_labels = None
depends_on = "799ccb118d80"


def upgrade():
    op.set_lock_timeout()
    op.add_unique_using_index("orders", "orders_order_number_key", "orders_order_number_key")


def downgrade():
    op.set_lock_timeout()
    op.drop_constraint("orders_order_number_key", "orders", if_exists=True)  # drops its index too
    op.create_index_concurrently("orders_order_number_key", "orders", ["order_number"], unique=True)
