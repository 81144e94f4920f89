"""orders reference customers (expand)

Phase expand of an expandcontract change (add-foreign-key).
Edit freely; run the phases with `expandcontract upgrade expand`.

Revision ID: 102fc03e7a79
Revises: 799ccb118d80
Depends on: None
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "102fc03e7a79"
down_revision = "799ccb118d80"
branch_labels = None
depends_on = None


def upgrade():
    op.set_lock_timeout()
    op.add_foreign_key_not_valid(
        "orders_customer_id_fkey", "orders", ["customer_id"], "customers", ["id"]
    )


def downgrade():
    op.set_lock_timeout()
    op.drop_constraint("orders_customer_id_fkey", "orders", if_exists=True)
