"""order numbers (switch)

Phase switch of an expandcontract change (add-column).
Edit freely; run the phases with `expandcontract upgrade switch`.

Revision ID: 4f38a09feb68
Revises: 0001
Depends on: 18d9ae553d2c
Create Date: 2026-11-26 06:02:52
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "4f38a09feb68"
down_revision = "0001"
branch_labels = ("switch",)
depends_on = "18d9ae553d2c"


def upgrade():
    op.set_lock_timeout()
    op.set_not_null("orders", "order_number")


def downgrade():
    op.set_lock_timeout()
    op.drop_not_null("orders", "order_number")
