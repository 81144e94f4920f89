"""``[tool.expandcontract]`` in the nearest ``pyproject.toml``; command-line flags win."""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from expandcontract.errors import InputError
from expandcontract.lint.rule import SEVERITIES
from expandcontract.sql.target import DEFAULT_VERSION

# key -> (type, description); an unknown key is an error, never silently dropped
KEYS: dict[str, tuple[type, str]] = {
    "pg_version": (
        int,
        f"PostgreSQL major version the migrations run on (default {DEFAULT_VERSION})",
    ),
    "select": (list, "rule codes or names to run (default: all)"),
    "ignore": (list, "rule codes or names not to run"),
    "severity": (dict, "rule code or name -> 'error' or 'warning'"),
    "exclude": (list, "glob patterns of files not to lint, relative to pyproject.toml"),
    "assume_in_transaction": (bool, "SQL files run inside one transaction (default false)"),
    "lock_timeout": (
        str,
        "lock_timeout for every DDL statement the runner issues (default '2s'; must be more "
        "than 0: 0 would switch the protection off)",
    ),
    "lock_retries": (int, "attempts of a statement that hits lock_timeout (default 5)"),
    "wait_timeout": (
        float,
        "seconds a CONCURRENTLY build or a VALIDATE may wait for other sessions' snapshots "
        "and locks before it gives up and is cleaned up (default 600; 0: no bound)",
    ),
    "backfill_batch_size": (
        int,
        "rows in the first backfill batch (default 1000; at most 100,000: a bigger batch "
        "holds its row locks for seconds)",
    ),
    "backfill_batch_time": (
        float,
        "seconds each backfill batch should take; batches grow or shrink to it "
        "(default 0.05; 0 keeps backfill_batch_size fixed)",
    ),
    "backfill_workers": (int, "connections backfilling disjoint key ranges (default 1)"),
    "backfill_pause": (float, "seconds to sleep between backfill batches (default 0)"),
    "backfill_max_replica_lag": (
        float,
        "seconds of replica replay lag above which the backfill waits (default 10; 0: off)",
    ),
    "replica_urls": (list, "replicas whose replay lag also paces the backfill (default none)"),
    "backfill_triggers": (
        str,
        "the table's own triggers during a backfill: 'skip' (default; needs a superuser) or 'fire'",
    ),
    "revision_timeout": (
        float,
        "seconds a revision's own code may run while lint renders it (default 10; 0: no limit; "
        "otherwise from 0.1 to 3600)",
    ),
}

MAX_BATCH_SIZE = 100_000  # the largest first backfill batch a configuration may ask for
MIN_REVISION_TIMEOUT, MAX_REVISION_TIMEOUT = 0.1, 3600.0
# PostgreSQL's spelling of a duration setting: a number, a unit (milliseconds without one)
_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(us|ms|s|min|h|d)?\s*")


@dataclass
class Config:
    pg_version: int = DEFAULT_VERSION
    # the keys the file sets (a default is not a choice: verify's backend honours only these)
    given: frozenset = frozenset()
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    assume_in_transaction: bool = False
    lock_timeout: str = "2s"
    lock_retries: int = 5
    wait_timeout: float = 600.0
    backfill_batch_size: int = 1000
    backfill_batch_time: float = 0.05
    backfill_workers: int = 1
    backfill_pause: float = 0.0
    backfill_max_replica_lag: float = 10.0
    replica_urls: list[str] = field(default_factory=list)
    backfill_triggers: str = "skip"
    revision_timeout: float = 10.0
    path: Path | None = None

    def batch_settings(self):
        """The backfill settings, as the runner hands them to every backfill."""
        from expandcontract.ops.backfill import BatchSettings

        return BatchSettings(
            self.backfill_batch_size,
            self.backfill_pause,
            self.backfill_batch_time,
            self.backfill_workers,
            self.backfill_max_replica_lag,
            tuple(self.replica_urls),
            self.backfill_triggers,
        )

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def excluded(self, file: Path) -> bool:
        if not self.exclude:  # most projects: no path to resolve
            return False
        try:
            rel = file.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            rel = file.as_posix()
        return any(fnmatch(rel, p) or fnmatch(rel, p.rstrip("/") + "/*") for p in self.exclude)


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start``, when it has
    ``[tool.expandcontract]``. The search stops at the first ``pyproject.toml``, with our
    section or without (as ruff's does): that file marks the project, and a parent
    folder's configuration must not silently change its verdict."""
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            has_ours = "expandcontract" in _load_toml(candidate).get("tool", {})
            return candidate if has_ours else None
    return None


def load_config(explicit: Path | None = None, start: Path | None = None) -> Config:
    path = explicit or find_pyproject((start or Path.cwd()).resolve())
    if path is None:
        return Config()
    if not path.is_file():
        raise InputError(f"{path}: configuration file not found")
    section = _load_toml(path).get("tool", {}).get("expandcontract", {})
    return parse_section(section, path)


def parse_section(section: dict, path: Path) -> Config:
    from expandcontract.linters import LOOKUP

    text = path.read_text(encoding="utf-8", errors="replace")
    config = Config(path=path)
    for key, value in section.items():
        where = f"{path}:{_line_of(text, key)}"
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise InputError(f"{where}: unknown key {key!r} in [tool.expandcontract] ({known})")
        expected, _ = KEYS[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise InputError(f"{where}: {key} must be a {expected.__name__}, not {value!r}")
        if key in ("backfill_batch_size", "backfill_workers", "lock_retries") and value < 1:
            raise InputError(f"{where}: {key} must be at least 1, not {value!r}")
        if key == "backfill_batch_size" and value > MAX_BATCH_SIZE:
            raise InputError(
                f"{where}: backfill_batch_size must be at most {MAX_BATCH_SIZE:,} (a bigger "
                f"batch holds its row locks for seconds), not {value!r}"
            )
        if expected is float and not math.isfinite(value):
            raise InputError(f"{where}: {key} must be a finite number of seconds, not {value!r}")
        if (
            key == "revision_timeout"
            and value != 0
            and not (MIN_REVISION_TIMEOUT <= value <= MAX_REVISION_TIMEOUT)
        ):
            raise InputError(
                f"{where}: revision_timeout must be 0 (no limit) or from "
                f"{MIN_REVISION_TIMEOUT:g} to {MAX_REVISION_TIMEOUT:g} seconds, not {value!r}"
            )
        if key == "lock_timeout":
            _check_lock_timeout(value, where)
        non_negative = (
            "backfill_batch_time",
            "backfill_pause",
            "revision_timeout",
            "backfill_max_replica_lag",
        )
        if key in non_negative and value < 0:
            raise InputError(f"{where}: {key} must not be negative, not {value!r}")
        if key == "backfill_triggers" and value not in ("skip", "fire"):
            raise InputError(f"{where}: backfill_triggers must be 'skip' or 'fire', not {value!r}")
        if key == "replica_urls" and not all(isinstance(v, str) for v in value):
            raise InputError(f"{where}: replica_urls must be a list of URLs, not {value!r}")
        if key in ("select", "ignore"):
            value = [resolve_rule(v, f"{where}: {key}", LOOKUP) for v in value]
        elif key == "severity":
            value = {
                resolve_rule(k, f"{where}: severity", LOOKUP): _severity(v, where)
                for k, v in value.items()
            }
        setattr(config, key, value)
    config.given = frozenset(section)
    return config


def _check_lock_timeout(value: str, where: str) -> None:
    """A lock_timeout PostgreSQL accepts, and above 0: ``0`` means "wait forever", which
    turns the protection off, so a statement would queue behind any lock (and every
    query on the table behind it)."""
    match = _DURATION.fullmatch(value)
    if not match:
        raise InputError(
            f"{where}: lock_timeout must be a duration such as '2s' or '500ms', not {value!r}"
        )
    if float(match[1]) == 0:
        raise InputError(
            f"{where}: lock_timeout must be more than 0, not {value!r} (0 waits forever: "
            "a statement would queue behind any lock, and the application behind it)"
        )


def resolve_rule(word: object, where: str, lookup: dict[str, str]) -> str:
    code = lookup.get(str(word)) or lookup.get(str(word).upper())
    if code is None:
        raise InputError(f"{where}: unknown rule {word!r} (see `expandcontract rules`)")
    return code


def _severity(value: object, where: str) -> str:
    if value not in SEVERITIES:
        raise InputError(f"{where}: severity must be 'error' or 'warning', not {value!r}")
    return str(value)


def _load_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"{path}: invalid TOML: {err}") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None


def _line_of(text: str, key: str) -> int:
    section = text.find("[tool.expandcontract]")
    match = re.compile(rf"^\s*{re.escape(key)}\s*=", re.MULTILINE).search(text, max(section, 0))
    return (
        text.count("\n", 0, match.start()) + 1
        if match
        else max(text.count("\n", 0, section), 0) + 1
    )
