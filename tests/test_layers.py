"""The library's import graph: no circle, and no module imports one of a layer above its own.

The layers, lowest first, say what may build on what: the runtime that every mode shares (``sampling``)
knows no mode, policy mode knows nothing of selection, and the light base (exceptions, stop signals,
settings, atomic writes) imports nothing of the project but itself. Every project import counts, those
inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LAYERS = [
    {"errors", "launcher", "atomic", "settings", "provenance", "seeds", "runtime"},
    {"envs"},
    {"nets"},
    {"ps"},
    {"sampling", "evaluation", "play", "resolution"},
    {"policy"},
    {"params", "zenodo"},
    {"selection"},
    {"analysis", "splits", "robustness", "report", "headline"},
    {"verdicts", "figures", "trajectories"},
    {"sweep"},
    {"cli", "__main__"},
]
"""Top-level modules and packages of ``scinet``, by layer; a module may import its own layer and below."""


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted((ROOT / "scinet").rglob("*.py")):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            found |= {name for name in names if name.split(".")[0] == "scinet"}
        graph[_module(path)] = found
    modules = set(graph)
    return {m: {i for i in imported if i in modules and i != m} for m, imported in graph.items()}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "scinet"
    if top == "scinet":
        return 0
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


def test_every_module_has_a_layer() -> None:
    for module in _imports():
        assert isinstance(_layer(module), int), module


def test_no_module_imports_one_above_its_layer() -> None:
    upward = [
        f"{module} -> {imported}"
        for module, imported_set in _imports().items()
        for imported in imported_set
        if _layer(imported) > _layer(module)
    ]
    assert not upward


def test_the_import_graph_has_no_circle() -> None:
    graph = {m: {i for i in imports if i != "scinet"} for m, imports in _imports().items()}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import circle: " + " -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
