"""Find the files a lint run covers, lint each, and gather one report."""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.config import Config
from expandcontract.errors import InputError, printable
from expandcontract.lint.cache import Cache
from expandcontract.lint.finding import Finding, Report
from expandcontract.lint.schema import Schema
from expandcontract.project import Project, looks_like_revision, revision_files
from expandcontract.sql.target import Target

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
    # the section of an alembic.ini to read (-n/--name), as alembic -n does
    name: str = "alembic"
    # run what cannot be rendered offline on a throwaway database: "embedded" or a URL
    execute: str | None = None
    # a database whose catalog gives the schema the first migration starts from
    schema_from: str | None = None
    # folders (or files) of Alembic revisions no project configures, to import and lint
    revisions: tuple[str, ...] = ()
    # a PATH holding nothing to lint is not an error
    allow_empty: bool = False


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
        catalogue=RULES,
        severity=dict(config.severity),
        target=Target("postgresql", options.pg_version or config.pg_version),
        assume_in_transaction=(
            options.assume_in_transaction
            if options.assume_in_transaction is not None
            else config.assume_in_transaction
        ),
        revision_timeout=config.revision_timeout,
    )


@dataclass
class Collected:
    """What the PATH arguments hold: the files to lint (None: stdin), the entries that could
    not be read (name in the report, why), and notes for stderr."""

    files: list[Path | None] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # PATHs that held nothing to lint


def collect(
    paths: list[str],
    config: Config,
    name: str = "alembic",
    revisions: tuple[str, ...] = (),
) -> Collected:
    """Expand the PATH arguments.

    Files are taken as named (a ``.py`` file only when it is an Alembic revision); an
    ``alembic.ini`` (its section ``name``) or a ``pyproject.toml`` with ``[tool.alembic]``
    stands for the revisions its project loads, found as Alembic finds them (subfolders
    of a version location only with ``recursive_version_locations``); directories are
    searched recursively for ``.sql`` files, and for Alembic revisions only inside a
    version location of the project that configures it or a folder named by
    ``revisions`` (``--revisions``): linting a revision imports it and runs its code, so
    a Python file that merely sits among SQL files is never imported. Virtualenvs (a
    folder with ``pyvenv.cfg``) are skipped. An entry that cannot be read (a folder
    without permission, a symbolic link loop or a dangling link) is reported, never
    skipped in silence.
    """
    found = Collected()
    trusted = _Trusted(name, [Path(r) for r in revisions])
    for raw in [*paths, *revisions]:
        before = (len(found.files), len(found.unreadable))
        if raw == "-":
            found.files.append(None)
            continue
        path = Path(raw)
        shown = display_path(path)
        if path.is_file() and (path.suffix == ".ini" or path.name == "pyproject.toml"):
            project = Project.load(path, name)
            for location in project.version_locations:
                found.files.extend(
                    p
                    for p in revision_files(location, project.recursive)
                    if not config.excluded(p)
                    and not _in_virtualenv(p, location)
                    and looks_like_revision(p)
                )
        elif path.is_dir():
            _search(path, config, trusted, found)
        elif path.is_file():
            if path.suffix != ".py" or looks_like_revision(path):
                found.files.append(path)
        elif path.is_symlink():
            found.unreadable.append((_entry_name(path), _broken_link(path)))
        else:
            raise InputError(f"{shown}: no such file or directory")
        if (len(found.files), len(found.unreadable)) == before:
            found.empty.append(shown)
    if len(paths) + len(revisions) < 2:
        return found
    seen: set[Path] = set()
    unique: list[Path | None] = []
    for file in found.files:  # a file named twice (a folder and --revisions) is linted once
        if file is not None:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
        unique.append(file)
    found.files = unique
    return found


class _Trusted:
    """Where a revision may be imported from: a version location of the Alembic project
    that configures it, or a folder the user named with ``--revisions``."""

    def __init__(self, name: str, named: list[Path]) -> None:
        self.name = name
        self.named = [p.resolve() for p in named]
        self.folders: dict[Path, bool] = {}

    def __call__(self, file: Path) -> bool:
        folder = file.resolve().parent
        known = self.folders.get(folder)
        if known is None:
            known = any(
                folder == n or n in folder.parents or file.resolve() == n for n in self.named
            )
            if not known:
                known = Project.containing(folder, self.name) is not None
            self.folders[folder] = known
        return known


JS_SUFFIXES = (".ts", ".js", ".mjs", ".cjs")  # TypeORM and Knex migrations


def tool_skipped(path: Path) -> bool:
    """A file a migration tool keeps beside its migrations (sqitch's revert and verify)."""
    from expandcontract.lint.sources.tools import skipped

    return skipped(path)


def _in_virtualenv(file: Path, top: Path) -> bool:
    return any((d / "pyvenv.cfg").exists() for d in file.parents if top in d.parents)


def _entry_name(path: Path) -> str:
    """The name of a folder entry as it is (a link not followed), for a report."""
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    return printable(Path(absolute if relative.startswith("..") else relative).as_posix())


def _broken_link(path: Path) -> str:
    try:
        path.stat()
    except OSError as err:
        if err.errno == errno.ELOOP:
            return "a symbolic link loop: not read"
        return f"a symbolic link to {os.readlink(path)!r}, which does not exist: not read"
    return "cannot be read"


def _walk(directory: Path, found: Collected, config: Config) -> list[Path]:
    """Every file under ``directory``, symbolic links to folders followed (once each; a
    link back up is a loop, reported); what cannot be read is reported in ``found``."""
    files: list[Path] = []
    entered = {directory.resolve()}
    stack = [(directory, (directory.resolve(),))]
    while stack:
        folder, ancestors = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            found.unreadable.append((_entry_name(folder), f"cannot read folder: {err.strerror}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows a link
                is_file = not is_dir and entry.is_file()
            except OSError:
                is_dir = is_file = False
            if entry.is_symlink() and not (is_dir or is_file):
                if path.suffix in LINTED or not os.path.exists(path):
                    found.unreadable.append((_entry_name(path), _broken_link(path)))
                continue
            if is_dir:
                if entry.name in _SKIP_DIRS or (path / "pyvenv.cfg").exists():
                    continue  # a virtualenv, a VCS folder: never ours
                if config.excluded(path):
                    continue
                real = path.resolve()
                if real in ancestors:
                    found.unreadable.append(
                        (
                            _entry_name(path),
                            "a symbolic link loop (a link to a folder above it): not read",
                        )
                    )
                    continue
                if real in entered:
                    continue  # reached through another link already
                entered.add(real)
                stack.append((path, (*ancestors, real)))
            elif is_file:
                files.append(path)
    return sorted(files)


LINTED = (".sql", ".py", *JS_SUFFIXES)


def _search(directory: Path, config: Config, trusted: _Trusted, found: Collected) -> None:
    outside: list[Path] = []
    for p in _walk(directory, found, config):
        if p.suffix not in LINTED or config.excluded(p):
            continue
        if p.suffix == ".sql":
            if not tool_skipped(p):
                found.files.append(p)
        elif p.suffix == ".py":
            if looks_like_revision(p):
                if trusted(p):
                    found.files.append(p)
                else:
                    outside.append(p)
        elif _js_migration(p):
            found.files.append(p)
    if outside:
        names = ", ".join(display_path(p) for p in outside[:3]) + (
            ", ..." if len(outside) > 3 else ""
        )
        found.notes.append(
            f"{len(outside)} Python file(s) in {display_path(directory)} look like Alembic "
            f"revisions but are in no version location of an Alembic project ({names}): not "
            "imported, as linting a revision runs its code; name their folder with "
            "--revisions to lint them"
        )


def _js_migration(path: Path) -> bool:
    from expandcontract.lint.sources.tools import looks_like_js_migration

    try:
        return looks_like_js_migration(path.read_text(errors="replace"))
    except OSError:
        return False


def default_paths(name: str = "alembic") -> list[str]:
    """With no PATH: the Alembic project in the current directory."""
    found = Project.find_config(Path.cwd())
    if found is None:
        raise InputError(
            "no PATH given and no alembic.ini or pyproject.toml with [tool.alembic] here; "
            "name the .sql files, revision files or directories to lint"
        )
    return [str(Project.load(found, name).source)]


def changed_since(ref: str) -> set[Path]:
    """Files added or modified since the git ref (committed, staged or not), resolved."""
    import subprocess

    # a ref is a value, never an option: "--output=FILE" made git write FILE
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n\r"):
        raise InputError(f"--changed-since {ref!r}: not a git revision")

    def git(*args: str) -> list[str]:
        result = subprocess.run(["git", *args], capture_output=True, text=True)
        if result.returncode != 0:
            why = result.stderr.strip() or "no such commit in this repository"
            raise InputError(f"--changed-since {ref}: {why}")
        return [line for line in result.stdout.splitlines() if line]

    top = Path(git("rev-parse", "--show-toplevel")[0])
    commit = git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")[0]
    names = git("diff", "--name-only", "--diff-filter=AMR", "-z", commit, "--")
    names += git("ls-files", "--others", "--exclude-standard", "-z")
    return {(top / n).resolve() for line in names for n in line.split("\0") if n}


def display_path(path: Path) -> str:
    """The name a report gives ``path``: relative to the current directory where it can be,
    control characters and undecodable bytes escaped (a newline in a file name must not
    start a line of the report: a CI log runs ``::error`` lines as commands)."""
    try:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # a symbolic link loop: its own place
            real = path.parent.resolve() / path.name
        shown = real.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        shown = path.as_posix()
    return printable(shown)


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
            options.name,
            options.execute is not None,
        )
    )


def lint_paths(paths: list[str], config: Config, options: Options) -> tuple[Report, list[str]]:
    """Lint every file; returns the report and the input errors (unreadable files)."""
    if not paths and not options.revisions:
        paths = default_paths(options.name)
    found = collect(paths, config, options.name, options.revisions)
    for note in found.notes:
        sys.stderr.write(f"warning: {note}\n")
    if found.empty and not options.allow_empty:
        raise InputError(
            "nothing to lint in "
            + ", ".join(found.empty)
            + ": no .sql file, no Alembic revision in a version location (or --revisions); "
            "--allow-empty makes that exit 0"
        )
    files = found.files
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
    replay = cache.get(run_key, _RUN_ENTRY)
    if replay is not None and cache.unchanged(replay["imports"]):
        # nothing changed since the last run (files, settings, the application code its
        # revisions imported): its report, as it was
        findings = findings_of(replay)
        if findings is not None:
            report = Report(findings, replay["files"], replay["statements"], replay["paths"])
            return _with_unreadable(report, replay["problems"], found, config, options)
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
    return _with_unreadable(report, problems, found, config, options)


def _with_unreadable(
    report: Report, problems: list[str], found: Collected, config: Config, options: Options
) -> tuple[Report, list[str]]:
    """The entries the search could not read, as findings (so that every format shows
    them, and none says "All clear") and as input errors (exit 2)."""
    if not found.unreadable:
        return report, problems
    ruleset = build_ruleset(config, options)
    extra = [_input_finding(name, why, ruleset) for name, why in found.unreadable]
    findings = sorted([*report.findings, *extra], key=Finding.sort_key)
    paths = sorted({*report.paths, *(name for name, _ in found.unreadable)})
    report = Report(findings, report.files + len(extra), report.statements, paths)
    return report, [*problems, *(f"{name}: {why}" for name, why in found.unreadable)]


def _input_finding(name: str, message: str, ruleset: RuleSet) -> Finding:
    """A file (or folder) that could not be read, as a finding: it was not judged."""
    import re

    from expandcontract.lint.engine import PARSE_ERROR

    line = column = 1
    message = message.removeprefix(f"{name}:").strip()
    at = re.match(r"(\d+)(?::(\d+))?: ", message)
    if at:
        line, column = int(at[1]), int(at[2] or 1)
        message = message[at.end() :]
    rule = ruleset.by_code[PARSE_ERROR]
    return Finding(
        name,
        line,
        column,
        PARSE_ERROR,
        rule.name,
        ruleset.severity_of(PARSE_ERROR),
        f"not linted: {message}",
        "Nothing in it was checked: make it readable (UTF-8 text), or exclude it.",
    )


_RUN_ENTRY = {
    "findings": list,
    "files": int,
    "statements": int,
    "paths": list,
    "problems": list,
    "imports": list,
}


def findings_of(entry: dict) -> list[Finding] | None:
    """The findings a cache entry holds; None when they are not findings (a miss)."""
    try:
        return [Finding(**f) for f in entry["findings"]]
    except (KeyError, TypeError):
        return None


def _lint_files(
    files: list[Path | None],
    config: Config,
    options: Options,
    cache: Cache,
    start: Schema | None = None,
) -> tuple[Report, list[str]]:
    """One pipeline over every source: each file goes to its source (SQL files, Alembic
    revisions), which keeps what flows from file to file (the schema, open NOT VALID
    constraints) and the cache; a crash of ours is a finding on that file."""
    from expandcontract.lint.sources.sql import SqlFiles

    ruleset = None  # built on the first file the cache does not know

    def rules() -> RuleSet:
        nonlocal ruleset
        if ruleset is None:
            ruleset = build_ruleset(config, options)
        return ruleset

    sql = SqlFiles(cache, rules, start)
    revisions = None
    if any(f is not None and f.suffix == ".py" for f in files):
        from expandcontract.lint.sources.alembic import Revisions

        revisions = Revisions(cache, rules, start, options.name)
    findings: list[Finding] = []
    problems: list[str] = []
    statements = 0
    counts: dict[str, int] = {}  # each file's statements
    shown: list[str] = []
    for file in _parents_first(files, revisions):
        name = printable(options.stdin_filename or "-") if file is None else display_path(file)
        try:
            if revisions is not None and file is not None and file.suffix == ".py":
                shown.append(name)
                found, count = revisions.lint(file, name)
            else:
                text = sql.read(file, name)
                shown.append(name)
                found, count = sql.lint(file, name, text)
        except InputError as err:
            problems.append(err.message)
            if not shown or shown[-1] != name:
                shown.append(name)
            findings.append(_input_finding(name, err.message, rules()))
            continue
        except Exception as err:  # a bug of ours: this file's finding; the run goes on
            findings.append(_crashed(name, err, rules()))
            continue
        findings.extend(found)
        statements += count
        counts[name] = count
    sql.finish()
    if revisions is not None and options.execute and revisions.aborted:
        try:
            redone = revisions.execute(options.execute)
        except InputError as err:
            problems.append(err.message)
            redone = {}
        for name, (found, count) in redone.items():
            findings = [f for f in findings if f.path != name] + found
            statements += count - counts.get(name, 0)
    findings.sort(key=Finding.sort_key)
    report = Report(findings=findings, files=len(shown), statements=statements, paths=sorted(shown))
    return report, problems


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


def _parents_first(files: list[Path | None], revisions) -> list[Path | None]:
    """SQL files first, in a migration tool's order; then revision files, each after its
    parents."""
    depth = {
        f: revisions.depth(f) for f in files if f is not None and f.suffix == ".py" and revisions
    }
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
