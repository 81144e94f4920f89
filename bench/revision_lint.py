"""Lint time of one big Alembic revision (a squash): is it linear in the revision's size?

    python bench/revision_lint.py [--ops 1250 2500 5000] [--runs 5]

Each size is a generated revision of that many ``op.*`` calls (a mix of
create_table, create_index, add_column and alter_column with existing_type),
linted by a fresh ``expandcontract lint --format json`` process; CPU (user + sys of
the child) and wall are the medians of the runs, and the last column is the time
per operation, which stays flat when the cost is linear.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OPS = [
    'op.create_table("t{i}", sa.Column("id", sa.Integer, primary_key=True), sa.Column("name", sa.String(80)))',
    'op.create_index("ix_users_{i}", "users", ["email"])',
    'op.add_column("users", sa.Column("c{i}", sa.Text))',
    'op.alter_column("users", "c{i}", type_=sa.String(100), existing_type=sa.String(50))',
]


def revision(ops: int) -> str:
    body = "\n".join("    " + OPS[i % len(OPS)].format(i=i) for i in range(ops))
    return (
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        'revision = "0001"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\n'
        f"def upgrade():\n{body}\n\n\ndef downgrade():\n    pass\n"
    )


def timed(args: list[str]) -> tuple[float, float]:
    before = os.times()
    start = time.perf_counter()
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, nargs="+", default=[1250, 2500, 5000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = str(Path(sys.executable).parent / "expandcontract")
    print(f"{'ops':>6} {'KB':>6} {'CPU s':>7} {'wall s':>7} {'ms/op (CPU)':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for ops in args.ops:
            path = Path(tmp) / f"r{ops}" / "0001_squash.py"
            path.parent.mkdir()
            path.write_text(revision(ops))
            runs = [timed([exe, "lint", "--format", "json", str(path)]) for _ in range(args.runs)]
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            size = path.stat().st_size // 1024
            print(f"{ops:>6} {size:>6} {cpu:>7.2f} {wall:>7.2f} {1000 * cpu / ops:>12.3f}")


if __name__ == "__main__":
    main()
