"""The naive one-step migration of the same change: retype the key in place (a rewrite of
customers and its indexes, and of orders' foreign key check, under ACCESS EXCLUSIVE)."""

from alembic import op


def upgrade():
    op.execute("ALTER TABLE customers ALTER COLUMN id TYPE bigint")


def downgrade():
    op.execute("ALTER TABLE customers ALTER COLUMN id TYPE integer")
