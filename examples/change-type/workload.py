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
            "INSERT INTO orders (customer, payload) "
            "SELECT 'c' || g, '{\"qty\": ' || (g % 7) || '}' FROM generate_series(1, :rows) g"
        ),
        {"rows": rows},
    )
    connection.execute(sa.text("ANALYZE orders"))


def old_app(connection, i):
    if i % 5 == 0:
        app_v1.place(connection, i)
    elif i % 5 == 1:
        app_v1.amend(connection, 1 + i % 1000, i)
    else:
        assert app_v1.read(connection, 1 + i % 1000) is not None


def new_app(connection, i):
    if i % 5 == 0:
        app_v2.place(connection, i)
    elif i % 5 == 1:
        app_v2.amend(connection, 1 + i % 1000, i)
    else:
        assert app_v2.read(connection, 1 + i % 1000) is not None


def naive_new_app(connection, i):
    app_v2.naive_place(connection, i)
