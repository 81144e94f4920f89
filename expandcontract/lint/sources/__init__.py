"""Where lint input comes from: SQL files and Alembic revisions."""
