"""The two-version contract, checked: randomized interleavings on real PostgreSQL.

``model``      the contract as code: what each version must read back
``replace``    its rules for a replaced column (rename-column, change-type)
``machine``    the Hypothesis state machine that drives phases and both versions
``scenarios``  a change made real: an Alembic project and a template database
"""
