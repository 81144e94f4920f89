"""The lint cache: an unchanged file costs a stat on a rerun.

Two levels, both under ``.expandcontract_cache/`` in the current directory (or
``$EXPANDCONTRACT_CACHE_DIR``), like ruff's ``.ruff_cache``:

- a **run** entry: the whole report of a run, keyed by the tool version, the
  settings, the current directory and, for every file the run read, its path,
  size and modification time (and those of the Alembic configuration around
  each revision folder). A rerun on unchanged files replays it without reading
  a file or loading the linter.
- a **file** entry: one file's findings, keyed by its content, its context (its
  phase, what its parent revision left open), the settings and the tool
  version. A run where some files changed lints only those.

``--no-cache`` reads and writes neither. Entries are JSON, written atomically;
an unreadable entry is a miss.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from pathlib import Path

from expandcontract import __version__

FOLDER = ".expandcontract_cache"
_KEEP_OUT = "# written by expandcontract: a cache, never committed\n*\n"


class Cache:
    def __init__(self, settings: str, enabled: bool = True, root: Path | None = None) -> None:
        self.enabled = enabled
        base = os.environ.get("EXPANDCONTRACT_CACHE_DIR")
        self.root = Path(base) if base else (root or Path.cwd()) / FOLDER
        if enabled:
            problem = _untrusted(self.root)
            if problem:
                import sys

                sys.stderr.write(f"warning: cache {self.root} ignored: {problem}\n")
                self.enabled = enabled = False
        # our own code's stamp costs a stat of every module: only when the cache is used;
        # the libraries that parse and render, and Python, decide verdicts as well
        stamp = f"{_code_stamp()} {_versions()}" if enabled else ""
        self.settings = f"{__version__} {stamp}\n{settings}"

    # --- keys ------------------------------------------------------------------------------

    def run_key(self, files: list[Path | None]) -> str | None:
        """The key of a run over ``files``; None when it cannot be replayed (stdin)."""
        if not self.enabled or any(f is None for f in files):
            return None
        parts = [self.settings, "run", os.getcwd()]
        around: set[Path] = set()
        try:
            for file in files:
                assert file is not None
                parts.append(_stamp(file))
                if file.suffix == ".py":
                    around.add(file.resolve().parent)
            for folder in sorted(around):  # the project that gives a revision its scope
                for place in (folder.parent / "env.py", *_configs_above(folder)):
                    parts.append(_stamp(place) if place.exists() else f"{place} -")
        except OSError:
            return None
        return _digest(parts)

    def file_key(self, kind: str, name: str, context: str, content: bytes) -> str:
        return _digest([self.settings, kind, name, context, hashlib.sha256(content).hexdigest()])

    # --- what a revision imported ------------------------------------------------------------

    @staticmethod
    def app_modules() -> list[str]:
        """Stamps of the loaded modules that are the application's own (not the standard
        library, not installed packages, not ours): rendering a revision may have imported
        them, and an entry for it holds only while they are unchanged."""
        import sys

        installed = _installed()
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if (name, file) in _SEEN:
                continue
            stamp = None
            if file and not file.startswith(installed):
                with contextlib.suppress(OSError):
                    stamp = _stamp(Path(file))
            _SEEN[name, file] = stamp
        return sorted({stamp for stamp in _SEEN.values() if stamp})

    @staticmethod
    def unchanged(stamps: list[str]) -> bool:
        for stamp in stamps:
            path = Path(stamp.rsplit(" ", 2)[0])
            try:
                if _stamp(path) != stamp:
                    return False
            except OSError:
                return False
        return True

    # --- entries ---------------------------------------------------------------------------

    def get(self, key: str | None, shape: dict[str, type] | None = None) -> dict | None:
        """The entry under ``key``, or None: a miss, as is an entry that is not valid JSON
        or lacks a field of ``shape`` (field -> type) or has it of another type."""
        if not self.enabled or key is None:
            return None
        try:
            entry = json.loads((self.root / key[:2] / f"{key}.json").read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict):
            return None
        for field, kind in (shape or {}).items():
            value = entry.get(field)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                return None
        return entry

    def put(self, key: str | None, entry: dict) -> None:
        if not self.enabled or key is None:
            return
        folder = self.root / key[:2]
        try:
            if not self.root.exists():
                self.root.mkdir(parents=True, mode=0o755)
                self.root.chmod(0o755)  # whatever the umask: no one else writes in it
                (self.root / ".gitignore").write_text(_KEEP_OUT)
                (self.root / "CACHEDIR.TAG").write_text(
                    "Signature: 8a477f597d28d172789f06886806bc55\n"
                )
            folder.mkdir(exist_ok=True)
            import tempfile

            handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(handle, "w") as out:
                out.write(json.dumps(entry))  # dumps: the C encoder (dump is pure Python)
            os.replace(temporary, folder / f"{key}.json")
        except OSError:
            pass  # a read-only checkout lints as well, just not faster


def _untrusted(root: Path) -> str | None:
    """Why an existing cache folder must not be read (None: it may). Another user who can
    write entries could turn any verdict into "All clear"."""
    try:
        stat = root.stat()
    except FileNotFoundError:
        return None  # created by us, when first written
    except OSError as err:
        return f"cannot read it ({err.strerror or err})"
    import stat as modes

    if not modes.S_ISDIR(stat.st_mode):
        return "not a folder"
    if hasattr(os, "geteuid") and stat.st_uid != os.geteuid():
        return f"owned by another user (uid {stat.st_uid}); remove it or use --no-cache"
    if stat.st_mode & (modes.S_IWGRP | modes.S_IWOTH):
        return "writable by other users; `chmod go-w` it or use --no-cache"
    return None


@functools.cache
def _versions() -> str:
    """The versions of what else decides a verdict: sqlglot parses, Alembic and SQLAlchemy
    render revisions, and Python runs them."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("sqlglot", "alembic", "sqlalchemy"):
        try:
            found.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            found.append(f"{name}=-")
    return " ".join([*found, "python=" + ".".join(map(str, sys.version_info[:3]))])


_SEEN: dict[tuple[str, str | None], str | None] = {}  # (module, file) -> stamp if the app's


@functools.cache
def _installed() -> tuple[str, ...]:
    import sys

    return tuple({sys.prefix, sys.base_prefix, sys.exec_prefix, *map(str, _code_folders())})


@functools.cache
def _code_folders() -> tuple[Path, ...]:
    """Where our own code lives (``linters/`` apart from the package in a checkout)."""
    import importlib.util

    folders = [Path(__file__).resolve().parents[1]]
    spec = importlib.util.find_spec("expandcontract.linters")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p).resolve() for p in spec.submodule_search_locations]
    return tuple(folders)


def _code_stamp() -> str:
    """The linter's own code, as stats: an edited rule (an editable install keeps its
    version number) makes every entry stale."""
    stamps = []
    for folder in _code_folders():
        for file in sorted(folder.rglob("*.py")):
            stat = file.stat()
            stamps.append(f"{file} {stat.st_size} {stat.st_mtime_ns}")
    return _digest(stamps)[:16]


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()} {stat.st_size} {stat.st_mtime_ns}"


def _configs_above(folder: Path) -> list[Path]:
    return [
        d / name for d in (folder, *folder.parents) for name in ("alembic.ini", "pyproject.toml")
    ]


def _digest(parts: list[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()
