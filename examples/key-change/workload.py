"""The traffic of both application versions, for `expandcontract rehearse`.

Version N knows `customers.id` (integer); version N+1 reads and writes `customers.id_new`
(bigint), the key after the change. Both sign customers up with an order, change
emails, and read a customer with their orders.
"""

import sqlalchemy as sa

WORKERS = 4


def seed(connection, rows):
    connection.execute(
        sa.text(
            "INSERT INTO customers (email) "
            "SELECT 'c' || g || '@example.com' FROM generate_series(1, :rows) g"
        ),
        {"rows": rows},
    )
    connection.execute(
        sa.text(
            "INSERT INTO orders (customer_id, code, amount) "
            "SELECT 1 + (g % :rows), 'seed-' || g, g % 100 FROM generate_series(1, :orders) g"
        ),
        {"rows": rows, "orders": rows * 2},
    )
    connection.execute(sa.text("ANALYZE customers"))
    connection.execute(sa.text("ANALYZE orders"))


def _unit(key, connection, i):
    customer = 1 + i % 1000
    if i % 10 == 0:
        new = connection.execute(
            sa.text(f"INSERT INTO customers (email) VALUES (:e) RETURNING {key}"),
            {"e": f"w{i}-{key}@example.com"},
        ).scalar()
        connection.execute(
            sa.text("INSERT INTO orders (customer_id, code, amount) VALUES (:c, :code, 5)"),
            {"c": new, "code": f"w-{key}-{i}"},
        )
    elif i % 10 == 1:
        connection.execute(
            sa.text(f"UPDATE customers SET email = :e WHERE {key} = :k"),
            {"e": f"u{i}-{key}@example.com", "k": customer},
        )
    else:
        connection.execute(
            sa.text(
                f"SELECT c.{key}, count(o.id) FROM customers c LEFT JOIN orders o "
                f"ON o.customer_id = c.{key} WHERE c.{key} = :k GROUP BY c.{key}"
            ),
            {"k": customer},
        ).fetchall()


def old_app(connection, i):
    _unit("id", connection, i)


def new_app(connection, i):
    _unit("id_new", connection, i)


def naive_new_app(connection, i):
    _unit("id", connection, i)  # the naive change keeps the name
