"""Packages without loops: every module imports on its own, and the import graph has no cycle.

The graph is read from the source with :mod:`ast`, lazy imports inside
functions included (they are still a dependency, only a later one), imports
under ``if TYPE_CHECKING:`` left out (they never run).  Three views:

* the top-level packages (``blocks_tui.cache``, ``blocks_tui.extract``, ...): no cycle at all;
* modules, counting only what runs at import time: no cycle, since such a
  cycle breaks or not depending on which module is imported first;
* modules, lazy imports included: no cycle but the ones listed in
  :data:`KNOWN_CYCLES`, which may only shrink.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "blocks_tui"

KNOWN_CYCLES: set[frozenset[str]] = set()  # cycles through imports inside functions that are accepted: none

Graph = dict[str, set[str]]


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``)."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, at_import_time: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run: all of them, or only those that run when the module loads."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                stack.extend(child.orelse)  # the else branch runs
                continue
            if at_import_time and isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child
            stack.append(child)


def _targets(node: ast.Import | ast.ImportFrom, name: str, is_package: bool, modules: Iterable[str]) -> set[str]:
    """The package's own modules that one import statement loads."""
    known = set(modules)
    if isinstance(node, ast.Import):
        wanted = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            anchor = name.split(".") if is_package else name.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        wanted = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    return {target for target in wanted if target in known and target != name}


def import_graph(at_import_time: bool = False) -> Graph:
    modules = _modules()
    graph: Graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        graph[name] = set()
        for node in _imports(tree, at_import_time):
            graph[name] |= _targets(node, name, is_package, modules)
    return graph


def package_graph(graph: Graph, depth: int = 2) -> Graph:
    """The graph between the packages and modules ``depth`` names deep: at 2 the top-level ones
    (``blocks_tui.cache``, ``blocks_tui.cli``), the layers; at 3 also their sub-packages
    (``blocks_tui.tui.widgets``, ``blocks_tui.tui.screens``).  The root package itself holds only
    ``__version__``, so it is left out."""
    top = {name: ".".join(name.split(".")[:depth]) for name in graph}
    collapsed: Graph = {t: set() for t in top.values() if t != PACKAGE}
    for name, targets in graph.items():
        for target in targets:
            a, b = top[name], top[target]
            if a != b and PACKAGE not in (a, b):
                collapsed[a].add(b)
    return collapsed


def cycles(graph: Graph) -> list[frozenset[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _path(graph: Graph, component: frozenset[str]) -> str:
    """One loop through ``component``, for the failure message."""
    start = min(component)
    seen, path, node = {start}, [start], start
    while True:
        node = min(t for t in graph[node] if t in component)
        path.append(node)
        if node in seen:
            return " -> ".join(path[path.index(node):])
        seen.add(node)


def test_the_graph_reader_sees_lazy_relative_and_type_checking_imports() -> None:
    graph = import_graph()
    assert "blocks_tui.cache.reader" in graph["blocks_tui.cache"]  # from .reader import ...
    assert "blocks_tui.synthetic.demo_data" in graph["blocks_tui.extract.command"]  # lazy, inside a function
    assert "blocks_tui.synthetic.demo_data" not in import_graph(at_import_time=True)["blocks_tui.extract.command"]
    assert "blocks_tui.tui.app" not in graph["blocks_tui.tui.commands"]  # only under TYPE_CHECKING
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]


def test_packages_have_no_import_cycle() -> None:
    graph = package_graph(import_graph())
    found = cycles(graph)
    assert not found, "package import cycles:\n" + "\n".join(_path(graph, c) for c in found)


def test_sub_packages_have_no_import_cycle() -> None:
    """One level down too: widgets never import screens (a dialog a widget needs is handed to it)."""
    graph = package_graph(import_graph(), depth=3)
    found = cycles(graph)
    assert not found, "sub-package import cycles:\n" + "\n".join(_path(graph, c) for c in found)


def test_modules_have_no_import_time_cycle() -> None:
    graph = import_graph(at_import_time=True)
    found = cycles(graph)
    assert not found, "import-time cycles:\n" + "\n".join(_path(graph, c) for c in found)


def test_modules_have_no_cycle_through_lazy_imports_but_the_known_ones() -> None:
    graph = import_graph()
    found = set(cycles(graph))
    new = found - KNOWN_CYCLES
    assert not new, "import cycles (lazy imports included):\n" + "\n".join(_path(graph, c) for c in new)


ISOLATED_IMPORTS = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "blocks_tui" or m.startswith("blocks_tui.")]:
        del sys.modules[loaded]  # each module first, as if nothing of ours had been imported
    try:
        importlib.import_module(name)
    except BaseException:
        failed.append(name + ":\\n" + traceback.format_exc(limit=-3))
print("\\n".join(failed))
"""


@pytest.mark.parametrize("part", [0, 1])
def test_every_module_imports_on_its_own(part: int) -> None:
    """Each module, imported first in a fresh interpreter (ours cleared before each, third-party
    libraries kept loaded so the run stays fast), loads without another one having gone before."""
    names = sorted(name for name in _modules() if not name.endswith("__main__"))[part::2]
    done = subprocess.run([sys.executable, "-c", ISOLATED_IMPORTS, *names], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", done.stdout
