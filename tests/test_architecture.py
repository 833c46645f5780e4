"""The layers are honest: every import of the project's own code points down.

    studio  (settings, urls, home, demo data: on top, imports every app)
      └─ shipping ─► orders ─► inventory ─► core  (core imports no app)

The test reads every module's source (``ast``, not ``import``), so an import inside a function
counts as much as one at the top, and fails naming the module and the wrong arrow.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("core", "inventory", "orders", "shipping", "studio")
# What each package may import of the project (besides itself).
MAY_IMPORT = {
    "core": set(),
    "inventory": {"core"},
    "orders": {"core", "inventory"},
    "shipping": {"core", "inventory", "orders"},
    "studio": {"core", "inventory", "orders", "shipping"},
}


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(tree: ast.AST):
    """(line, module, inside a function's name or None) of every import in a module."""
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            if isinstance(child, ast.Import):
                found.extend((child.lineno, alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.lineno, child.module, function))
            visit(child, inner)

    visit(tree, None)
    return found


def project_package(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in PROJECT else None


@pytest.mark.parametrize("package", PROJECT)
def test_each_package_imports_only_the_layers_below_it(package):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path, tree in modules(package)
        for line, module, _function in imported(tree)
        if (target := project_package(module)) not in (None, package)
        and target not in MAY_IMPORT[package]
    ]
    assert wrong == []


@pytest.mark.parametrize("package", ["core", "inventory", "orders", "shipping"])
def test_no_project_import_hides_inside_a_function(package):
    """An import inside a function is how a circle gets dodged. Only an app's ``ready`` may
    import inside a function (Django connects receivers there), and migrations run as data."""
    hidden = [
        f"{path.relative_to(ROOT)}:{line} imports {module} inside {function}()"
        for path, tree in modules(package)
        if "migrations" not in path.parts
        for line, module, function in imported(tree)
        if function not in (None, "ready") and project_package(module)
    ]
    assert hidden == []


def test_shipping_never_locks_an_order_nor_touches_an_allocation():
    """Orders alone owns an order's state and its allocations: shipping asks
    ``orders.lifecycle`` (orders_pick, orders_pack, orders_lock…) and reads through
    ``orders.selectors``."""
    offences = []
    for path, tree in modules("shipping"):
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id == "Allocation":
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} names Allocation")
            if isinstance(node, ast.Attribute) and node.attr == "select_for_update":
                chain = ast.get_source_segment(source, node) or ""
                if "Order." in chain:
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno} locks an Order")
            if isinstance(node, ast.alias) and node.name in {"lock_orders", "move_locked"}:
                offences.append(f"{path.relative_to(ROOT)}: imports orders' own {node.name}")
    assert offences == []


GROUP_NAMES = {
    "ALLOWED_TRANSITIONS",
    "HOLDS_STOCK",
    "ALLOCATABLE",
    "PACKABLE",
    "CANCELLABLE",
    "CLOSED",
    "SOLD",
    "PACKED_OR_LATER",
    "SHIPPED_OR_LATER",
    "ALLOCATED_OR_LATER",
    "BACKLOG",
}


def test_every_status_group_is_defined_once_in_orders_lifecycle():
    definitions = []
    for package in PROJECT:
        for path, tree in modules(package):
            for node in tree.body:  # module level: an enum member named CLOSED is no group
                targets = []
                if isinstance(node, ast.Assign):
                    targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                    targets = [node.target.id]
                definitions += [
                    (str(path.relative_to(ROOT)), name) for name in targets if name in GROUP_NAMES
                ]
    assert sorted(definitions) == sorted(("orders/lifecycle.py", name) for name in GROUP_NAMES)


def test_a_set_of_order_statuses_is_written_only_in_orders_lifecycle():
    """A literal set or tuple of two or more ``OrderStatus`` members outside the lifecycle is a
    status group defined a second time."""
    found = []
    for package in PROJECT:
        for path, tree in modules(package):
            if path.name == "lifecycle.py" and package == "orders":
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Set | ast.Tuple | ast.List):
                    members = [
                        element
                        for element in node.elts
                        if isinstance(element, ast.Attribute)
                        and isinstance(element.value, ast.Name)
                        and element.value.id in {"OrderStatus", "S"}
                    ]
                    if len(members) >= 2:
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_production_code_never_patches_the_clock():
    """History is recorded with the services' ``at=``; ``unittest.mock`` is for tests only."""
    patched = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in PROJECT
        for path, tree in modules(package)
        for line, module, _function in imported(tree)
        if module.startswith("unittest")
    ]
    assert patched == []
