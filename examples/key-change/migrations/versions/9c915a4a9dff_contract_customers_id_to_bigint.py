"""customers.id to bigint (contract)

Phase contract of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade contract`.

Revision ID: 9c915a4a9dff
Revises: 0001
Depends on: 13dd697a2cc9
Create Date: 2026-11-26 16:32:44
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "9c915a4a9dff"
down_revision = "0001"
branch_labels = ("contract",)
depends_on = "13dd697a2cc9"
expandcontract_irreversible = {
    "why": (
        "undoing the contract converts id_new back to id's type: a value that does "
        "not survive the round trip (JSON spacing and key order, precision, time "
        "zone) comes back converted"
    ),
    "data": [
        "customers.id",
    ],
}


def upgrade():
    op.set_lock_timeout()
    op.copy_default("customers", "id", "id_new", cast=True)
    op.carry_over("customers", "id", "id_new", "hand_over")
    op.drop_sync_trigger("customers", "id", "id_new")
    op.drop_column_recorded("customers", "id")
    op.carry_over("customers", "id", "id_new", "rename")


def downgrade():
    op.set_lock_timeout()
    op.restore_column("customers", "id")
    op.create_sync_trigger("customers", "id", "id_new", forward="id::bigint", backward=None)
    op.forget_backfill("customers", "id")
    op.backfill("customers", "id", cast_from="id_new")
    op.forget_backfill("customers", "id")
    op.copy_not_null("customers", "id_new", "id")
    op.drop_default("customers", "id_new")
    op.carry_over("customers", "id", "id_new", "restore")
