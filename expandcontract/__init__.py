"""expandcontract: zero-downtime PostgreSQL schema changes for Alembic.

``from expandcontract import phased`` in ``env.py`` makes autogenerate write phases
(see :mod:`expandcontract.phases.autogenerate`).
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    # loaded on first use: `import expandcontract` (every command) stays light
    if name == "phased":
        from expandcontract.phases.autogenerate import phased

        return phased
    raise AttributeError(f"module 'expandcontract' has no attribute {name!r}")
