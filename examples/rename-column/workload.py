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


def _unit(app, connection, i):
    if i % 10 == 0:
        app.sign_up(connection, i)
    elif i % 10 == 1:
        app.rename(connection, 1 + i % 1000, f"renamed {i}")
    else:
        app.visit(connection, 1 + i % 1000)


def old_app(connection, i):
    _unit(app_v1, connection, i)


def new_app(connection, i):
    _unit(app_v2, connection, i)
