"""Find the files a lint run covers, lint each, and gather one report."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.config import Config
from expandcontract.errors import InputError
from expandcontract.lint.cache import Cache
from expandcontract.lint.finding import Finding, Report
from expandcontract.lint.schema import Schema
from expandcontract.project import EnvOptions, History, Project, looks_like_revision, read_meta

if TYPE_CHECKING:  # the engine loads sqlglot: only a run that lints anything imports it
    from expandcontract.lint.engine import RuleSet

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
    cache: bool = True
    # a database whose catalog gives the schema the first migration starts from
    schema_from: str | None = None


def build_ruleset(config: Config, options: Options) -> RuleSet:
    from expandcontract.lint.engine import PARSE_ERROR, RuleSet
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


def _settings(config: Config, options: Options) -> str:
    """Everything besides a file that decides its findings, as text for the cache key."""
    return repr(
        (
            config.pg_version,
            config.select,
            sorted(config.ignore),
            sorted(config.severity.items()),
            config.assume_in_transaction,
            config.revision_timeout,
            options.select,
            options.ignore,
            options.pg_version,
            options.assume_in_transaction,
            options.stdin_filename,
        )
    )


def lint_paths(paths: list[str], config: Config, options: Options) -> tuple[Report, list[str]]:
    """Lint every file; returns the report and the input errors (unreadable files)."""
    files = collect(paths or default_paths(), config)
    if options.changed_since:
        changed = changed_since(options.changed_since)
        files = [f for f in files if f is None or f.resolve() in changed]
    start = None
    if options.schema_from:
        from expandcontract.lint.catalog import schema_from

        start = schema_from(options.schema_from)
    # --schema-from: what the catalog says, not where it was read, decides the findings
    settings = _settings(config, options) + (start.key() if start else "")
    cache = Cache(settings, enabled=options.cache)
    run_key = cache.run_key(files)
    replay = cache.get(run_key)
    if replay is not None and cache.unchanged(replay["imports"]):
        # nothing changed since the last run (files, settings, the application code its
        # revisions imported): its report, as it was
        findings = [Finding(**f) for f in replay["findings"]]
        report = Report(findings, replay["files"], replay["statements"], replay["paths"])
        return report, replay["problems"]
    report, problems = _lint_files(files, config, options, cache, start)
    cache.put(
        run_key,
        {
            "findings": [f.as_dict() for f in report.findings],
            "files": report.files,
            "statements": report.statements,
            "paths": report.paths,
            "problems": problems,
            "imports": cache.app_modules() if any(f and f.suffix == ".py" for f in files) else [],
        },
    )
    return report, problems


def _lint_files(
    files: list[Path | None],
    config: Config,
    options: Options,
    cache: Cache,
    start: Schema | None = None,
) -> tuple[Report, list[str]]:
    ruleset = None  # built on the first file the cache does not know

    def rules() -> RuleSet:
        nonlocal ruleset
        if ruleset is None:
            ruleset = build_ruleset(config, options)
        return ruleset

    findings: list[Finding] = []
    problems: list[str] = []
    statements = 0
    shown: list[str] = []
    scopes: dict[Path, _Scope] = {}
    open_not_valid: dict[str, dict] = {}  # revision -> NOT VALID constraints left open
    # SQL files replay in order, folder by folder: each starts from what the earlier left
    schemas: dict[Path | None, Schema] = {}
    revision_schemas: dict[str, Schema] = {}  # revision -> the schema its upgrade leaves
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
            # the schema its parents left (merged at a merge point), else the start
            parents = [revision_schemas[p] for p in meta.down_revisions if p in revision_schemas]
            before = Schema.merged(parents if parents else [start] if start else [])
            context = repr((phase, meta.revision, sorted((inherited or {}).items()), before.key()))
            key = _file_key(cache, "revision", name, context, file)
            entry = cache.get(key)
            if entry is not None and not cache.unchanged(entry["imports"]):
                entry = None  # the application code it imported has changed
            if entry is None:
                from expandcontract.lint.sources.alembic import lint_revision

                try:
                    result = lint_revision(
                        file, name, rules(), phase, meta.revision, inherited, before
                    )
                except Exception as err:  # a bug of ours: this file's finding; the run goes on
                    findings.append(_crashed(name, err, rules()))
                    continue
                entry = {
                    "findings": [f.as_dict() for f in result.findings],
                    "statements": result.statements,
                    "open": [[list(k), v] for k, v in result.open_not_valid.items()],
                    "imports": cache.app_modules(),
                    "schema": (result.schema or before).as_json(),
                }
                cache.put(key, entry)
            if meta.revision:
                open_not_valid[meta.revision] = {tuple(k): v for k, v in entry["open"]}
                revision_schemas[meta.revision] = Schema.from_json(entry["schema"])
            findings.extend(Finding(**f) for f in entry["findings"])
            statements += entry["statements"]
            continue
        from expandcontract.lint.engine import decode_source, read_source

        try:
            if file is None:
                data = sys.stdin.buffer.read()
                text = decode_source(data, name)
            else:
                text = read_source(file)
        except InputError as err:
            problems.append(err.message)
            continue
        shown.append(name)
        folder = file.resolve().parent if file is not None else None
        schema = schemas.setdefault(folder, Schema.merged([start] if start else []))
        context = schema.key()
        key = cache.file_key("sql", name, context, text.encode()) if file is not None else None
        entry = cache.get(key)
        if entry is None:
            from expandcontract.lint.engine import lint_sql

            try:
                file_findings, count = lint_sql(text, name, rules(), schema)
            except Exception as err:  # a bug of ours: this file's finding; the run goes on
                findings.append(_crashed(name, err, rules()))
                continue
            entry = {
                "findings": [f.as_dict() for f in file_findings],
                "statements": count,
                "schema": schema.as_json(),
            }
            cache.put(key, entry)
        else:  # what the file left, for the files after it
            left = Schema.from_json(entry["schema"])
            schema.column_types, schema.partitioned = left.column_types, left.partitioned
        findings.extend(Finding(**f) for f in entry["findings"])
        statements += entry["statements"]
    findings.sort(key=Finding.sort_key)
    report = Report(findings=findings, files=len(shown), statements=statements, paths=sorted(shown))
    return report, problems


def _file_key(cache: Cache, kind: str, name: str, context: str, file: Path) -> str | None:
    try:
        return cache.file_key(kind, name, context, file.read_bytes())
    except OSError:
        return None  # unreadable: linting it says so


def _crashed(name: str, err: BaseException, ruleset: RuleSet) -> Finding:
    """The finding for a file the linter itself failed on: never an "All clear"."""
    from expandcontract.lint.engine import PARSE_ERROR

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
    return sorted(
        files,
        key=lambda f: (
            f is not None and f.suffix == ".py",
            depth.get(f, 0),
            _migration_order(f) if f is not None and f.suffix != ".py" else (),
        ),
    )


def _migration_order(path: Path) -> tuple:
    """SQL files in the order a migration tool runs them: by folder, then by the numbers
    in the name as numbers (V2__ before V10__, 0002_ before 0010_)."""
    import re

    parts = re.split(r"(\d+)", path.name)
    return (str(path.parent), *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts))
