"""expandcontract: zero-downtime PostgreSQL schema changes for Alembic."""

__version__ = "0.1.0"
