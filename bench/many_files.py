"""Lint cost against the number of SQL files: N one-statement files, each adding a table
(so the schema the files replay grows with every file), linted in a fresh process.

    python bench/many_files.py 1000 3000 [--touch]

Per N: wall time of a cold run (empty cache), a warm run (nothing changed: the run's
report replayed), and with --touch a run after touching the 10th file (same text, new
modification time: every file's entry is looked up, none linted) and one after editing it
(it adds another table: every file after it starts from another schema and is linted
again), and the cache's size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write(folder: Path, count: int) -> None:
    for i in range(count):
        (folder / f"V{i:05d}__t{i}.sql").write_text(
            f"CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL);\n"
        )


def lint(folder: Path, cache: Path) -> float:
    env = {**os.environ, "EXPANDCONTRACT_CACHE_DIR": str(cache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "expandcontract", "lint", "--format", "json", str(folder)],
        capture_output=True,
        text=True,
        env=env,
    )
    elapsed = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise SystemExit(result.stderr[-2000:])
    return elapsed


def size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("counts", nargs="*", type=int, default=[1000, 3000])
    parser.add_argument("--touch", action="store_true")
    args = parser.parse_args()
    for count in args.counts:
        with tempfile.TemporaryDirectory(prefix="ec-bench-") as tmp:
            folder, cache = Path(tmp) / "sql", Path(tmp) / "cache"
            folder.mkdir()
            write(folder, count)
            cold = lint(folder, cache)
            warm = lint(folder, cache)
            line = f"{count:>6} files: cold {cold:6.2f} s, warm {warm:5.2f} s"
            if args.touch:
                tenth = folder / "V00010__t10.sql"
                os.utime(tenth, (time.time() + 5, time.time() + 5))
                line += f", one touched {lint(folder, cache):6.2f} s"
                tenth.write_text("CREATE TABLE t10b (id bigint);\n")
                line += f", one edited {lint(folder, cache):6.2f} s"
            print(f"{line}, cache {size(cache) / 1e6:6.1f} MB", flush=True)


if __name__ == "__main__":
    main()
