"""The lint report (:class:`~expandcontract.lint.finding.Report`): one module per format,
``<name>_format.py``, each with ``render(report)`` and, where it streams, ``chunks``."""

from __future__ import annotations

from importlib import import_module


def _format(name: str):
    return import_module(f"expandcontract.formats.{name}_format")


def render(name: str, report) -> str:
    return _format(name).render(report)


def chunks(name: str, report):
    module = _format(name)
    if hasattr(module, "chunks"):
        return module.chunks(report)
    return [module.render(report)]
