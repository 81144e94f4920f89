"""Output formats: one small module each, ``render(report) -> str``."""

from importlib import import_module

from expandcontract.lint.finding import Report

FORMATS = ("text", "json", "github", "sarif", "junit", "gitlab")


def render(name: str, report: Report) -> str:
    return import_module(f"{__name__}.{name}_format").render(report)


def write(name: str, report: Report, stream) -> None:
    """Write the report to ``stream``, a piece at a time where the format can (a report of
    100,000s of findings is then never one string in memory), with a final newline."""
    module = import_module(f"{__name__}.{name}_format")
    pieces = module.chunks(report) if hasattr(module, "chunks") else [module.render(report)]
    wrote = False
    for piece in pieces:
        if piece:
            stream.write(piece)
            wrote = True
    if wrote:
        stream.write("\n")
