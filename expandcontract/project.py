"""The Alembic project: its configuration, revision history and phases, read in one place.

The configuration is read by Alembic's own :class:`alembic.config.Config`, so an
``alembic.ini`` (with ``%(here)s`` and every interpolation Alembic supports), a
``[tool.alembic]`` table in ``pyproject.toml``, ``--name`` sections,
``version_locations``, ``path_separator``, ``prepend_sys_path`` and ``pkg:path``
script locations all mean what they mean to ``alembic``. Two deliberate
differences, both so that ``-c path/to/alembic.ini`` works from any folder:

- the ``pyproject.toml`` consulted with an ``alembic.ini`` is the one beside it
  (Alembic takes the one in the current directory);
- relative ``script_location`` and ``prepend_sys_path`` entries that do not exist
  from the current directory are taken from the configuration file's folder.

The history is read statically (the revision files' ``revision``,
``down_revision``, ``depends_on`` and ``branch_labels`` literals) so that
linting and writing need not import every revision; commands that run
migrations also load Alembic's ``ScriptDirectory``.
"""

from __future__ import annotations

import ast
import contextlib
import heapq
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from expandcontract.alembic_integration import internals
from expandcontract.errors import InputError, first_line
from expandcontract.phases import PHASES
from expandcontract.urls import postgresql_url

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory


@dataclass
class RevisionMeta:
    """What a revision file declares, read from its source without importing it."""

    path: Path
    revision: str | None = None
    down_revisions: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    branch_labels: tuple[str, ...] = ()


def revision_files(directory: Path, recursive: bool = False) -> list[Path]:
    """The files Alembic would load as revisions from a version location: its ``*.py``
    (not ``__init__.py``), and those of its subfolders only with
    ``recursive_version_locations``."""
    found = directory.rglob("*.py") if recursive else directory.glob("*.py")
    return sorted(p for p in found if p.name != "__init__.py" and p.is_file())


def looks_like_revision(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "def upgrade" in head and "revision" in head


_META_FIELDS = {
    "revision": "revision",
    "down_revision": "down_revisions",
    "depends_on": "depends_on",
    "branch_labels": "branch_labels",
}


def read_meta(path: Path) -> RevisionMeta:
    meta = RevisionMeta(path)
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError):
        return meta
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets, value = [node.target.id], node.value
        else:
            continue
        for name in targets:
            if name not in _META_FIELDS or value is None:
                continue
            try:
                literal = ast.literal_eval(value)
            except ValueError:
                continue
            if name == "revision":
                meta.revision = literal
                continue
            items = tuple(literal) if isinstance(literal, list | tuple) else (literal,)
            setattr(meta, _META_FIELDS[name], tuple(i for i in items if i))
    return meta


class History:
    """Revisions by id, read statically from one or more version directories."""

    def __init__(self, directories: list[Path], recursive: bool = False):
        self.revisions: dict[str, RevisionMeta] = {}
        for directory in directories:
            for file in revision_files(directory, recursive):
                meta = read_meta(file)
                if meta.revision:
                    self.revisions[meta.revision] = meta

    @classmethod
    def from_script(cls, script: ScriptDirectory) -> History:
        """The history as Alembic resolved it (``depends_on`` labels become revisions)."""
        history = cls([])
        for rev in script.walk_revisions():
            history.revisions[rev.revision] = RevisionMeta(
                Path(rev.path),
                rev.revision,
                tuple(rev._versioned_down_revisions),
                tuple(rev._resolved_dependencies),
                tuple(rev.branch_labels or ()),
            )
        return history

    def get(self, revision: str) -> RevisionMeta | None:
        return self.revisions.get(revision)

    def phase_of(self, meta: RevisionMeta) -> str | None:
        """The phase branch a revision is on: the label met walking down its single parents."""
        seen: set[str] = set()
        current: RevisionMeta | None = meta
        while current is not None:
            labels = [label for label in current.branch_labels if label in PHASES]
            if labels:
                return labels[0]
            if len(current.down_revisions) != 1 or current.down_revisions[0] in seen:
                return None
            seen.add(current.down_revisions[0])
            current = self.revisions.get(current.down_revisions[0])
        return None

    def depth(self, revision: str) -> int:
        """Steps down first parents to a base: orders a branch parents first."""
        steps, seen, meta = 0, set(), self.revisions.get(revision)
        while meta is not None and meta.down_revisions and meta.down_revisions[0] not in seen:
            seen.add(meta.down_revisions[0])
            meta = self.revisions.get(meta.down_revisions[0])
            steps += 1
        return steps

    def revisions_of(self, phase: str) -> list[str]:
        """The revisions on a phase branch, parents first."""
        revs = [r for r, m in self.revisions.items() if self.phase_of(m) == phase]
        return sorted(revs, key=self.depth)

    def ancestors(self, revision: str) -> set[str]:
        """Every revision ``revision`` needs applied first (parents and ``depends_on``)."""
        seen: set[str] = set()
        stack = [revision]
        while stack:
            meta = self.revisions.get(stack.pop())
            for down in (*meta.down_revisions, *meta.depends_on) if meta else ():
                if down not in seen:
                    seen.add(down)
                    stack.append(down)
        return seen

    def with_descendants(self, revisions: set[str]) -> set[str]:
        """``revisions`` and every revision that needs one of them applied first."""
        result = set(revisions)
        for rev in self.topological():
            meta = self.revisions[rev]
            if result & set(meta.down_revisions + meta.depends_on):
                result.add(rev)
        return result

    def topological(self) -> list[str]:
        """Every revision, each after all it depends on, in the order a deployment runs
        them: the unphased trunk, then phase by phase (every expand revision, then every
        migrate one, ...), each branch parents first, ties by revision id. Alembic's
        version-table bookkeeping of ``depends_on`` merges holds in this order."""
        remaining = {
            rev: set(m.down_revisions + m.depends_on) & self.revisions.keys()
            for rev, m in self.revisions.items()
        }
        dependants: dict[str, list[str]] = {}
        for rev, deps in remaining.items():
            for dep in deps:
                dependants.setdefault(dep, []).append(rev)

        def key(rev: str) -> tuple[int, int, str]:
            phase = self.phase_of(self.revisions[rev])
            return (PHASES.index(phase) if phase else -1, self.depth(rev), rev)

        ready = [key(r) for r, deps in remaining.items() if not deps]
        heapq.heapify(ready)
        ordered: list[str] = []
        while len(ordered) < len(remaining):
            if not ready:  # a cycle: Alembic itself refuses those; keep going deterministically
                rest = min((r for r in remaining if r not in set(ordered)), key=key)
                heapq.heappush(ready, key(rest))
                remaining[rest].clear()
            *_, rev = heapq.heappop(ready)
            if rev in ordered:
                continue
            ordered.append(rev)
            for child in dependants.get(rev, ()):
                remaining[child].discard(rev)
                if not remaining[child]:
                    heapq.heappush(ready, key(child))
        return ordered


@dataclass
class EnvOptions:
    """What the project's env.py passes to ``context.configure()``, read (never run)."""

    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    transaction_per_migration: bool = False
    # a multi-database project: the engine whose upgrade_<engine>() functions run
    engine: str | None = None

    @classmethod
    def read(cls, env_py: Path) -> EnvOptions:
        options = cls()
        try:
            tree = ast.parse(env_py.read_bytes())
        except (OSError, SyntaxError, ValueError):
            return options
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "configure"
            ):
                continue
            for keyword in node.keywords:
                if keyword.arg in cls.__dataclass_fields__:
                    # computed at run time: the default stands
                    with contextlib.suppress(ValueError):
                        setattr(options, keyword.arg, ast.literal_eval(keyword.value))
        return options


class Project:
    """One Alembic project, as Alembic itself would read it."""

    def __init__(self, config: AlembicConfig, source: Path):
        self.config = config
        self.source = source  # the file the user named (or that was found)
        self.root = source.resolve().parent

    # --- finding and reading the configuration --------------------------------------------

    @classmethod
    def load(cls, config_file: Path | str | None = None, name: str = "alembic") -> Project:
        """The project configured by ``config_file`` (an ini file or a pyproject.toml); with
        none, ``alembic.ini`` or else a ``pyproject.toml`` with ``[tool.alembic]`` here."""
        from alembic.config import Config

        if config_file is None:
            found = cls.find_config(Path.cwd())
            if found is None:
                raise InputError(
                    "no alembic.ini or pyproject.toml with [tool.alembic] in the current "
                    "directory; pass -c path/to/alembic.ini"
                )
            config_file = found
        path = Path(config_file)
        if not path.is_file():
            raise InputError(f"{path}: no such Alembic configuration (use -c)")
        if path.name == "pyproject.toml" or path.suffix == ".toml":
            beside = path.parent / "alembic.ini"
            ini, toml = (beside if beside.is_file() else None), path
        else:
            beside = path.parent / "pyproject.toml"
            ini, toml = path, (beside if _has_tool_alembic(beside) else None)
        try:
            config = Config(
                file_=str(ini) if ini else None,
                toml_file=str(toml) if toml else None,
                ini_section=name,
            )
            config.file_config  # noqa: B018  (read it now: a broken file is an input error)
            config.toml_alembic_config  # noqa: B018
        except Exception as err:
            raise InputError(f"{path}: cannot read: {first_line(err)}") from None
        project = cls(config, path)
        if not project._option("script_location") and ini and (ini.parent / "env.py").is_file():
            # Flask-Migrate's migrations/alembic.ini: Flask-Migrate sets the location, in
            # code, to the folder the ini is in
            config.set_main_option("script_location", str(ini.parent).replace("%", "%%"))
        if not project.script_location:
            where = f"[{name}]" if ini and toml is None else "[tool.alembic]"
            raise InputError(
                f"{path}: no script_location in {where}; is this an Alembic project "
                f"(alembic init)?" + (f" (ini section [{name}])" if name != "alembic" else "")
            )
        return project

    @classmethod
    def from_config(cls, config: AlembicConfig) -> Project:
        """The project of a Config Alembic has already made (the plugin and autogenerate)."""
        source = config.config_file_name or config.toml_file_name or "alembic.ini"
        return cls(config, Path(source))

    @staticmethod
    def find_config(directory: Path) -> Path | None:
        ini = directory / "alembic.ini"
        if ini.is_file():
            return ini
        toml = directory / "pyproject.toml"
        if _has_tool_alembic(toml):
            return toml
        flask = directory / "migrations" / "alembic.ini"  # Flask-Migrate's layout
        return flask if flask.is_file() and (flask.parent / "env.py").is_file() else None

    @classmethod
    def containing(cls, path: Path, name: str = "alembic") -> Project | None:
        """The project (its ini section ``name``) whose version locations hold ``path``,
        found by walking up from it; None when no project above it claims it. A location
        holds only its own files unless ``recursive_version_locations`` is on, as in
        Alembic."""
        path = path.resolve()
        for directory in path.parents if path.is_file() else (path, *path.parents):
            found = cls.find_config(directory)
            if found is None:
                continue
            try:
                project = cls.load(found, name)
                locations = project.version_locations
            except InputError:
                continue
            folder = path.parent if path.is_file() else path
            if any(
                folder == loc or (project.recursive and loc in folder.parents) for loc in locations
            ):
                return project
        return None

    @cached_property
    def recursive(self) -> bool:
        """``recursive_version_locations``: whether subfolders of a version location hold
        revisions too."""
        value = self._option("recursive_version_locations")
        return str(value or "").strip().lower() in ("true", "1", "yes", "on")

    def _option(self, name: str) -> str | None:
        try:
            return self.config.get_alembic_option(name)
        except Exception as err:  # an interpolation Alembic cannot resolve
            raise InputError(f"{self.source}: cannot read {name}: {first_line(err)}") from None

    @cached_property
    def script_location(self) -> str | None:
        location = self._option("script_location")
        if not location:
            return None
        relative = ":" not in location and not Path(location).is_absolute()
        if relative and not Path(location).exists() and (self.root / location).exists():
            location = str(self.root / location)
            # the ini namespace is read before the toml one, so this wins for both
            self.config.set_main_option("script_location", location.replace("%", "%%"))
        return location

    @cached_property
    def env(self) -> EnvOptions:
        return EnvOptions.read(self.script_dir / "env.py")

    @property
    def env_py(self) -> Path | None:
        """The project's env.py, where there is one."""
        path = self.script_dir / "env.py"
        return path if path.is_file() else None

    @property
    def shares_transaction(self) -> bool:
        """Whether one ``alembic upgrade`` runs all its revisions in one transaction."""
        return not self.env.transaction_per_migration

    @cached_property
    def engines(self) -> list[str]:
        """The ``databases`` of a multi-database project (``alembic init -t multidb``)."""
        value = self.config.get_main_option("databases") or ""
        return [name.strip() for name in value.split(",") if name.strip()]

    # --- where the revisions are ----------------------------------------------------------

    @cached_property
    def script(self) -> ScriptDirectory:
        """Alembic's ScriptDirectory (revision modules are imported when first needed)."""
        from alembic.script import ScriptDirectory

        self.activate()
        self.script_location  # noqa: B018  (resolved against the config's folder if need be)
        try:
            return ScriptDirectory.from_config(self.config)
        except Exception as err:
            raise InputError(f"{self.source}: {first_line(err)}") from None

    @property
    def script_dir(self) -> Path:
        return Path(self.script.dir)

    def versions_for(self, parent: str | None) -> Path:
        """Where a new revision goes: beside its parent, as ``alembic revision --head``
        does with several version locations; else Alembic's own choice (the first)."""
        meta = self.history.get(parent) if parent else None
        if meta is not None:
            return meta.path.parent
        return self.version_locations[0]

    @cached_property
    def version_locations(self) -> list[Path]:
        return [Path(p).resolve() for p in internals.version_locations(self.script)]

    @cached_property
    def history(self) -> History:
        return History([p for p in self.version_locations if p.is_dir()], self.recursive)

    def load_revisions(self) -> ScriptDirectory:
        """The ScriptDirectory with every revision imported now, so that one that does not
        import is a usage error naming it rather than a traceback half-way through."""
        script = self.script
        try:
            with contextlib.redirect_stdout(sys.stderr):  # a printing revision spoils no report
                script.revision_map.get_revisions("heads")
                self.history = History.from_script(script)
        except Exception as err:
            raise InputError(
                f"{self.source}: cannot load the Alembic project: {type(err).__name__}: "
                f"{first_line(err)}"
            ) from None
        return script

    def activate(self) -> None:
        """Put ``prepend_sys_path`` on ``sys.path`` (as Alembic does before loading
        revisions), resolved against the configuration's folder."""
        try:
            entries = self.config.get_prepend_sys_paths_list() or []
        except Exception as err:
            raise InputError(f"{self.source}: prepend_sys_path: {first_line(err)}") from None
        for entry in reversed(entries):
            path = Path(entry)
            if not path.is_absolute():
                path = path if path.exists() and self.root == Path.cwd() else self.root / path
            resolved = str(path.resolve())
            if resolved not in sys.path:
                sys.path.insert(0, resolved)

    # --- the database ----------------------------------------------------------------------

    def database_url(self, override: str | None = None) -> str:
        """The SQLAlchemy URL to migrate, on psycopg 3; every problem is an InputError."""
        if self.engines and not override:
            raise InputError(
                f"{self.source}: a multi-database project (databases = "
                f"{', '.join(self.engines)}); expandcontract runs phases on one database: "
                "pass --database-url"
            )
        url = override or self._option("sqlalchemy.url")
        where = "--database-url" if override else f"sqlalchemy.url in {self.source}"
        if not url:
            raise InputError(f"{self.source}: no sqlalchemy.url; set it or pass --database-url")
        return postgresql_url(url, where)


def _has_tool_alembic(path: Path) -> bool:
    if not path.is_file():
        return False
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "[tool.alembic]" in path.read_text(encoding="utf-8", errors="replace")
    return "alembic" in data.get("tool", {})
