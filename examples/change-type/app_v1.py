"""Version N: the order's payload is JSON kept as text."""

import json

import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)


def place(connection, i):
    connection.execute(orders.insert().values(customer=f"c{i}", payload=json.dumps({"qty": i % 7})))


def read(connection, order_id):
    row = connection.execute(sa.select(orders.c.payload).where(orders.c.id == order_id)).first()
    return json.loads(row.payload) if row else None


def amend(connection, order_id, i):
    connection.execute(
        orders.update().where(orders.c.id == order_id).values(payload=json.dumps({"qty": i % 5}))
    )
