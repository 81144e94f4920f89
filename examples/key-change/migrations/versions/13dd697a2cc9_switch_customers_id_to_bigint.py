"""customers.id to bigint (switch)

Phase switch of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade switch`.

Revision ID: 13dd697a2cc9
Revises: 0001
Depends on: 9ac63fc42272
Create Date: 2026-11-26 16:32:44
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "13dd697a2cc9"
down_revision = "0001"
branch_labels = ("switch",)
depends_on = "9ac63fc42272"
expandcontract_changes = [
    {
        "backward": None,
        "forward": "id::bigint",
        "kind": "replace-column",
        "lossy": False,
        "new": "id_new",
        "new_type": "bigint",
        "old": "id",
        "swap": False,
        "table": "customers",
    }
]


def upgrade():
    op.set_lock_timeout()
    op.lock_related("customers", ["id", "id_new"], children="SHARE ROW EXCLUSIVE")
    op.carry_over("customers", "id", "id_new", "switch")
    op.copy_not_null("customers", "id", "id_new")


def downgrade():
    op.set_lock_timeout()
    op.lock_related("customers", ["id", "id_new"], children="ACCESS EXCLUSIVE")
    op.drop_not_null("customers", "id_new")
    op.carry_over("customers", "id", "id_new", "unswitch")
