"""Where ``phased`` was imported from before 0.2: ``from expandcontract import phased`` now."""

from expandcontract.phases.autogenerate import phased  # noqa: F401
