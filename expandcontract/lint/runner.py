"""Find the files a lint run covers, lint each, and gather one report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from expandcontract.config import Config
from expandcontract.errors import InputError
from expandcontract.lint.engine import PARSE_ERROR, RuleSet, decode_source, lint_sql, read_source
from expandcontract.lint.finding import Finding, Report
from expandcontract.lint.sources.alembic import lint_revision
from expandcontract.project import EnvOptions, History, Project, looks_like_revision, read_meta

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
    # a statement that could not be read was not judged: that is always said (EC001)
    rules = [
        r
        for r in RULES
        if r.code == PARSE_ERROR or ((select is None or r.code in select) and r.code not in ignore)
    ]
    return RuleSet(
        rules=rules,
        severity=dict(config.severity),
        pg_version=options.pg_version or config.pg_version,
        assume_in_transaction=(
            options.assume_in_transaction
            if options.assume_in_transaction is not None
            else config.assume_in_transaction
        ),
        revision_timeout=config.revision_timeout,
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
        if path.is_file() and (path.suffix == ".ini" or path.name == "pyproject.toml"):
            project = Project.load(path)
            for location in project.version_locations:
                files.extend(_search(location, config))
            continue
        if path.is_dir():
            files.extend(_search(path, config))
        elif path.is_file():
            if path.suffix != ".py" or looks_like_revision(path):
                files.append(path)  # other Python files (a hook may pass them) are not ours
        else:
            raise InputError(f"{raw}: no such file or directory")
    return files


def _search(directory: Path, config: Config) -> list[Path]:
    return [
        p
        for p in sorted(directory.rglob("*"))
        if p.suffix in (".sql", ".py")
        and p.is_file()
        and not _SKIP_DIRS.intersection(p.relative_to(directory).parts[:-1])
        and not config.excluded(p)
        and (p.suffix == ".sql" or looks_like_revision(p))
    ]


def default_paths() -> list[str]:
    """With no PATH: the Alembic project in the current directory."""
    if Project.find_config(Path.cwd()) is None:
        raise InputError(
            "no PATH given and no alembic.ini or pyproject.toml with [tool.alembic] here; "
            "name the .sql files, revision files or directories to lint"
        )
    return [str(Project.load().source)]


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
    scopes: dict[Path, _Scope] = {}
    open_not_valid: dict[str, dict] = {}  # revision -> NOT VALID constraints left open
    for file in _parents_first(files, scopes):
        name = options.stdin_filename or "-" if file is None else display_path(file)
        if file is not None and file.suffix == ".py":
            scope = _scope_of(file, scopes)
            meta = read_meta(file)
            inherited = None
            if len(meta.down_revisions) == 1 and scope.shares_transaction:
                inherited = open_not_valid.get(meta.down_revisions[0])
            phase = scope.history.phase_of(meta)
            shown.append(name)
            try:
                result = lint_revision(file, name, ruleset, phase, meta.revision, inherited)
            except Exception as err:  # a bug of ours: this file's finding; the run goes on
                findings.append(_crashed(name, err, ruleset))
                continue
            if meta.revision:
                open_not_valid[meta.revision] = result.open_not_valid
            findings.extend(result.findings)
            statements += result.statements
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
        try:
            file_findings, count = lint_sql(text, name, ruleset)
        except Exception as err:  # a bug of ours: this file's finding; the run goes on
            findings.append(_crashed(name, err, ruleset))
            continue
        findings.extend(file_findings)
        statements += count
    findings.sort(key=Finding.sort_key)
    report = Report(findings=findings, files=len(shown), statements=statements, paths=sorted(shown))
    return report, problems


def _crashed(name: str, err: BaseException, ruleset: RuleSet) -> Finding:
    """The finding for a file the linter itself failed on: never an "All clear"."""
    rule = ruleset.by_code[PARSE_ERROR]
    text = str(err).splitlines()[0][:200] if str(err) else ""
    return Finding(
        name,
        1,
        1,
        PARSE_ERROR,
        rule.name,
        ruleset.severity_of(PARSE_ERROR),
        f"the linter failed on this file ({type(err).__name__}: {text}); please report it",
        "The other files are still linted; check this one by hand.",
    )


@dataclass
class _Scope:
    """What linting a revision needs to know of the project it belongs to."""

    history: History
    shares_transaction: bool


def _scope_of(file: Path, scopes: dict[Path, _Scope]) -> _Scope:
    """The scope of a revision file: its Alembic project when one above it claims its
    folder (history across every version location, ``prepend_sys_path`` applied), else
    its own folder."""
    directory = file.parent.resolve()
    scope = scopes.get(directory)
    if scope is not None:
        return scope
    project = Project.containing(directory)
    if project is not None:
        project.activate()
        scope = _Scope(project.history, project.shares_transaction)
        for location in project.version_locations:
            scopes.setdefault(location, scope)
    else:
        env = EnvOptions.read(directory.parent / "env.py")
        scope = _Scope(History([directory]), not env.transaction_per_migration)
    scopes[directory] = scope
    return scope


def _parents_first(files: list[Path | None], scopes: dict[Path, _Scope]) -> list[Path | None]:
    """Revision files ordered so that a revision comes after its parents; others as given."""
    depth: dict[Path, int] = {}
    for file in files:
        if file is None or file.suffix != ".py":
            continue
        meta = read_meta(file)
        depth[file] = _scope_of(file, scopes).history.depth(meta.revision) if meta.revision else 0
    return sorted(files, key=lambda f: (f is not None and f.suffix == ".py", depth.get(f, 0)))
