"""customers.id to bigint (migrate)

Phase migrate of an expandcontract change (change-type).
Edit freely; run the phases with `expandcontract upgrade migrate`.

Revision ID: 9ac63fc42272
Revises: 0001
Depends on: 0bec4119fd53
Create Date: 2026-11-26 16:32:44
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "9ac63fc42272"
down_revision = "0001"
branch_labels = ("migrate",)
depends_on = "0bec4119fd53"
expandcontract_irreversible = {
    "why": ("the backfilled values stay after the downgrade; undoing expand removes them"),
    "data": [
        "customers.id_new",
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
    op.backfill("customers", "id_new", "id::bigint", where="id_new IS NULL", record=revision)


def downgrade():
    op.forget_backfill("customers", "id_new", record=revision)
