"""Lint speed, side by side with squawk, like with like: the same file, the same output
format (JSON against JSON, text against squawk's gcc one-line text), fresh processes.

    python bench/lint_speed.py [--statements 10000] [--runs 5]

Our cold runs pass --no-cache (squawk keeps no cache). They run with Python's bytecode
cache, as an installed package always has it (pip compiles it at install time): the
bench clears PYTHONDONTWRITEBYTECODE for its children and makes one untimed run first,
which writes it for an editable install. A last line times the case the result cache is
for: a rerun over 500 unchanged Alembic revision files.

Prints, per file and format, the median over --runs cold runs of each tool's CPU time
(user + system of the child process) and wall time, and the ratio ours / squawk's
(above 1: we are slower). Runs alternate between the tools (this machine is noisy).
squawk: `pip install squawk-cli`; without it, only our figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATES = [
    "SET lock_timeout = '2s';",
    "CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL, created_at timestamptz DEFAULT now());",
    "ALTER TABLE users ADD COLUMN c{i} text;",
    "ALTER TABLE users ADD COLUMN d{i} uuid DEFAULT gen_random_uuid();",
    "CREATE INDEX CONCURRENTLY ix_orders_{i} ON orders (customer_id, created_at);",
    "CREATE INDEX ix_events_{i} ON events (kind);",
    "ALTER TABLE orders ADD CONSTRAINT fk_{i} FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;",
    "ALTER TABLE orders VALIDATE CONSTRAINT fk_{i};",
    "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
    "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14, 2);",
    "UPDATE users SET flag = true WHERE id > {i} AND id <= {i} + 1000;",
    "INSERT INTO settings (key, value) VALUES ('k{i}', 'v');",
    "COMMENT ON COLUMN users.c{i} IS 'added in migration {i}';",
    "DROP INDEX CONCURRENTLY IF EXISTS ix_old_{i};",
    "ALTER TABLE users RENAME COLUMN a{i} TO b{i};",
    "CREATE OR REPLACE FUNCTION f{i}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.x := 1; RETURN NEW; END $$;",
]

TYPICAL = """-- 0042: add billing fields
SET lock_timeout = '2s';
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12, 2));
CREATE INDEX ix_invoices_customer ON invoices (customer_id);
ALTER TABLE customers ADD COLUMN billing_email text;
ALTER TABLE customers ADD COLUMN plan text NOT NULL DEFAULT 'free';
ALTER TABLE orders ADD COLUMN invoice_id bigint;
ALTER TABLE orders ADD CONSTRAINT orders_invoice_fk FOREIGN KEY (invoice_id) REFERENCES invoices (id) NOT VALID;
CREATE INDEX CONCURRENTLY ix_orders_invoice ON orders (invoice_id);
ALTER TABLE orders VALIDATE CONSTRAINT orders_invoice_fk;
UPDATE customers SET billing_email = email WHERE id BETWEEN 1 AND 1000;
"""


def generate(n: int) -> str:
    return "\n".join(TEMPLATES[i % len(TEMPLATES)].format(i=i) for i in range(n)) + "\n"


# the children's environment: with Python's bytecode cache, as an installed package has it
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd=None, env=None) -> tuple[float, float]:
    """(CPU, wall) seconds of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        cwd=cwd,
        env={**_ENV, **(env or {})},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    ours = [str(Path(sys.executable).with_name("expandcontract"))]
    if not Path(ours[0]).exists():
        ours = [sys.executable, "-m", "expandcontract"]
    squawk = shutil.which("squawk") or (
        str(Path(sys.executable).with_name("squawk"))
        if Path(sys.executable).with_name("squawk").exists()
        else None
    )
    formats = {  # ours, squawk's: the same kind of output
        "json": (["--format", "json"], ["--reporter", "json"]),
        "text": (["--format", "text"], ["--reporter", "gcc"]),
    }
    results: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            f"{args.statements:,} statements": Path(tmp) / "big.sql",
            "typical file": Path(tmp) / "0042_billing.sql",
        }
        files[f"{args.statements:,} statements"].write_text(generate(args.statements))
        files["typical file"].write_text(TYPICAL)
        for path in files.values():  # untimed: writes the bytecode of an editable install
            timed([*ours, "lint", "--exit-zero", "--no-cache", str(path)])
        for _ in range(args.runs):
            for label, path in files.items():
                for fmt, (our_flags, squawk_flags) in formats.items():
                    # cold: no result cache (squawk has none)
                    cmd = [*ours, "lint", "--exit-zero", "--no-cache", *our_flags, str(path)]
                    results.setdefault((label, fmt, "expandcontract"), []).append(timed(cmd))
                    if squawk:
                        cmd = [squawk, *squawk_flags, str(path)]
                        results.setdefault((label, fmt, "squawk"), []).append(timed(cmd))

    print(f"medians of {args.runs} cold runs; CPU = user + system of the process\n")
    print(
        f"{'file':<20}{'format':<8}{'ours CPU s':>11}{'ours wall s':>12}"
        f"{'squawk CPU s':>13}{'squawk wall s':>14}{'CPU ratio':>10}{'wall ratio':>11}"
    )
    for label in files:
        for fmt in formats:
            mine = results[(label, fmt, "expandcontract")]
            cpu, wall = (statistics.median(r[i] for r in mine) for i in (0, 1))
            line = f"{label:<20}{fmt:<8}{cpu:>11.4f}{wall:>12.4f}"
            if squawk:
                theirs = results[(label, fmt, "squawk")]
                s_cpu, s_wall = (statistics.median(r[i] for r in theirs) for i in (0, 1))
                line += (
                    f"{s_cpu:>13.4f}{s_wall:>14.4f}"
                    f"{cpu / max(s_cpu, 1e-4):>9.1f}x{wall / max(s_wall, 1e-4):>10.1f}x"
                )
            print(line)
    if not squawk:
        print("\nsquawk not found: `pip install squawk-cli` to compare side by side")
    rerun(ours, args.runs)


def rerun(ours: list[str], runs: int) -> None:
    """A pre-commit rerun: 500 unchanged revision files, linted once to fill the cache,
    then again (ours only: squawk keeps no cache and reads no Alembic revision)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from verify_speed import write_chain

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_chain(root, 500)
        cmd = [*ours, "lint", "--exit-zero", "--format", "json", "migrations/versions"]
        env_cache = {"EXPANDCONTRACT_CACHE_DIR": str(root / "cache")}
        cold = timed([*cmd, "--no-cache"], cwd=root)
        subprocess.run(cmd, cwd=root, env={**_ENV, **env_cache}, capture_output=True)
        warm = [timed(cmd, cwd=root, env=env_cache) for _ in range(runs)]
        cpu, wall = (statistics.median(r[i] for r in warm) for i in (0, 1))
        print(
            f"\n500 unchanged revision files: {cold[0]:.2f} s CPU / {cold[1]:.2f} s wall "
            f"without the cache; rerun with the cache (median of {runs}): {cpu:.3f} s CPU / "
            f"{wall:.3f} s wall"
        )


if __name__ == "__main__":
    main()
