"""Find the files a lint run covers, lint each, and gather one report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from expandcontract.config import Config
from expandcontract.errors import InputError
from expandcontract.lint.engine import RuleSet, decode_source, lint_sql, read_source
from expandcontract.lint.finding import Finding, Report

_SKIP_DIRS = frozenset({".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".tox"})


@dataclass
class Options:
    """What the command line adds to (or overrides in) the configuration."""

    select: list[str] | None = None
    ignore: list[str] | None = None
    pg_version: int | None = None
    assume_in_transaction: bool | None = None
    stdin_filename: str | None = None


def build_ruleset(config: Config, options: Options) -> RuleSet:
    from expandcontract.linters import RULES

    select = options.select if options.select is not None else config.select
    ignore = set(config.ignore) | set(options.ignore or ())
    rules = [r for r in RULES if (select is None or r.code in select) and r.code not in ignore]
    return RuleSet(
        rules=rules,
        severity=dict(config.severity),
        pg_version=options.pg_version or config.pg_version,
        assume_in_transaction=(
            options.assume_in_transaction
            if options.assume_in_transaction is not None
            else config.assume_in_transaction
        ),
    )


def collect(paths: list[str], config: Config) -> list[Path | None]:
    """Expand the PATH arguments: files as named, directories recursively; None is stdin."""
    files: list[Path | None] = []
    for raw in paths:
        if raw == "-":
            files.append(None)
            continue
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*.sql"))
                if p.is_file()
                and not _SKIP_DIRS.intersection(p.relative_to(path).parts[:-1])
                and not config.excluded(p)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise InputError(f"{raw}: no such file or directory")
    return files


def display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def lint_paths(paths: list[str], config: Config, options: Options) -> tuple[Report, list[str]]:
    """Lint every file; returns the report and the input errors (unreadable files)."""
    ruleset = build_ruleset(config, options)
    findings: list[Finding] = []
    problems: list[str] = []
    statements = 0
    shown: list[str] = []
    for file in collect(paths, config):
        name = options.stdin_filename or "-" if file is None else display_path(file)
        try:
            if file is None:
                text = decode_source(sys.stdin.buffer.read(), name)
            else:
                text = read_source(file)
        except InputError as err:
            problems.append(err.message)
            continue
        shown.append(name)
        file_findings, count = lint_sql(text, name, ruleset)
        findings.extend(file_findings)
        statements += count
    return Report(findings=findings, files=len(shown), statements=statements, paths=shown), problems
