"""Lint speed: statements per second, cold process, on a generated 10,000-statement script,
and the wall time for one typical migration file; squawk on the same files when installed.

    python bench/lint_speed.py [--statements 10000] [--runs 3]

squawk: `pip install squawk-cli`. Both tools run as fresh processes, alternately, and
the best of the runs is kept for each (this machine is noisy).
"""

from __future__ import annotations

import argparse
import shutil
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


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    ours = [str(Path(sys.executable).with_name("expandcontract"))]
    if not Path(ours[0]).exists():
        ours = [sys.executable, "-m", "expandcontract"]
    squawk = shutil.which("squawk") or (
        str(Path(sys.executable).with_name("squawk"))
        if Path(sys.executable).with_name("squawk").exists()
        else None
    )
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.sql"
        big.write_text(generate(args.statements))
        small = Path(tmp) / "0042_billing.sql"
        small.write_text(TYPICAL)
        tools = {"expandcontract": [*ours, "lint", "--exit-zero", "--format", "json"]}
        if squawk:
            tools["squawk"] = [squawk]
        best: dict[tuple[str, str], float] = {}
        for _ in range(args.runs):
            for name, cmd in tools.items():
                for label, file in (("big", big), ("typical", small)):
                    elapsed = timed([*cmd, str(file)])
                    key = (name, label)
                    best[key] = min(best.get(key, elapsed), elapsed)

    print(
        f"{'tool':<16}{'statements/s (cold, ' + str(args.statements) + ')':>34}{'typical file (s)':>20}"
    )
    for name in tools:
        rate = args.statements / best[(name, "big")]
        print(f"{name:<16}{rate:>34,.0f}{best[(name, 'typical')]:>20.3f}")
    if squawk:
        ratio = best[("squawk", "big")] / best[("expandcontract", "big")]
        typical = best[("squawk", "typical")] / best[("expandcontract", "typical")]
        print(
            f"\nexpandcontract / squawk throughput ratio: {ratio:.2f} "
            f"(typical file: {typical:.2f}; above 1 means expandcontract is faster)"
        )
    else:
        print("\nsquawk not found: `pip install squawk-cli` to compare side by side")


if __name__ == "__main__":
    main()
