"""The layout's directions (README, docs/architecture.md), read from the code's own imports:
registry never imports lookup, core imports nothing above it, and no module imports itself
through others."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("registry", "lookup")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Every project module this file imports, at the top or inside a function; not the imports
    for the type checker alone (`if TYPE_CHECKING:`), which never run."""
    tree = ast.parse(path.read_text(), str(path))
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        for statement in node.body
        for inner in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from registry.core import db` imports the module db; `from registry.core.db import
            # Base` imports from the module registry.core.db
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known else node.module
                for alias in node.names
            ]
        for name in names:
            # the longest known module the name is, or lies in ('registry.core.db.db' -> registry.core.db)
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        # a package's __init__ is imported with any of its modules: not an arrow of its own
        graph[name] = {target for target in _imports(path, known) if target != name}
    return graph


def test_registry_never_imports_lookup() -> None:
    wrong = {
        (name, target)
        for name, targets in _graph().items()
        if name.startswith("registry")
        for target in targets
        if target.startswith("lookup")
    }
    assert wrong == set()


def test_core_imports_nothing_above_it() -> None:
    wrong = {
        (name, target)
        for name, targets in _graph().items()
        if name.startswith("registry.core")
        for target in targets
        if target not in ("registry", "registry.core") and not target.startswith("registry.core.")
    }
    assert wrong == set()


def test_no_module_imports_itself_through_others() -> None:
    graph = _graph()
    packages = {name for name, path in _modules().items() if path.name == "__init__.py"}

    def arrows(name: str) -> set[str]:
        # importing a module runs its packages' __init__ too, but those arrows are not the module's
        return {target for target in graph[name] if target not in packages or graph[target]}

    cycles = []
    for start in graph:
        stack, seen = [(start, [start])], set()
        while stack:
            name, path = stack.pop()
            for target in arrows(name):
                if target == start:
                    cycles.append(path)
                elif target not in seen:
                    seen.add(target)
                    stack.append((target, [*path, target]))
    assert cycles == []
