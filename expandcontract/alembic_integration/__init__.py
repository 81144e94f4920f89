"""What plugs into Alembic: the plugin entry point (``alembic.plugins``) and its write hook.

Named so it never shadows the ``alembic`` package itself. The operations are
:mod:`expandcontract.ops`; phases, the runner and autogenerate are
:mod:`expandcontract.phases`.
"""
