"""Version N+1: the payload is jsonb, in `payload_new` (change-type keeps the old column
until contract; rename it back with `expandcontract new rename-column` later if wanted)."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("payload_new", JSONB, nullable=False),
)


def place(connection, i):
    connection.execute(orders.insert().values(customer=f"c{i}", payload_new={"qty": i % 7}))


def read(connection, order_id):
    row = connection.execute(sa.select(orders.c.payload_new).where(orders.c.id == order_id)).first()
    return row.payload_new if row else None


def amend(connection, order_id, i):
    connection.execute(
        orders.update().where(orders.c.id == order_id).values(payload_new={"qty": i % 5})
    )


# the same version against the naive migration's schema, where the column keeps its name
naive = sa.Table(
    "orders",
    sa.MetaData(),
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
)


def naive_place(connection, i):
    connection.execute(naive.insert().values(customer=f"c{i}", payload={"qty": i % 7}))
