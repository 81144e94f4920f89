"""Output formats: one small module each, ``render(report) -> str``."""

from importlib import import_module

from expandcontract.lint.finding import Report

FORMATS = ("text", "json", "github", "sarif", "junit", "gitlab")


def render(name: str, report: Report) -> str:
    return import_module(f"{__name__}.{name}_format").render(report)
