"""The package's layers, checked on every module's imports: those at the top
of a module, inside functions and under ``TYPE_CHECKING`` alike.

The request path goes one way (DESIGN.md): the server routes to an
interface, the interface reads the request into calls of the service model,
the server runs them (the methods, or the task backends). So the model and
the types know nothing of protocols, servers, tasks or authenticators; interfaces know
nothing of the server; tasks run services without the server (a worker has
no server); clients share only the wire formats. And no import cycles.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ladon"

#: layer -> the layers it must never import (directly or inside functions)
FORBIDDEN: dict[str, set[str]] = {
    "exceptions": {
        "types",
        "ladonizer",
        "wire",
        "interfaces",
        "server",
        "tasks",
        "clients",
        "auth",
    },
    "types": {"ladonizer", "wire", "interfaces", "server", "tasks", "clients", "auth"},
    "ladonizer": {"wire", "interfaces", "server", "tasks", "clients", "auth"},
    "wire": {"ladonizer", "interfaces", "server", "tasks", "clients", "auth"},
    "interfaces": {"server", "tasks", "clients", "auth"},
    "tasks": {"interfaces", "server", "clients", "auth"},
    "clients": {"interfaces", "server", "tasks", "ladonizer", "auth"},
    # authenticators read requests and know principals and wire formats;
    # the server runs them (a step), tasks never need them
    "auth": {"interfaces", "server", "tasks", "clients"},
    # request ids, logs, metrics and spans: shared by the server and the
    # task layer (which imports it), so it knows neither
    "observe": {
        "types",
        "ladonizer",
        "wire",
        "interfaces",
        "server",
        "tasks",
        "clients",
        "auth",
    },
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path, top_level_only: bool) -> Iterator[str]:
    """The ``ladon`` modules ``module`` imports (``from x import y`` gives
    ``x.y`` when that is a module, else ``x``)."""
    known = _modules()
    tree = ast.parse(path.read_text(), str(path))
    nodes: list[ast.AST]
    if top_level_only:
        nodes = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    else:
        nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ladon"):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path.name == "__init__.py", node)
            if not target.startswith("ladon"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield sub if sub in known else target


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@functools.cache
def _edges() -> tuple[tuple[str, str], ...]:
    """Every import of every module (read once for all the tests)."""
    found = []
    for module, path in _modules().items():
        for target in _imports(module, path, top_level_only=False):
            found.append((module, target))
    return tuple(found)


def test_the_walk_sees_imports_inside_functions_and_type_checking_blocks() -> None:
    edges = set(_edges())
    # a function-level import and a TYPE_CHECKING one, both known to exist
    assert ("ladon.cli", "ladon.server.wsgi") in edges
    assert ("ladon.interfaces.base", "ladon.types.attachment") in edges
    # the task layer reaches the metrics and spans through ladon.observe
    assert ("ladon.tasks.execution", "ladon.observe.tracing") in edges
    assert len(edges) > 200


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_what_the_layering_forbids(layer: str) -> None:
    bad = sorted(
        f"{src} -> {dst}"
        for src, dst in _edges()
        if _layer(src) == layer and _layer(dst) in FORBIDDEN[layer]
    )
    assert not bad, f"{layer} must not import {sorted(FORBIDDEN[layer])}:\n" + "\n".join(bad)


def test_there_are_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for module, path in _modules().items():
        targets = set(_imports(module, path, top_level_only=True)) - {module}
        # importing ``a.b.c`` runs ``a`` and ``a.b`` first: not a cycle of ours
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    cycles = _strongly_connected(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out
