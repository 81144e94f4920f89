"""Zero downtime, measured: an example at 1,000,000 rows, the phased change and the naive
one-step change side by side in one run.

    python bench/zero_downtime.py [--example rename-column|key-change] [--rows 1000000]
                                  [--duration 3] [--database-url URL]
                                  [--scenario plain|operations]

rename-column: customers.name becomes full_name. key-change: the realistic one, a serial
integer primary key retyped to bigint while orders' foreign key points at it (key,
sequence, default, UNIQUE and the foreign key carried over), 2 orders per customer.

Prints the rehearsal's table (per phase and direction: queries, failed queries, latency
percentiles, longest lock wait, throughput against the baseline, the phase's own time,
and the rows off the two-version contract: values either version reads that differ from
the last value written, as the example workload's check() counts them), then the figures
the deploy-rollback budget is about: each downgrade's duration.

--scenario operations (key-change): the same change while a reporting session sits idle
in its transaction on both tables and sign-ups write parent then child
(examples/key-change/operations.py); reports the deadlocks (must be 0) and the longest
wait on a lock by anyone, application or runner (must stay within one lock_timeout, 2 s).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAIVE = {
    "rename-column": "0002_rename_naive.py",
    "key-change": "0002_customer_id_bigint_naive.py",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", choices=sorted(NAIVE), default="rename-column")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--duration", type=float, default=3.0)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--scenario", choices=["plain", "operations"], default="plain")
    args = parser.parse_args()
    if args.scenario == "operations":
        args.example = "key-change"
    example = EXAMPLES / args.example
    workload = "operations.py" if args.scenario == "operations" else "workload.py"
    command = [
        sys.executable,
        "-m",
        "expandcontract",
        "rehearse",
        "-c",
        str(example / "alembic.ini"),
        "--workload",
        str(example / workload),
        "--naive",
        str(example / "naive" / NAIVE[args.example]),
        "--rows",
        str(args.rows),
        "--duration",
        str(args.duration),
        "--database-url",
        args.database_url,
    ]
    data = subprocess.run([*command, "--format", "json"], capture_output=True, text=True)
    if not data.stdout.strip().startswith("{"):
        sys.exit(f"rehearse failed:\n{data.stderr[-2000:]}")
    report = json.loads(data.stdout)
    print(f"{args.example} ({args.scenario}), {args.rows:,} rows, phased vs naive, one run\n")
    rows = [report["baseline"], *report["phases"], report["naive"], report["naive_downgrade"]]
    print(
        "| phase | dir | queries | failed | p50 ms | p99 ms | max ms | lock wait ms | throughput "
        "| phase s | off contract | deadlocks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for p in filter(None, rows):
        off = p.get("contract_violations")
        print(
            f"| {p['phase']} | {p['direction']} | {p['queries']} | {p['failed']} | "
            f"{p['p50_ms']:.1f} | {p['p99_ms']:.1f} | {p['max_ms']:.1f} | "
            f"{p['max_lock_wait_ms']:.0f} | {p['throughput_ratio']:.2f} | {p['seconds']:.2f} | "
            f"{'-' if off is None else off} | {p.get('deadlocks', 0)} |"
        )
    print("\ndowngrade durations (the rollback budget):")
    for phase in report["phases"]:
        if phase["direction"] == "down":
            budget = " (budget: under 1 s)" if phase["phase"] in ("expand", "switch") else ""
            print(f"  {phase['phase']:<9} {phase['seconds']:8.3f} s{budget}")
    phased_failed = sum(p["failed"] for p in report["phases"])
    naive = report["naive"] or {}
    print(f"\nfailed queries: phased {phased_failed}, naive {naive.get('failed')}")
    off = sum(p.get("contract_violations") or 0 for p in report["phases"])
    print(f"rows off the two-version contract: {off} (must be 0)")
    deadlocks = sum(p.get("deadlocks", 0) for p in report["phases"])
    print(f"deadlocks: phased {deadlocks} (must be 0), naive {naive.get('deadlocks')}")
    print(
        f"longest lock wait: phased {max(p['max_lock_wait_ms'] for p in report['phases']):.0f} ms,"
        f" naive {naive.get('max_lock_wait_ms', 0):.0f} ms"
    )


if __name__ == "__main__":
    main()
