"""The naive one-step migration of the same change: ALTER COLUMN ... TYPE jsonb in place
(a full table rewrite under ACCESS EXCLUSIVE)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


def upgrade():
    op.alter_column("orders", "payload", type_=postgresql.JSONB, postgresql_using="payload::jsonb")


def downgrade():
    op.alter_column("orders", "payload", type_=sa.Text, postgresql_using="payload::text")
