"""The package layout holds: imports point one way, modules and functions stay small."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models", "scheduler")
COMPOSITION_ROOT = ("bot.app", "bot.cli")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()
MODULE_NAMES = set(MODULES)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULE_NAMES
            names.update(submodules or {node.module})
    return {name for name in names if name.split(".")[0] in PACKAGES}


def _layer(module: str) -> str:
    """The node of the package graph a module belongs to; the composition root is its own."""
    if any(module == root or module.startswith(f"{root}.") for root in COMPOSITION_ROOT):
        return "root"
    if module.startswith("bot.channels"):
        return "channels"
    return module.split(".")[0]


IMPORTS = {module: _imports(path) for module, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("models")))
def test_models_import_no_other_package(module: str) -> None:
    assert {name for name in IMPORTS[module] if not name.startswith("models")} == set()


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("handlers")))
def test_handlers_import_no_channel_and_no_job(module: str) -> None:
    assert {n for n in IMPORTS[module] if _layer(n) in ("channels", "scheduler", "root")} == set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_the_composition_root_imports_handlers_and_scheduler(module: str) -> None:
    if _layer(module) in ("root", "handlers", "scheduler"):
        return
    assert {n for n in IMPORTS[module] if n.startswith(("handlers", "scheduler"))} == set()


def test_no_cycles_between_packages() -> None:
    edges: dict[str, set[str]] = {}
    for module, names in IMPORTS.items():
        edges.setdefault(_layer(module), set()).update(
            _layer(name) for name in names if _layer(name) != _layer(module)
        )

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        following = edges.get(start, set()) - seen
        return any(nxt == goal or reaches(nxt, goal, seen | {nxt}) for nxt in following)

    assert [layer for layer in edges if reaches(layer, layer, set())] == []


def test_no_cycles_between_modules() -> None:
    """A cycle hidden behind a function-level import is still a cycle: every import counts."""
    graph = {m: {n for n in names if n in MODULES and n != m} for m, names in IMPORTS.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


# Still over the limits, to be split; the list may only shrink.
OVERSIZE = {
    "bot.channels.wechat_xml": {"parse_xml"},
    "bot.cli.main": {"build_parser"},
    "bot.config": {"<module>"},
    "bot.metrics": {"__init__"},
    "models.events.signups": {"<module>"},
    "models.roster": {"<module>", "import_roster"},
}


def _oversize(source: str) -> set[str]:
    found = {"<module>"} if source.count("\n") > MAX_MODULE_LINES else set()
    for node in ast.walk(ast.parse(source)):
        is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        if is_function and (node.end_lineno or 0) - node.lineno + 1 > MAX_FUNCTION_LINES:
            found.add(node.name)
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_stay_small(module: str) -> None:
    assert _oversize(MODULES[module].read_text(encoding="utf-8")) == OVERSIZE.get(module, set())
