"""Shape checks for bot/: no import cycle between its modules, and no function too tangled to read.

import-linter (`lint-imports`) keeps the packages on one-way floors, but it cannot see a cycle
between two modules of one package, nor an import hidden inside a function or under
TYPE_CHECKING. These tests read the source with `ast`, so every import statement counts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from radon.complexity import cc_visit
from radon.visitors import Class, Function

BOT = Path(__file__).resolve().parent.parent / "bot"
MAX_COMPLEXITY = 15


def _module_name(path: Path) -> str:
    """Dotted name of a file under bot/, so edges can be matched against the modules that exist."""
    parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    """Every module of bot/ by dotted name."""
    return {_module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def _absolute_base(node: ast.ImportFrom, package: str) -> str:
    """The module a `from … import` reads from, with relative dots resolved against `package`."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The bot/ modules that `name` imports anywhere in its body (functions and TYPE_CHECKING included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute_base(node, package)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in modules:
                    found.add(target)
                elif base in modules:
                    found.add(base)
    found.discard(name)
    return set(found)


def import_graph() -> dict[str, set[str]]:
    """Module → modules it imports, over all of bot/."""
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path that ends where it starts, or None; iterative so deep graphs are fine."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path: list[str] = [start]
        on_path: set[str] = {start}
        stack: list[Iterator[str]] = [iter(sorted(graph[start]))]
        while stack:
            target = next(stack[-1], None)
            if target is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif target in on_path:
                return [*path[path.index(target) :], target]
            elif target not in done:
                path.append(target)
                on_path.add(target)
                stack.append(iter(sorted(graph.get(target, ()))))
    return None


def test_find_cycle_sees_a_cycle() -> None:
    """The checker itself must be able to fail, or a green run below means nothing."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_graph_counts_imports_inside_functions_and_relative_ones() -> None:
    """Lazy and relative imports are the usual hiding places for a cycle."""
    graph = import_graph()
    assert "bot.matching.problem" in graph["bot.matching.reasons"]
    assert graph["bot.kernel.events"] <= {name for name in graph if name.startswith("bot.kernel")}


def test_bot_has_no_import_cycle() -> None:
    """A cycle makes import order matter and hides which module really owns what."""
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in bot/: " + " -> ".join(cycle or [])


def _functions(blocks: list[Function | Class]) -> Iterator[Function]:
    """Every function radon found; its list already holds methods, nested functions sit in `closures`."""
    for block in blocks:
        if isinstance(block, Function):
            yield block
            yield from _functions(list(block.closures))


def test_no_function_in_bot_is_too_complex() -> None:
    """Past this complexity a function has more paths than its tests can cover; split it instead."""
    too_complex = [
        f"{path.relative_to(BOT.parent)}:{block.lineno} {block.fullname} ({block.complexity})"
        for path in sorted(BOT.rglob("*.py"))
        for block in _functions(cc_visit(path.read_text(encoding="utf-8")))
        if block.complexity > MAX_COMPLEXITY
    ]
    assert not too_complex, "split these functions:\n" + "\n".join(too_complex)
