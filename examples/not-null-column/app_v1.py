"""Version N: orders have an id, a customer and a total."""

import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, nullable=False),
    sa.Column("total", sa.Numeric(12, 2), nullable=False),
)


def place(connection, customer_id, total):
    connection.execute(orders.insert().values(customer_id=customer_id, total=total))


def recent(connection, customer_id):
    return connection.execute(
        sa.select(orders.c.id, orders.c.total)
        .where(orders.c.customer_id == customer_id)
        .order_by(orders.c.id.desc())
        .limit(5)
    ).all()
