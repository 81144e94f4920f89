"""Alembic integration: revision linting, the plugin and its write hook.

Named so it never shadows the ``alembic`` package itself.
"""
