"""Find the files a lint run covers, lint each, and gather one report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from expandcontract.alembic_integration.revisions import (
    lint_revision,
    load_history,
    looks_like_revision,
    read_meta,
    shares_transaction,
)
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
    changed_since: str | None = None


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
    """Expand the PATH arguments; None is stdin.

    Files are taken as named; an ``alembic.ini`` or a ``pyproject.toml`` with
    ``[tool.alembic]`` stands for its project's versions directory; directories
    are searched recursively for ``.sql`` files and Alembic revision files.
    """
    files: list[Path | None] = []
    for raw in paths:
        if raw == "-":
            files.append(None)
            continue
        path = Path(raw)
        if path.is_file() and path.name in ("alembic.ini", "pyproject.toml"):
            path = versions_directory(path)
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.suffix in (".sql", ".py")
                and p.is_file()
                and not _SKIP_DIRS.intersection(p.relative_to(path).parts[:-1])
                and not config.excluded(p)
                and (p.suffix == ".sql" or looks_like_revision(p))
            )
        elif path.is_file():
            if path.suffix != ".py" or looks_like_revision(path):
                files.append(path)  # other Python files (a hook may pass them) are not ours
        else:
            raise InputError(f"{raw}: no such file or directory")
    return files


def default_paths() -> list[str]:
    """With no PATH: the Alembic project in the current directory."""
    for name in ("alembic.ini", "pyproject.toml"):
        candidate = Path(name)
        if candidate.is_file() and (
            name == "alembic.ini" or "[tool.alembic]" in candidate.read_text()
        ):
            return [name]
    raise InputError(
        "no PATH given and no alembic.ini or pyproject.toml with [tool.alembic] here; "
        "name the .sql files, revision files or directories to lint"
    )


def versions_directory(config_file: Path) -> Path:
    """The versions directory of the Alembic project configured by ``config_file``."""
    location = None
    if config_file.name == "alembic.ini":
        import configparser

        parser = configparser.ConfigParser()
        try:
            parser.read(config_file, encoding="utf-8")
        except configparser.Error as err:
            raise InputError(f"{config_file}: cannot read: {err}") from None
        location = parser.get("alembic", "script_location", fallback=None)
    else:
        import tomllib

        try:
            data = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise InputError(f"{config_file}: invalid TOML: {err}") from None
        location = data.get("tool", {}).get("alembic", {}).get("script_location")
    if not location:
        raise InputError(f"{config_file}: no script_location for Alembic")
    root = config_file.resolve().parent
    location = location.replace("%(here)s", str(root)).replace("{here}", str(root))
    versions = (root / location / "versions").resolve()
    if not versions.is_dir():
        raise InputError(f"{config_file}: versions directory {versions} not found")
    return versions


def changed_since(ref: str) -> set[Path]:
    """Files added or modified since the git ref (committed, staged or not), resolved."""
    import subprocess

    def git(*args: str) -> list[str]:
        result = subprocess.run(["git", *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise InputError(f"--changed-since {ref}: {result.stderr.strip() or 'git failed'}")
        return [line for line in result.stdout.splitlines() if line]

    top = Path(git("rev-parse", "--show-toplevel")[0])
    names = git("diff", "--name-only", "--diff-filter=AMR", ref)
    names += git("ls-files", "--others", "--exclude-standard")
    return {(top / n).resolve() for n in names}


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
    files = collect(paths or default_paths(), config)
    if options.changed_since:
        changed = changed_since(options.changed_since)
        files = [f for f in files if f is None or f.resolve() in changed]
    histories: dict[Path, dict] = {}
    open_not_valid: dict[str, dict] = {}  # revision -> NOT VALID constraints left open
    for file in _parents_first(files, histories):
        name = options.stdin_filename or "-" if file is None else display_path(file)
        if file is not None and file.suffix == ".py":
            history = histories[file.parent]
            meta = read_meta(file)
            inherited = None
            if len(meta.down_revisions) == 1 and shares_transaction(file.parent):
                inherited = open_not_valid.get(meta.down_revisions[0])
            result = lint_revision(file, name, ruleset, history, inherited)
            if meta.revision:
                open_not_valid[meta.revision] = result.open_not_valid
            findings.extend(result.findings)
            statements += result.statements
            shown.append(name)
            continue
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
    findings.sort(key=Finding.sort_key)
    report = Report(findings=findings, files=len(shown), statements=statements, paths=sorted(shown))
    return report, problems


def _parents_first(files: list[Path | None], histories: dict[Path, dict]) -> list[Path | None]:
    """Revision files ordered so that a revision comes after its parents; others as given."""
    depth: dict[Path, int] = {}
    for file in files:
        if file is None or file.suffix != ".py":
            continue
        history = histories.get(file.parent)
        if history is None:
            history = histories[file.parent] = load_history(file.parent)
        meta, steps, seen = read_meta(file), 0, set()
        while meta and len(meta.down_revisions) == 1 and meta.down_revisions[0] not in seen:
            seen.add(meta.down_revisions[0])
            meta = history.get(meta.down_revisions[0])
            steps += 1
        depth[file] = steps
    return sorted(files, key=lambda f: (f is not None and f.suffix == ".py", depth.get(f, 0)))
