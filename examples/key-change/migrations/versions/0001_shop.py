"""shop: customers with a serial key, orders pointing at them

Revision ID: 0001
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        """
        CREATE TABLE customers (
            id serial PRIMARY KEY,
            email text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON COLUMN customers.id IS 'integer: 2,147,483,647 customers at most';
        CREATE TABLE orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            customer_id integer NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
            code text NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 40),
            amount numeric(12, 2) NOT NULL DEFAULT 0 CHECK (amount >= 0)
        );
        CREATE INDEX orders_customer_id ON orders (customer_id);
        """
    )


def downgrade():
    op.execute("DROP TABLE orders, customers")
