"""rename customers.name to full_name (migrate)

Phase migrate of an expandcontract change (rename-column).
Edit freely; run the phases with `expandcontract upgrade migrate`.

Revision ID: 3b84bedbd5ab
Revises: 0001
Depends on: 3cb3a4437fac
Create Date: 2026-11-26 06:00:54
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op
from sqlalchemy.dialects import postgresql  # noqa: F401

revision = "3b84bedbd5ab"
down_revision = "0001"
branch_labels = ("migrate",)
depends_on = "3cb3a4437fac"
expandcontract_irreversible = {
    "why": ("the backfilled values stay after the downgrade; undoing expand removes them"),
    "data": [
        "customers.full_name",
    ],
}
expandcontract_changes = [
    {
        "backward": None,
        "forward": None,
        "kind": "replace-column",
        "lossy": False,
        "new": "full_name",
        "new_type": None,
        "old": "name",
        "swap": False,
        "table": "customers",
    }
]


def upgrade():
    op.backfill("customers", "full_name", "name", where="full_name IS NULL", record=revision)


def downgrade():
    op.forget_backfill("customers", "full_name", record=revision)
