"""The naive one-step migration of the same change: rename in place."""

from alembic import op


def upgrade():
    op.alter_column("customers", "name", new_column_name="full_name")


def downgrade():
    op.alter_column("customers", "full_name", new_column_name="name")
