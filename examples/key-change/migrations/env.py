from alembic import context
from sqlalchemy import create_engine

from expandcontract import phased

with create_engine(context.config.get_main_option("sqlalchemy.url")).connect() as connection:
    context.configure(connection=connection, target_metadata=None, **phased())
    with context.begin_transaction():
        context.run_migrations()
