"""customers.id to bigint (expand)

Phase expand of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade expand`.

Revision ID: 0bec4119fd53
Revises: 0001
Depends on: None
Create Date: 2026-11-26 16:32:44
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "0bec4119fd53"
down_revision = "0001"
branch_labels = ("expand",)
depends_on = None
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
    op.check_conversion("customers", "id", "bigint", expression="id::bigint")
    op.lock_related("customers", ["id", "id_new"], parents="SHARE ROW EXCLUSIVE")
    op.carry_over("customers", "id", "id_new", "check")
    op.copy_column("customers", "id", "id_new", type_="bigint")
    op.create_sync_trigger("customers", "id", "id_new", forward="id::bigint", backward=None)
    op.carry_over("customers", "id", "id_new", "expand")


def downgrade():
    op.set_lock_timeout()
    op.lock_related("customers", ["id", "id_new"], parents="ACCESS EXCLUSIVE")
    op.drop_sync_trigger("customers", "id", "id_new")
    op.drop_column("customers", "id_new")
    op.carry_over("customers", "id", "id_new", "forget")
