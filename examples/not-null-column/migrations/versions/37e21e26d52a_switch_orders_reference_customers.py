"""orders reference customers (switch)

Phase switch of an expandcontract change (add-foreign-key).
Edit freely; run the phases with `expandcontract upgrade switch`.

Revision ID: 37e21e26d52a
Revises: 1db1fa8c4f31
Depends on: 102fc03e7a79
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "37e21e26d52a"
down_revision = "1db1fa8c4f31"
branch_labels = None
depends_on = "102fc03e7a79"


def upgrade():
    op.validate_constraint("orders", "orders_customer_id_fkey")


def downgrade():
    op.set_lock_timeout()
    op.drop_constraint("orders_customer_id_fkey", "orders", if_exists=True)
    op.add_foreign_key_not_valid(
        "orders_customer_id_fkey", "orders", ["customer_id"], "customers", ["id"]
    )
