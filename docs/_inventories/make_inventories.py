"""Write the offline cross-reference inventories of docs/_inventories from installed packages.

Sphinx's intersphinx links names such as ``sklearn.pipeline.Pipeline`` to other projects'
sites through their ``objects.inv``. Where the build has no internet (CI reaches only the
package registries) it falls back to the files written here: each lists the public
classes, functions and methods of one project, found by importing it, at the address its
site's API pages use (for example ``modules/generated/<name>.html#<name>`` for
scikit-learn). Online builds use the real inventories instead.

Run from the repository root after changing the versions these packages are documented
at: ``python docs/_inventories/make_inventories.py``.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import zlib
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
Entry = tuple[str, str, str]  # (name, domain:role, address)


def _role(obj) -> str | None:
    if inspect.isclass(obj):
        return "py:exception" if issubclass(obj, BaseException) else "py:class"
    if callable(obj):
        return "py:function"
    return None


def _public(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if not n.startswith("_"))


def _members(module_name: str, every_name: bool = False) -> Iterator[tuple[str, object]]:
    """Public members: those of ``__all__`` if the module has one and not ``every_name``."""
    module = importlib.import_module(module_name)
    names = dir(module) if every_name else getattr(module, "__all__", None) or dir(module)
    for name in _public(names):
        try:
            obj = getattr(module, name, None)
        except ImportError:  # e.g. sklearn's experimental estimators, loaded on request
            continue
        if obj is not None and not inspect.ismodule(obj):
            yield name, obj


def _defined_in(obj, module: str) -> bool:
    """Whether ``obj`` belongs to ``module`` (or a private module under it), not imported."""
    origin = getattr(obj, "__module__", "") or ""
    return origin == module or origin.startswith(module + "._") or origin.startswith(module + ".")


def _methods(cls) -> list[str]:
    return _public(n for n, v in vars(cls).items()
                   if callable(v) or isinstance(v, (property, classmethod, staticmethod)))


def _with_methods(name: str, obj, page: Callable[[str], str],
                  own_pages: bool = False) -> Iterator[Entry]:
    """The object on ``page(name)``, and for a class its own public methods: anchors of the
    class's page, or with ``own_pages`` a page each (numpy, pandas and matplotlib do that)."""
    role = _role(obj)
    if role is None:
        return
    yield name, role, page(name)
    if inspect.isclass(obj):
        base = page(name).split("#")[0]
        for method in _methods(obj):
            qualified = f"{name}.{method}"
            yield (qualified, "py:method",
                   page(qualified) if own_pages else f"{base}#{qualified}")


def sklearn() -> Iterator[Entry]:
    import sklearn as package

    def page(name):
        return f"modules/generated/{name}.html#{name}"

    for name in ("clone", "config_context", "get_config", "set_config"):
        yield f"sklearn.{name}", "py:function", page(f"sklearn.{name}")
    for sub in _public([*package.__all__, "base", "utils"]):
        module = f"sklearn.{sub}"
        try:
            members = list(_members(module))
        except ImportError:
            continue
        yield module, "py:module", f"api/{module}.html#module-{module}"
        for name, obj in members:
            if _defined_in(obj, module) or (sub == "base" and _defined_in(obj, "sklearn")):
                yield from _with_methods(f"{module}.{name}", obj, page)
    for term in ("array-like", "estimator", "random_state", "n_jobs", "pipeline",
                 "cross-validation splitter", "metadata routing", "warm_start"):
        yield term, "std:term", f"glossary.html#term-{term.replace(' ', '-')}"
    yield "metadata_routing", "std:label", "metadata_routing.html#metadata-routing"


def numpy() -> Iterator[Entry]:
    import numpy as np

    def page(name):
        return f"reference/generated/{name}.html#{name}"

    for name, obj in _members("numpy"):
        if callable(obj) and not inspect.isclass(obj):  # functions and ufuncs
            yield f"numpy.{name}", "py:function", page(f"numpy.{name}")
    yield from _with_methods("numpy.ndarray", np.ndarray, page, own_pages=True)
    yield "numpy.dtype", "py:class", page("numpy.dtype")
    for scalar in ("float32", "float64", "int64", "int32", "bool_", "str_"):
        yield f"numpy.{scalar}", "py:class", f"reference/arrays.scalars.html#numpy.{scalar}"
    random = "reference/random/generator.html"
    yield "numpy.random.default_rng", "py:function", f"{random}#numpy.random.default_rng"
    yield "numpy.random.Generator", "py:class", f"{random}#numpy.random.Generator"
    for method in _methods(np.random.Generator):
        name = f"numpy.random.Generator.{method}"
        yield name, "py:method", f"reference/random/generated/{name}.html#{name}"
    yield ("numpy.random.RandomState", "py:class",
           "reference/random/legacy.html#numpy.random.RandomState")
    for term in ("array_like", "array-like", "dtype", "ndarray"):  # numpydoc links these
        yield term, "std:term", f"glossary.html#term-{term}"
    yield "arrays.scalars", "std:label", "reference/arrays.scalars.html#arrays-scalars"


def pandas() -> Iterator[Entry]:
    def page(name):
        return f"reference/api/{name}.html#{name}"

    for name, obj in _members("pandas"):
        if inspect.isclass(obj) and name in ("DataFrame", "Series", "Index", "Categorical"):
            yield from _with_methods(f"pandas.{name}", obj, page, own_pages=True)
        elif inspect.isfunction(obj):
            yield f"pandas.{name}", "py:function", page(f"pandas.{name}")


def torch() -> Iterator[Entry]:
    import torch as package

    def page(name):
        return f"generated/{name}.html#{name}"

    yield from _with_methods("torch.Tensor", package.Tensor, lambda n: f"tensors.html#{n}")
    for name in ("device", "dtype"):
        yield f"torch.{name}", "py:class", f"tensor_attributes.html#torch.{name}"
    for name in ("manual_seed", "no_grad", "inference_mode", "save", "load", "from_numpy",
                 "set_num_threads", "get_num_threads", "compile", "as_tensor", "tensor",
                 "cat", "stack", "zeros", "ones", "randn", "use_deterministic_algorithms"):
        yield f"torch.{name}", "py:function", page(f"torch.{name}")
    yield "torch.cuda.is_available", "py:function", page("torch.cuda.is_available")
    for module in ("torch.nn", "torch.optim", "torch.optim.lr_scheduler"):
        for name, obj in _members(module):
            if inspect.isclass(obj) and obj.__module__.startswith(module):
                yield from _with_methods(f"{module}.{name}", obj, page)
    for name in ("Dataset", "DataLoader", "TensorDataset", "Sampler"):
        yield f"torch.utils.data.{name}", "py:class", f"data.html#torch.utils.data.{name}"


def skorch() -> Iterator[Entry]:
    import skorch as package

    for module in ("net", "regressor", "classifier", "dataset", "history", "helper", "utils",
                   "callbacks"):
        qualified = f"skorch.{module}"
        for name, obj in _members(qualified):
            origin = getattr(obj, "__module__", "")
            if not origin.startswith(qualified):
                continue
            yield from _with_methods(f"{qualified}.{name}", obj,
                                     lambda n, m=module: f"{m}.html#{n}")
    # The top-level names the skorch documentation also resolves.
    for name, module in (("NeuralNet", "net"), ("NeuralNetRegressor", "regressor"),
                         ("NeuralNetClassifier", "classifier")):
        assert hasattr(package, name)
        yield f"skorch.{name}", "py:class", f"{module}.html#skorch.{module}.{name}"


def python() -> Iterator[Entry]:
    for name in _public(dir(builtins)):
        obj = getattr(builtins, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            yield name, "py:exception", f"library/exceptions.html#{name}"
        elif inspect.isclass(obj):
            yield name, "py:class", f"library/functions.html#{name}"
        elif callable(obj):
            yield name, "py:function", f"library/functions.html#{name}"
    for term in ("sequence", "iterable", "mapping", "path-like object", "file-like object",
                 "callable", "generator", "context manager"):  # numpydoc links these
        yield term, "std:term", f"glossary.html#term-{term.replace(' ', '-')}"
    yield "bltin-boolean-values", "std:label", "library/stdtypes.html#boolean-values"
    for name in ("None", "True", "False", "NotImplemented", "Ellipsis"):
        yield name, "py:data", f"library/constants.html#{name}"
    for module in ("pathlib", "os", "collections.abc", "typing", "dataclasses", "io", "json",
                   "tempfile", "argparse", "datetime", "time", "pickle", "functools",
                   "itertools", "logging", "subprocess", "warnings", "shutil", "hashlib",
                   "concurrent.futures", "signal", "threading", "multiprocessing", "zlib"):
        yield module, "py:module", f"library/{module}.html#module-{module}"
        for name, obj in _members(module, every_name=True):
            role = _role(obj)
            if role is not None and (_defined_in(obj, module) or module == "os"):
                yield f"{module}.{name}", role, f"library/{module}.html#{module}.{name}"


def matplotlib() -> Iterator[Entry]:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    def page(name):
        return f"api/_as_gen/{name}.html#{name}"

    yield from _with_methods("matplotlib.axes.Axes", Axes, page, own_pages=True)
    yield from _with_methods("matplotlib.figure.Figure", Figure, page, own_pages=True)
    for name, obj in _members("matplotlib.pyplot"):
        if inspect.isfunction(obj):
            yield f"matplotlib.pyplot.{name}", "py:function", page(f"matplotlib.pyplot.{name}")


def joblib() -> Iterator[Entry]:
    for name, obj in _members("joblib"):
        role = _role(obj)
        if role is not None:
            yield f"joblib.{name}", role, f"generated/joblib.{name}.html#joblib.{name}"


def distributed() -> Iterator[Entry]:
    import distributed as package

    for name in ("Client", "LocalCluster", "Future", "Worker", "Nanny", "Scheduler"):
        yield from _with_methods(f"distributed.{name}", getattr(package, name),
                                 lambda n: f"api.html#{n}")
    for name in ("wait", "as_completed", "get_worker", "get_client", "progress"):
        yield f"distributed.{name}", "py:function", f"api.html#distributed.{name}"
    plugin = "distributed.diagnostics.plugin.WorkerPlugin"
    yield plugin, "py:class", f"plugins.html#{plugin}"


#: Titles of the section labels above (numpydoc's default type links use them).
LABEL_TITLES = {"bltin-boolean-values": "Boolean Values", "arrays.scalars": "Scalars"}

#: inventory name -> (project, distribution, entries).
PROJECTS: dict[str, tuple[str, str, Callable[[], Iterator[Entry]]]] = {
    "python": ("Python", "", python),
    "numpy": ("NumPy", "numpy", numpy),
    "pandas": ("pandas", "pandas", pandas),
    "sklearn": ("scikit-learn", "scikit-learn", sklearn),
    "skorch": ("skorch", "skorch", skorch),
    "torch": ("PyTorch", "torch", torch),
    "matplotlib": ("Matplotlib", "matplotlib", matplotlib),
    "joblib": ("joblib", "joblib", joblib),
    "distributed": ("distributed", "distributed", distributed),
}


def write_inventory(path: Path, project: str, release: str, entries: Iterable[Entry]) -> int:
    """Write a Sphinx version-2 inventory; returns the number of entries."""
    seen: dict[tuple[str, str], str] = {}
    for name, role, address in entries:
        seen.setdefault((name, role), address)
    # A label's title is what a bare :ref: shows; other entries show their own name ("-").
    lines = [f"{name} {role} {-1 if role == 'std:label' else 1} {address} "
             f"{LABEL_TITLES.get(name, '-') if role == 'std:label' else '-'}"
             for (name, role), address in sorted(seen.items())]
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {release}\n"
              "# The remainder of this file is compressed using zlib.\n")
    body = zlib.compress(("\n".join(lines) + "\n").encode(), 9)
    path.write_bytes(header.encode() + body)
    return len(lines)


def main() -> None:
    import platform

    for name, (project, distribution, entries) in PROJECTS.items():
        release = version(distribution) if distribution else platform.python_version()
        count = write_inventory(HERE / f"{name}.inv", project, release, entries())
        print(f"{name:12} {project} {release}: {count:,} entries")


if __name__ == "__main__":
    main()
