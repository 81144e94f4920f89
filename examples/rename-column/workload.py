"""The traffic of both application versions, for `expandcontract rehearse`."""

import sys
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
import app_v1
import app_v2

WORKERS = 4


def seed(connection, rows):
    connection.execute(
        sa.text(
            "INSERT INTO customers (name, email) "
            "SELECT 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, :rows) g"
        ),
        {"rows": rows},
    )
    connection.execute(sa.text("ANALYZE customers"))
    # every rename either version makes, in the order the row lock let them commit
    connection.execute(
        sa.text("CREATE TABLE renames (seq bigserial PRIMARY KEY, customer bigint, name text)")
    )


def _unit(app, connection, i):
    if i % 10 == 0:
        app.sign_up(connection, i)
    elif i % 10 == 1:
        app.rename(connection, 1 + i % 1000, f"renamed {i}")
        connection.execute(
            sa.text("INSERT INTO renames (customer, name) VALUES (:c, :n)"),
            {"c": 1 + i % 1000, "n": f"renamed {i}"},
        )
    else:
        app.visit(connection, 1 + i % 1000)


def check(connection):
    """Renamed customers whose name, as either version reads it, is not the last rename:
    the old version reads `name`, the new one `full_name` (NULL until the backfill)."""
    columns = {
        name
        for (name,) in connection.execute(
            sa.text(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'customers'::regclass "
                "AND attnum > 0 AND NOT attisdropped"
            )
        )
    }
    reads = [c for c in ("name", "full_name") if c in columns]
    wrong = " OR ".join(
        f"(c.{c} IS DISTINCT FROM last.name"
        + (" AND c.full_name IS NOT NULL)" if c == "full_name" and "name" in columns else ")")
        for c in reads
    )
    return connection.execute(
        sa.text(
            "WITH last AS (SELECT DISTINCT ON (customer) customer, name FROM renames "
            "ORDER BY customer, seq DESC) "
            f"SELECT count(*) FROM last JOIN customers c ON c.id = last.customer WHERE {wrong}"
        )
    ).scalar()


def old_app(connection, i):
    _unit(app_v1, connection, i)


def new_app(connection, i):
    _unit(app_v2, connection, i)
