"""Version N+1: every order has a unique, NOT NULL order_number, and customer_id is a real
foreign key. It sets order numbers itself and looks orders up by them."""

import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("total", sa.Numeric(12, 2), nullable=False),
    sa.Column("order_number", sa.Text, nullable=False, unique=True),
)


def place(connection, customer_id, total, number):
    connection.execute(
        orders.insert().values(customer_id=customer_id, total=total, order_number=number)
    )


def by_number(connection, number):
    return connection.execute(
        sa.select(orders.c.id, orders.c.total).where(orders.c.order_number == number)
    ).first()
