"""Lint cost against the number of SQL files: N one-statement files, each adding a table
(so the schema the files replay grows with every file), linted in a fresh process.

    python bench/many_files.py 1000 3000 [--touch]

Per N: wall time of a cold run (empty cache), a warm run (nothing changed: the run's
report replayed), and with --touch a run after touching the 10th file (same text, new
modification time: every file's entry is looked up, none linted) and one after editing it
(it adds another table: every file after it starts from another schema and is linted
again), and the cache's size.

Measured on the 2-core development machine (shared with other jobs, so +-30 %), wall
seconds, `python bench/many_files.py 1000 3000 20000 --touch`:

    files   before (4797df8)                          after (issue 26)
            cold   warm  touched edited cache         cold  warm touched edited cache
    1,000   12.1   0.27    4.2    10.7   56 MB         1.5  0.32   0.62    1.0   0.5 MB
    3,000   88.0   0.63   46.2    62.7  512 MB         2.6  0.85   2.2     2.1   1.5 MB
   20,000      -      -      -       -     -          13.1  0.97   5.0    10.4  10.2 MB

(before, 3,000 files already took 88 s and half a gigabyte; the issue measured 20,000 at
2,605 s and 4.8 GB.)
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
