"""No import cycle between our modules: every ``import`` of ``expandcontract`` (and of
the rules installed as ``expandcontract.linters``), at the top of a module or inside a
function, read from the source; ``if TYPE_CHECKING:`` blocks do not import at run time."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _modules() -> dict[str, Path]:
    found = {}
    for file in (ROOT / "expandcontract").rglob("*.py"):
        name = ".".join(file.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = file
    for file in (ROOT / "linters").glob("*.py"):
        found["expandcontract.linters" + ("" if file.stem == "__init__" else f".{file.stem}")] = (
            file
        )
    return found


def _imports(file: Path, known: set[str]) -> set[str]:
    tree = ast.parse(file.read_text())
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out & known


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_back() -> None:
    modules = _modules()
    graph = {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}
    assert _cycles(graph) == []


def test_the_walk_finds_a_cycle_when_there_is_one() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# SQL that reads PostgreSQL's catalog: the tables and views, regclass lookups, definitions
CATALOG_SQL = re.compile(
    r"\b(FROM|JOIN)\s+pg_[a-z_]+|to_regclass\s*\(|::regclass\b|"
    r"pg_get_[a-z]+(def|expr)\s*\(|pg_(blocking_pids|terminate_backend|cancel_backend)\s*\(",
    re.IGNORECASE,
)
# the statement table's entries are SQL users write (and the old client's probes of them),
# the oracle's data, not reads of ours
NOT_READS = {"expandcontract/sql/postgres/statement_table.py"}


def _code_strings(file: Path) -> list[tuple[int, str]]:
    """Every string literal of ``file`` but docstrings (prose may name catalog objects)."""
    tree = ast.parse(file.read_text())
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            docs.add(id(first.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_catalog_sql_lives_in_catalog_only() -> None:
    """One home for what is read from pg_catalog: a query elsewhere is a second copy of
    knowledge that changes with PostgreSQL's versions."""
    outside = []
    for file in sorted((ROOT / "expandcontract").rglob("*.py")):
        relative = file.relative_to(ROOT).as_posix()
        if relative.startswith("expandcontract/catalog/") or relative in NOT_READS:
            continue
        outside += [
            f"{relative}:{line}: {found.group(0)}"
            for line, value in _code_strings(file)
            if (found := CATALOG_SQL.search(value))
        ]
    assert outside == []


def test_the_catalog_check_sees_a_read_outside() -> None:
    planted = 'q = "SELECT conname FROM pg_constraint WHERE conrelid = :t::regclass"\n'
    tree_strings = [n.value for n in ast.walk(ast.parse(planted)) if isinstance(n, ast.Constant)]
    assert any(CATALOG_SQL.search(s) for s in tree_strings)
