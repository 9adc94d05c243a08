"""The package's imports form a chain: no module-level import cycle, and no import hidden in a function.

The graph is read from the source with ``ast`` (nothing is imported): an edge A -> B for every
``import``/``from ... import`` of a tritongrad module at A's module level (conditional ones
included), where ``from package import name`` points at the submodule ``package.name`` when there
is one and at the package otherwise. docs/architecture.md draws the chain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = {"tritongrad": ROOT / "tritongrad", "tritongrad.kernels": ROOT / "kernels"}

# Imports of tritongrad modules that must stay inside a function, each with the reason.
FUNCTION_LEVEL_ALLOWED: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, Path]:
    modules = {}
    for package, folder in PACKAGE_DIRS.items():
        for path in folder.rglob("*.py"):
            if package == "tritongrad" and ROOT / "kernels" in path.parents:
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = path
    return modules


MODULES = _modules()


def _imports(module: str, path: Path) -> tuple[set[str], list[tuple[int, str]]]:
    """(modules imported at module level, [(line, module)] imported inside functions)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    top, nested = set(), []

    def targets(node) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = module.split(".") if is_package else module.split(".")[:-1]
        if node.level:
            base = base[: len(base) - (node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        return [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in targets(child):
                    if target in MODULES:
                        (nested.append((child.lineno, target)) if inside else top.add(target))
            visit(child, inside)

    visit(tree, False)
    return top, nested


GRAPH = {}
NESTED = {}
for _module, _path in MODULES.items():
    GRAPH[_module], NESTED[_module] = _imports(_module, _path)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, components, counter = {}, {}, set(), [], [], [0]
    for root in GRAPH:
        if root in index:
            continue
        work = [(root, iter(sorted(GRAPH[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(GRAPH[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_the_graph_is_read():
    assert len(MODULES) > 50, sorted(MODULES)
    assert "tritongrad.tensor" in GRAPH["tritongrad.ops.views"]
    assert "tritongrad.kernels.elementwise" in GRAPH["tritongrad.ops.table"]


def test_no_module_level_import_cycle():
    cycles = _cycles()
    assert not cycles, "module-level import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_detector_finds_a_cycle():
    GRAPH["tritongrad.tensor"].add("tritongrad.ops.views")
    try:
        assert any("tritongrad.tensor" in c and "tritongrad.ops.views" in c for c in _cycles())
    finally:
        GRAPH["tritongrad.tensor"].discard("tritongrad.ops.views")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_inside_a_function(module):
    hidden = [(line, target) for line, target in NESTED[module] if (module, target) not in FUNCTION_LEVEL_ALLOWED]
    assert not hidden, f"{MODULES[module]}: tritongrad imports inside functions (hoist them, or allow one " \
        f"with its reason): {hidden}"  # fmt: skip


def test_tensor_sits_below_autograd_and_ops():
    """The layering of docs/architecture.md: the Tensor core imports neither autograd nor ops."""
    assert not {m for m in GRAPH["tritongrad.tensor"] if m.startswith(("tritongrad.autograd", "tritongrad.ops"))}
    for module in MODULES:
        if module.startswith("tritongrad.kernels"):
            upward = {m for m in GRAPH[module] if m.startswith("tritongrad") and not m.startswith("tritongrad.kernels")}
            assert upward <= {"tritongrad.runtime"}, f"{module} imports {upward}"
