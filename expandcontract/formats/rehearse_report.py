"""The rehearsal report: a table of latency, failures and lock waits per phase, as text
or markdown, or the JSON contract."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expandcontract.rehearse import RehearsalReport


def render(name: str, report: RehearsalReport) -> str:
    if name == "json":
        return json.dumps(report.as_dict(), indent=2)
    rows = (
        ([report.baseline] if report.baseline else [])
        + report.phases
        + [p for p in (report.naive, report.naive_downgrade) if p]
    )
    header = (
        "phase",
        "dir",
        "queries",
        "failed",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "lock wait ms",
        "throughput",
        "phase s",
    )
    contract = any(p.contract_violations is not None for p in rows)
    if contract:
        header += ("off contract",)
    table = [
        (
            p.phase,
            p.direction,
            str(p.queries),
            str(p.failed),
            f"{p.p50_ms:.1f}",
            f"{p.p95_ms:.1f}",
            f"{p.p99_ms:.1f}",
            f"{p.max_ms:.1f}",
            f"{p.max_lock_wait_ms:.0f}",
            f"{p.throughput_ratio:.2f}",
            f"{p.seconds:.2f}",
            *(
                ["-" if p.contract_violations is None else str(p.contract_violations)]
                if contract
                else []
            ),
        )
        for p in rows
    ]
    errors = [f"{p.phase} {p.direction}: {e}" for p in rows for e in p.errors]
    if not table:  # stopped before anything was measured: say why, and only that
        return f"stopped early: {report.interrupted or 'nothing was measured'}"
    if name == "markdown":
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in table]
        if errors:
            lines += ["", "Errors:", *[f"- `{e}`" for e in errors]]
    else:
        widths = [max([len(h), *(len(r[i]) for r in table)]) for i, h in enumerate(header)]
        lines = [
            "  ".join(
                h.rjust(w) if i > 1 else h.ljust(w)
                for i, (h, w) in enumerate(zip(header, widths, strict=True))
            )
        ]
        lines += [
            "  ".join(
                c.rjust(w) if i > 1 else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
            for r in table
        ]
        if errors:
            lines += ["", "errors:", *[f"  {e}" for e in errors]]
    if report.interrupted:
        lines += ["", f"stopped early: {report.interrupted} (partial results above)"]
    return "\n".join(lines)
