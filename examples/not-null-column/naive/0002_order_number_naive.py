"""The naive one-step migration: the column, its values, NOT NULL, the unique constraint and
the foreign key in one transaction (a full-table UPDATE, a scan and an index build, all under
ACCESS EXCLUSIVE, and SHARE ROW EXCLUSIVE on customers)."""

import sqlalchemy as sa
from alembic import op


def upgrade():
    op.add_column("orders", sa.Column("order_number", sa.Text))
    op.execute("UPDATE orders SET order_number = 'ORD-' || lpad(id::text, 8, '0')")
    op.alter_column("orders", "order_number", nullable=False)
    op.create_unique_constraint("orders_order_number_key", "orders", ["order_number"])
    op.create_foreign_key("orders_customer_id_fkey", "orders", "customers", ["customer_id"], ["id"])


def downgrade():
    op.drop_constraint("orders_customer_id_fkey", "orders")
    op.drop_constraint("orders_order_number_key", "orders")
    op.drop_column("orders", "order_number")
