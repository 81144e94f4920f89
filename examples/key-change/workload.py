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
    # every email either version writes, in the order the row lock let them commit
    connection.execute(
        sa.text("CREATE TABLE emails (seq bigserial PRIMARY KEY, customer bigint, email text)")
    )


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
        _wrote(connection, new, f"w{i}-{key}@example.com")
    elif i % 10 == 1:
        done = connection.execute(
            sa.text(f"UPDATE customers SET email = :e WHERE {key} = :k"),
            {"e": f"u{i}-{key}@example.com", "k": customer},
        )
        if done.rowcount:
            _wrote(connection, customer, f"u{i}-{key}@example.com")
    else:
        connection.execute(
            sa.text(
                f"SELECT c.{key}, count(o.id) FROM customers c LEFT JOIN orders o "
                f"ON o.customer_id = c.{key} WHERE c.{key} = :k GROUP BY c.{key}"
            ),
            {"k": customer},
        ).fetchall()


def _wrote(connection, customer, email):
    connection.execute(
        sa.text("INSERT INTO emails (customer, email) VALUES (:c, :e)"), {"c": customer, "e": email}
    )


def check(connection):
    """Rows off the two-version contract: a customer whose email is not the last one either
    version wrote, under whichever key is there, and (while both keys exist) a row whose
    new key, once filled, is not its old key."""
    columns = {
        name
        for (name,) in connection.execute(
            sa.text(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass "
                "AND attnum > 0 AND NOT attisdropped"
            )
        )
    }
    key = "id" if "id" in columns else "id_new"
    off = connection.execute(
        sa.text(
            "WITH last AS (SELECT DISTINCT ON (customer) customer, email FROM emails "
            "ORDER BY customer, seq DESC) SELECT count(*) FROM last "
            f"LEFT JOIN customers c ON c.{key} = last.customer "
            "WHERE c.email IS DISTINCT FROM last.email"
        )
    ).scalar()
    if {"id", "id_new"} <= columns:
        off += connection.execute(
            sa.text("SELECT count(*) FROM customers WHERE id_new IS NOT NULL AND id_new <> id")
        ).scalar()
    return off


def old_app(connection, i):
    _unit("id", connection, i)


def new_app(connection, i):
    _unit("id_new", connection, i)


def naive_new_app(connection, i):
    _unit("id", connection, i)  # the naive change keeps the name
