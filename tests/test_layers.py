"""The import graph points one way (CONTRIBUTING, "Layers"): a static check of every import.

Reads the sources with :mod:`ast` (nothing is imported), so it also sees imports that a test run
never executes. A *module-level* import runs when the module is imported; a *lazy* one sits
inside a function and runs when that is called. ``if TYPE_CHECKING:`` blocks are ignored.
Run it alone with ``pytest tests/test_layers.py``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Top-level packages, lowest first: a package imports only packages before it.
PACKAGES = ("darwin_bench", "envs", "baselines", "leaderboard")

#: Modules of ``darwin_bench`` allowed to import a higher package, lazily only: env registration
#: at ``import darwin_bench`` (the package module itself), the plug-in API, and the command line.
UPWARD_LAZY = ("darwin_bench", "darwin_bench.registration_api", "darwin_bench.cli")

#: What the cost layer measures a module with; it never samples networks from tasks or spaces.
COSTS_FORBIDDEN = (
    "darwin_bench.tasks",
    "darwin_bench.spaces",
    "darwin_bench.evaluation",
    "darwin_bench.perf",
    "darwin_bench.tables",
    "darwin_bench.runlog",
    "darwin_bench.registration_api",
)


@dataclass
class Module:
    """One source file: its dotted name and the in-project modules it imports."""

    name: str
    path: Path
    eager: set[str] = field(default_factory=set)
    lazy: set[str] = field(default_factory=set)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _targets(node: ast.Import | ast.ImportFrom, module: Module, known: set[str]) -> set[str]:
    """Dotted names of the project modules an import statement loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        package = (
            module.name if module.path.name == "__init__.py" else module.name.rpartition(".")[0]
        )
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{base}" if base else package
    names = {f"{base}.{alias.name}" for alias in node.names}
    return {name if name in known else base for name in names}


def _collect(module: Module, known: set[str]) -> None:
    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                targets = _targets(child, module, known)
                (module.lazy if lazy else module.eager).update(
                    t for t in targets if t.split(".")[0] in PACKAGES
                )
            else:
                inside = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                visit(child, inside)

    visit(ast.parse(module.path.read_text(encoding="utf-8")), False)


def _modules() -> dict[str, Module]:
    paths = [p for pkg in PACKAGES if (ROOT / pkg).is_dir() for p in (ROOT / pkg).rglob("*.py")]
    modules = {_module_name(p): Module(_module_name(p), p) for p in paths}
    for module in modules.values():
        _collect(module, set(modules))
    return modules


MODULES = _modules()


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _loaded(target: str) -> list[str]:
    """The project modules Python runs for ``import target``: the target and its parents."""
    parts = target.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    return [n for n in names if n in MODULES]


def test_the_scan_sees_the_project() -> None:
    assert "darwin_bench.costs" in MODULES and "envs.core" in MODULES
    assert "darwin_bench.hashing" in MODULES["darwin_bench.architecture"].eager
    assert MODULES["darwin_bench.registration_api"].lazy  # its upward imports are lazy


def _may_reach_up(name: str) -> bool:
    return name == "darwin_bench" or any(_within(name, p) for p in UPWARD_LAZY[1:])


def test_packages_import_only_lower_packages() -> None:
    bad = []
    for module in MODULES.values():
        rank = PACKAGES.index(module.name.split(".")[0])
        for target in sorted(module.eager | module.lazy):
            upward = PACKAGES.index(target.split(".")[0]) > rank
            if upward and (target in module.eager or not _may_reach_up(module.name)):
                bad.append(f"{module.name} -> {target}")
    assert not bad, "upward imports (only lazy ones, in UPWARD_LAZY):\n" + "\n".join(bad)


def test_the_cost_layer_never_imports_tasks_or_spaces() -> None:
    bad = [
        f"{m.name} -> {t}"
        for m in MODULES.values()
        if _within(m.name, "darwin_bench.costs")
        for t in sorted(m.eager | m.lazy)
        if any(_within(t, f) for f in COSTS_FORBIDDEN)
    ]
    assert not bad, "\n".join(bad)


def test_the_command_line_is_the_top() -> None:
    bad = [
        f"{m.name} -> {t}"
        for m in MODULES.values()
        if not _within(m.name, "darwin_bench.cli") and m.name != "darwin_bench.__main__"
        for t in sorted(m.eager | m.lazy)
        if _within(t, "darwin_bench.cli")
    ]
    assert not bad, "library code importing the CLI:\n" + "\n".join(bad)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (a list of nodes, first repeated last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        stack.pop()
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_module_level_imports_have_no_cycle() -> None:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for module in MODULES.values():
        for target in module.eager:
            for loaded in _loaded(target):
                if not _within(module.name, loaded):  # a module's own packages are loading
                    graph[module.name].add(loaded)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("package", PACKAGES[:-1])
def test_each_package_is_scanned(package: str) -> None:
    assert any(name.split(".")[0] == package for name in MODULES)
