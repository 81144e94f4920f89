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
    op.lock_related(
        "customers", ["id", "id_new"], parents="ACCESS EXCLUSIVE", children="ACCESS EXCLUSIVE"
    )
    op.copy_default("customers", "id", "id_new", cast=True)
    op.carry_over("customers", "id", "id_new", "hand_over")
    op.drop_sync_trigger("customers", "id", "id_new")
    op.drop_column_recorded("customers", "id")
    op.carry_over("customers", "id", "id_new", "rename")


def downgrade():
    op.check_conversion("customers", "id_new", None, restoring="id", every_row=True)
    op.set_lock_timeout()
    op.lock_related(
        "customers", ["id", "id_new"], parents="ACCESS EXCLUSIVE", children="ACCESS EXCLUSIVE"
    )
    op.restore_column("customers", "id")
    op.create_sync_trigger(
        "customers", "id", "id_new", forward="id::bigint", backward=None, lenient=True
    )
    op.forget_backfill("customers", "id", record=revision)
    op.backfill("customers", "id", cast_from="id_new", where="id IS NULL", record=revision)
    op.forget_backfill("customers", "id", record=revision)
    op.check_refilled("customers", "id", "id_new")
    op.copy_not_null("customers", "id_new", "id")
    op.carry_over("customers", "id", "id_new", "restore")
    op.create_sync_trigger("customers", "id", "id_new", forward="id::bigint", backward=None)
