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
            "INSERT INTO customers (name) SELECT 'customer ' || g FROM generate_series(1, 1000) g"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO orders (customer_id, total) "
            "SELECT 1 + g % 1000, (g % 500) + 0.99 FROM generate_series(1, :rows) g"
        ),
        {"rows": rows},
    )
    connection.execute(sa.text("ANALYZE customers; ANALYZE orders"))


def old_app(connection, i):
    if i % 4 == 0:
        app_v1.place(connection, 1 + i % 1000, 9.99)
    else:
        app_v1.recent(connection, 1 + i % 1000)


def new_app(connection, i):
    if i % 4 == 0:
        app_v2.place(connection, 1 + i % 1000, 19.99, f"WEB-{i:09d}")
    else:
        app_v2.by_number(connection, f"ORD-{1 + i % 1000:08d}")
