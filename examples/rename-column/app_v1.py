"""Version N of the application: customers have a `name`."""

import sqlalchemy as sa

metadata = sa.MetaData()
customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("visits", sa.Integer, nullable=False),
)


def sign_up(connection, i):
    connection.execute(customers.insert().values(name=f"customer {i}", email=f"c{i}@example.com"))


def visit(connection, customer_id):
    connection.execute(
        customers.update()
        .where(customers.c.id == customer_id)
        .values(visits=customers.c.visits + 1)
    )
    return connection.execute(
        sa.select(customers.c.name, customers.c.visits).where(customers.c.id == customer_id)
    ).first()


def rename(connection, customer_id, name):
    connection.execute(customers.update().where(customers.c.id == customer_id).values(name=name))
