"""The one-way import rule of docs/architecture.md, checked on every module's imports.

elements <- featurizer <- datasets, model_selection; nets <- estimators <- benchmark <- cli.
Imports inside functions count too: a lazy import is still a dependency. Within a layer,
no two modules may import each other, directly or through others.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "skmatnet"

#: Module (or package prefix) -> layer. The most specific prefix wins.
LAYERS = {
    "skmatnet._registry": "base",
    "skmatnet.elements": "base",
    "skmatnet._io": "base",
    "skmatnet.exceptions": "base",
    "skmatnet._validation": "base",
    "skmatnet._dask": "base",
    "skmatnet.featurizer": "featurizer",
    "skmatnet.featurizer._parser": "featurizer",
    "skmatnet.featurizer._fast": "featurizer",
    "skmatnet.featurizer._transform": "featurizer",
    "skmatnet.datasets": "data",
    "skmatnet.datasets._errors": "data",
    "skmatnet.datasets._catalog": "data",
    "skmatnet.datasets._files": "data",
    "skmatnet.datasets._loading": "data",
    "skmatnet.model_selection": "data",
    "skmatnet.nets": "nets",
    "skmatnet.estimators": "estimators",
    "skmatnet.classifiers": "estimators",
    "skmatnet._base": "estimators",
    "skmatnet._training": "estimators",
    "skmatnet._recipes": "estimators",
    "skmatnet._recipe_names": "estimators",
    "skmatnet._adaptive": "estimators",
    "skmatnet._device": "estimators",
    "skmatnet._fast_path": "estimators",
    "skmatnet._estimator_docs": "estimators",
    "skmatnet._pretrained": "estimators",
    "skmatnet._factory": "estimators",
    "skmatnet._networks": "estimators",
    "skmatnet._persistence": "estimators",
    "skmatnet._persistence.layout": "estimators",
    "skmatnet._persistence.card": "estimators",
    "skmatnet.ensemble": "estimators",
    "skmatnet.metrics": "estimators",
    "skmatnet.callbacks": "estimators",
    "skmatnet.callbacks.progress": "estimators",
    "skmatnet.persistence": "estimators",
    "skmatnet.pretrained": "estimators",
    "skmatnet.pretrained._zoo": "estimators",
    "skmatnet.benchmark": "applications",
    "skmatnet.benchmark.fitting": "applications",
    "skmatnet.benchmark._recorder": "applications",
    "skmatnet.benchmark._serial_runner": "applications",
    "skmatnet.benchmark.tables": "applications",
    "skmatnet.benchmark.charts": "applications",
    "skmatnet.benchmark.environment": "applications",
    "skmatnet.benchmark._trials": "applications",
    "skmatnet.benchmark._proposals": "applications",
    "skmatnet.screening": "applications",
    "skmatnet.screening.space": "applications",
    "skmatnet.screening.predict": "applications",
    "skmatnet.screening.select": "applications",
    "skmatnet.screening.writers": "applications",
    "skmatnet.screening._dask": "applications",
    "skmatnet.screening.hull": "applications",
    "skmatnet.screening.acquisition": "applications",
    "skmatnet.cli": "cli",
    "skmatnet.cli._common": "cli",
    "skmatnet.cli._options": "cli",
    "skmatnet.cli.benchmark": "cli",
    "skmatnet.cli.train": "cli",
    "skmatnet.cli.predict": "cli",
    "skmatnet.cli.screen": "cli",
    "skmatnet.cli.suggest": "cli",
    "skmatnet.cli.info": "cli",
    "skmatnet.cli.models": "cli",
    "skmatnet.__main__": "cli",
}
#: Layer -> the layers it may import from.
ALLOWED = {
    "base": {"base"},
    "featurizer": {"base", "featurizer"},
    "data": {"base", "featurizer", "data"},
    "nets": {"base", "nets"},
    "estimators": {"base", "featurizer", "nets", "estimators"},
    "applications": {"base", "featurizer", "data", "nets", "estimators", "applications"},
    "cli": {"base", "featurizer", "data", "nets", "estimators", "applications", "cli"},
}


def layer(module: str) -> str:
    matches = [prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")]
    if not matches:
        raise AssertionError(f"{module} has no layer in tests/test_architecture.py: add it "
                             "(and to docs/architecture.md)")
    return LAYERS[max(matches, key=len)]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every skmatnet module ``path`` imports, at top level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            # "from . import nets" imports the submodule nets (the package only where it
            # also imports a name defined there)
            submodules = {f"{target}.{alias.name}" for alias in node.names
                          if (PACKAGE.parent / f"{target}.{alias.name}".replace(".", "/")).exists()
                          or (PACKAGE.parent / (f"{target}.{alias.name}".replace(".", "/")
                                                + ".py")).exists()}
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(target)
    # the package itself is imported by every submodule anyway; it only re-exports
    return {m for m in found if m.startswith("skmatnet.")}


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_flow_one_way(path):
    name = module_name(path)
    if name == "skmatnet":
        return  # the package's lazy exports
    own = layer(name)
    wrong = {m: layer(m) for m in imported_modules(path) if layer(m) not in ALLOWED[own]}
    assert not wrong, f"{name} ({own}) imports against the rule: {wrong}"


def test_the_rule_catches_a_wrong_import(tmp_path, monkeypatch):
    # the check itself must be able to fail: a featurizer importing the estimators
    assert "estimators" not in ALLOWED[layer("skmatnet.featurizer")]
    assert layer("skmatnet.callbacks.guards") == "estimators"
    assert imported_modules(PACKAGE / "estimators.py") >= {"skmatnet.nets", "skmatnet._base"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_class_outgrows_one_concern(path):
    # a class past ~300 lines is doing several jobs: split it (hooks, mixins, callbacks)
    long = {node.name: node.end_lineno - node.lineno + 1
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 300}
    assert not long, f"{module_name(path)}: {long}"


def import_graph() -> dict[str, set[str]]:
    """Module -> the skmatnet modules it imports (at top level or inside functions)."""
    graph = {module_name(path): imported_modules(path) for path in MODULES}
    return {name: {m for m in targets if m in graph and m != name}
            for name, targets in graph.items()}


def import_circles(graph: dict[str, set[str]]) -> set[frozenset]:
    """The sets of modules that import each other, directly or through others
    (the strongly connected components of more than one module, by Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_import_circles():
    circles = [sorted(c) for c in import_circles(import_graph())]
    assert not circles, f"modules that import each other (lazy imports count): {circles}"


def test_the_circle_check_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert import_circles(graph) == {frozenset("abc")}
    assert import_circles({"a": {"b"}, "b": set()}) == set()
