"""customers

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("visits", sa.Integer, nullable=False, server_default="0"),
    )
    # what hangs on the renamed column comes along: the lookup index and the comment
    op.create_index("customers_name_idx", "customers", ["name"])
    op.alter_column("customers", "name", comment="the name the customer signs with")


def downgrade():
    op.drop_table("customers")
