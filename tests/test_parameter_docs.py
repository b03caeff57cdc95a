"""Every public class and function documents exactly the parameters its signature takes.

The public API is discovered, not listed: ``skmatnet.__all__`` (lazy names
included) and the ``__all__`` of every public submodule that
:func:`pkgutil.walk_packages` finds, so a module that moves or a package that
is split is still covered. For each class the constructor's signature is
compared with the ``Parameters`` section of the class docstring, and each
public method that skmatnet's own code defines with its own ``Parameters``
section, both parsed by numpydoc. All mismatches of one object are reported
in one message.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

docscrape = pytest.importorskip("numpydoc.docscrape",
                                reason="numpydoc (a dev extra) parses the docstrings")

import skmatnet  # noqa: E402

PACKAGE = "skmatnet"

#: Modules left out of the discovery, with the reason.
SKIPPED_MODULES = {
    # The command line is documented by its argparse help (checked in test_cli*), and
    # its functions take an argparse namespace, not documented keyword parameters.
    "skmatnet.cli": "the command line is documented by its --help, not by numpydoc",
}

#: Qualified name -> why numpydoc cannot check it. Keep it tiny: today nothing needs it
#: (a dataclass may document its fields under Attributes, see check_parameter_docs).
ALLOWED: dict[str, str] = {}

def _benchmark_options() -> set[str]:
    """What ``run_benchmark(data, **options)`` accepts: ``BenchmarkConfig.create``'s keywords,
    the fields of ``BenchmarkConfig`` and of its ``ModelSettings`` (``create`` rejects others)."""
    from skmatnet.benchmark import BenchmarkConfig

    create = inspect.signature(BenchmarkConfig.create).parameters.values()
    settings = BenchmarkConfig.__dataclass_fields__["settings"].default_factory
    return ({p.name for p in create if p.kind is p.KEYWORD_ONLY}
            | {f.name for f in dataclasses.fields(BenchmarkConfig)} - {"settings"}
            | {f.name for f in dataclasses.fields(settings)})


#: Functions whose ``**kwargs`` are named options passed on, which their docstring lists
#: one by one: function name -> the names the options may have.
KWARGS_TARGETS = {"run_benchmark": _benchmark_options}

#: Sections that document call parameters.
PARAMETER_SECTIONS = ("Parameters", "Other Parameters")

# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------


def _documented(doc, sections) -> set[str]:
    """The names listed in ``sections``: ``a, b : int`` documents ``a`` and ``b``."""
    names = set()
    for section in sections:
        for param in doc[section]:
            names.update(name.strip() for name in param.name.split(",") if name.strip())
    return names


def _own_doc(obj) -> str | None:
    """The docstring written for ``obj`` itself (not inherited, not generated)."""
    doc = obj.__doc__ if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not doc or not doc.strip():
        return None
    if inspect.isclass(obj) and (dataclasses.is_dataclass(obj) or _is_namedtuple(obj)):
        # dataclass and namedtuple write "Name(field, ...)" where the class has no docstring
        if doc.startswith(f"{obj.__name__}(") and "\n" not in doc.strip():
            return None
    return doc


def _has_python_constructor(cls) -> bool:
    """Whether ``__init__`` or ``__new__`` of ``cls`` is written in Python (not a builtin's)."""
    return any(inspect.isfunction(getattr(cls, name)) for name in ("__init__", "__new__"))


def _constructor_is_ours(cls) -> bool:
    """Whether the ``__init__`` (or ``__new__``) that builds ``cls`` is skmatnet's code."""
    for base in cls.__mro__:
        for name in ("__init__", "__new__"):
            if name in vars(base) and inspect.isfunction(inspect.unwrap(_method_function(
                    vars(base)[name])[0] or vars(base)[name])):
                return base.__module__.startswith(PACKAGE) or base.__module__ == cls.__module__
    return False


def _forwarded_names(obj) -> set[str]:
    """Parameters that ``obj`` takes through ``**kwargs`` and passes on, so may document.

    A class passes them to the constructors of its bases (``MatNetRegressor`` to
    ``MatNetBase``); a function named in :data:`KWARGS_TARGETS` to its target.
    """
    names: set[str] = set()
    if inspect.isclass(obj):
        for base in obj.__mro__[1:]:
            init = vars(base).get("__init__")
            if inspect.isfunction(init):
                names.update(p.name for p in inspect.signature(init).parameters.values()
                             if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    elif getattr(obj, "__name__", None) in KWARGS_TARGETS:
        names.update(KWARGS_TARGETS[obj.__name__]())
    return names


def _is_namedtuple(cls) -> bool:
    return issubclass(cls, tuple) and hasattr(cls, "_fields")


def _parse(obj, doc: str):
    if inspect.isclass(obj):
        return docscrape.ClassDoc(obj, doc=doc, config={"show_class_members": False})
    return docscrape.NumpyDocString(inspect.cleandoc(doc))


def _signature_parameters(obj, *, drop_first: bool = False):
    params = list(inspect.signature(obj).parameters.values())
    return params[1:] if drop_first else params


def check_parameter_docs(obj, *, doc: str | None = None, drop_first: bool = False) -> list[str]:
    """The mismatches between ``obj``'s signature and its numpydoc Parameters, as lines.

    ``doc`` defaults to ``obj``'s own docstring; ``drop_first`` drops ``self`` or
    ``cls`` of a method taken from a class. An empty list means they agree.

    Rules: ``*args``, ``**kwargs``, private parameters (``_name``) and the parameters
    of a constructor inherited from another project need no entry, and an entry for them (with
    or without stars) counts only where the signature has them; ``a, b : int``
    documents both names; a routed skorch parameter (``module__depth``, a name
    with ``__``) may be documented where the signature takes ``**kwargs``; the
    fields of a dataclass may be documented under ``Attributes`` instead.
    """
    doc = _own_doc(obj) if doc is None else doc
    if doc is None:
        return ["no docstring"]
    try:
        parsed = _parse(obj, doc)
    except Exception as error:  # any parse failure is the finding
        return [f"numpydoc cannot parse the docstring: {error}"]
    if inspect.isclass(obj) and not _has_python_constructor(obj):
        return []  # a builtin's constructor (an exception's message): nothing of skmatnet's
    try:
        params = _signature_parameters(obj, drop_first=drop_first)
    except (TypeError, ValueError) as error:
        return [f"no signature: {error}"]

    named = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    var_names = {}
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            var_names.update({p.name: p.name, f"*{p.name}": p.name})
        elif p.kind is p.VAR_KEYWORD:
            var_names.update({p.name: p.name, f"**{p.name}": p.name})
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)

    documented = _documented(parsed, PARAMETER_SECTIONS)
    accepted = set(documented)
    if inspect.isclass(obj) and dataclasses.is_dataclass(obj):
        accepted |= _documented(parsed, ("Attributes",))

    missing = [name for name in named if name not in accepted and not name.startswith("_")]
    if inspect.isclass(obj) and not _constructor_is_ours(obj):
        missing = []  # another project's constructor (skorch's EarlyStopping): documented there
    forwarded = _forwarded_names(obj) if takes_kwargs else set()
    absent = sorted(
        name for name in documented
        if name not in named and name not in var_names and name not in forwarded
        and not (takes_kwargs and "__" in name.strip("*"))
    )
    problems = []
    if missing:
        problems.append(f"in the signature but not documented: {', '.join(missing)}")
    if absent:
        problems.append(f"documented but not in the signature: {', '.join(absent)}")
    for name in documented:
        if " " in name or "=" in name:
            problems.append(f"malformed Parameters entry {name!r} (a header line out of place?)")
    return problems


# ---------------------------------------------------------------------------
# Discovery
# ---------------------------------------------------------------------------


def _is_private(module_name: str) -> bool:
    return any(part.startswith("_") for part in module_name.split("."))


def _is_skipped(module_name: str) -> bool:
    return any(module_name == name or module_name.startswith(f"{name}.")
               for name in SKIPPED_MODULES)


def public_module_names() -> list[str]:
    """skmatnet and its public submodules, as :func:`pkgutil.walk_packages` finds them.

    A subpackage that fails to import is still listed (``test_public_module_imports``
    reports it); its own submodules cannot be walked then.
    """
    names = [PACKAGE]
    for info in pkgutil.walk_packages(skmatnet.__path__, f"{PACKAGE}.", onerror=lambda name: None):
        if not _is_private(info.name) and not _is_skipped(info.name):
            names.append(info.name)
    return sorted(set(names))


MODULE_NAMES = public_module_names()


def _missing_optional_dependency(error: ImportError) -> str | None:
    """The missing third-party module behind ``error``, or None when it is skmatnet's own fault."""
    missing = getattr(error, "name", None)
    if isinstance(error, ModuleNotFoundError) and missing and missing.split(".")[0] != PACKAGE:
        return missing
    return None


def import_public_module(name: str) -> ModuleType | None:
    """The module, or None when an optional dependency it needs is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        if _missing_optional_dependency(error):
            return None
        raise


def _public_objects() -> dict[str, object]:
    """Qualified name -> each public class and function defined by skmatnet, once."""
    found: dict[str, object] = {}
    for module_name in MODULE_NAMES:
        try:
            module = import_public_module(module_name)
        except Exception:  # test_public_module_imports reports it
            continue
        if module is None:
            continue
        for name in getattr(module, "__all__", ()):
            try:
                obj = getattr(module, name)
            except ImportError as error:  # a lazy name behind a missing optional extra
                if _missing_optional_dependency(error):
                    continue
                raise
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants
            if not getattr(obj, "__module__", "").startswith(PACKAGE):
                continue  # a re-export of another project's object
            found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return dict(sorted(found.items()))


def _method_function(attr):
    """The function behind a class attribute, and whether it is called without ``self``."""
    if isinstance(attr, staticmethod):
        return attr.__func__, False
    if isinstance(attr, classmethod):
        return attr.__func__, True
    if inspect.isfunction(attr):
        return attr, True
    return None, False


def _bases_after(cls, klass):
    """The classes after ``klass`` in the MRO of ``cls`` (a mixin's bases are the estimator's)."""
    mro = cls.__mro__
    return mro[mro.index(klass) + 1:]


def _inherited_doc(cls, klass, name):
    """The docstring of the nearest base method ``name`` that has one, and whether that
    base is skmatnet's; None where none has."""
    for base in _bases_after(cls, klass):
        func, _ = _method_function(vars(base).get(name))
        if func is not None and (func.__doc__ or "").strip():
            return func.__doc__, base.__module__.startswith(PACKAGE)
    return None


def _named_parameters(func) -> set[str]:
    return {p.name for p in inspect.signature(func).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def _framework_parameters(cls, klass, name) -> set[str]:
    names = set()
    for base in _bases_after(cls, klass):
        func, _ = _method_function(vars(base).get(name))
        if func is not None and not base.__module__.startswith(PACKAGE):
            names |= _named_parameters(func)
    return names


def _public_methods(classes) -> dict[str, tuple]:
    """Qualified name -> (function, drop_first, docstring) of each public method skmatnet's
    code defines.

    Methods of every skmatnet class in the MRO count (a mixin's ``fit`` is public
    through the estimators). A method without a docstring of its own has the one
    it inherits, as :func:`help` shows it: a skmatnet base's is checked against
    the override's signature. An override of a framework method (skorch's
    ``get_iterator``, a callback's ``on_epoch_end``) that takes no parameter the
    framework's method lacks implements that documented API and is left out;
    given a docstring of its own, or a new parameter, it is checked.
    """
    found: dict[str, tuple] = {}
    for cls in classes:
        for klass in cls.__mro__:
            if not klass.__module__.startswith(PACKAGE):
                continue
            for name, attr in vars(klass).items():
                if name.startswith("_"):
                    continue
                func, drop_first = _method_function(attr)
                if func is None or not func.__module__.startswith(PACKAGE):
                    continue
                doc = func.__doc__ if (func.__doc__ or "").strip() else None
                if doc is None:
                    framework = _framework_parameters(cls, klass, name)
                    if framework and _named_parameters(func) <= framework:
                        continue
                    inherited = _inherited_doc(cls, klass, name)
                    if inherited and inherited[1]:
                        doc = inherited[0]
                found.setdefault(f"{func.__module__}.{func.__qualname__}",
                                 (func, drop_first, doc))
    return dict(sorted(found.items()))


PUBLIC_OBJECTS = _public_objects()
PUBLIC_METHODS = _public_methods(obj for obj in PUBLIC_OBJECTS.values() if inspect.isclass(obj))


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("module_name", MODULE_NAMES)
def test_public_module_imports(module_name):
    try:
        module = import_public_module(module_name)
    except ImportError as error:
        pytest.fail(f"{module_name} fails to import: {error!r}")
    if module is None:
        try:
            importlib.import_module(module_name)
        except ImportError as error:
            pytest.skip(f"{module_name} needs an optional dependency that is not installed: "
                        f"{error.name}")


def test_discovery_finds_the_public_api():
    # Whatever moves where, these stay public: the check must see them.
    names = {obj.__name__ for obj in PUBLIC_OBJECTS.values()}
    assert {"BRNetRegressor", "ElementFractionTransformer", "load_dataset",
            "ElementCountStratifiedKFold", "MatNetEnsembleRegressor", "save_model"} <= names
    methods = {name.rpartition(".")[2] for name in PUBLIC_METHODS}
    assert {"fit", "predict", "predict_proba", "transform", "from_recipe"} <= methods


@pytest.mark.parametrize("qualname", list(PUBLIC_OBJECTS))
def test_public_object_documents_its_parameters(qualname):
    if qualname in ALLOWED:
        pytest.skip(ALLOWED[qualname])
    problems = check_parameter_docs(PUBLIC_OBJECTS[qualname])
    assert not problems, f"{qualname}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("qualname", list(PUBLIC_METHODS))
def test_public_method_documents_its_parameters(qualname):
    if qualname in ALLOWED:
        pytest.skip(ALLOWED[qualname])
    func, drop_first, doc = PUBLIC_METHODS[qualname]
    problems = check_parameter_docs(func, doc=doc, drop_first=drop_first)
    assert not problems, f"{qualname}:\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------
# The checker finds what it should
# ---------------------------------------------------------------------------


def _wrong(alpha, beta, *args, gamma=1, **kwargs):
    """A function whose documentation is out of date.

    Parameters
    ----------
    alpha : int
        Documented and real.
    delta : float
        Documented, but renamed ``gamma`` in the signature.
    **options
        Named differently from the signature's ``**kwargs``.
    """


class _Wrong:
    """A class whose documentation is out of date.

    Parameters
    ----------
    size, colour : int
        ``colour`` is not a parameter.
    """

    def __init__(self, size, shape=None):
        pass

    def fit(self, X, y=None):
        """Fit.

        Parameters
        ----------
        X : array-like
        """


def _right(alpha, beta=2, *args, **kwargs):
    """A function documented as the rules want.

    Parameters
    ----------
    alpha, beta : int
        Both documented by one entry.
    **kwargs
        Routed on, e.g. ``module__depth``.
    module__depth : int
        A routed parameter, documented where ``**kwargs`` takes it.
    """


@dataclasses.dataclass
class _Record:
    """A dataclass documenting its fields as attributes.

    Attributes
    ----------
    name : str
        The name.
    size : int
        The size.
    """

    name: str
    size: int = 0


@dataclasses.dataclass
class _Undocumented:
    name: str


def test_checker_reports_every_mismatch():
    assert check_parameter_docs(_wrong) == [
        "in the signature but not documented: beta, gamma",
        "documented but not in the signature: **options, delta",
    ]
    assert check_parameter_docs(_Wrong) == [
        "in the signature but not documented: shape",
        "documented but not in the signature: colour",
    ]
    assert check_parameter_docs(_Wrong.fit, drop_first=True) == [
        "in the signature but not documented: y",
    ]
    assert check_parameter_docs(_Undocumented) == ["no docstring"]
    assert check_parameter_docs(lambda x: x) == ["no docstring"]
    assert check_parameter_docs(_right) == []
    assert check_parameter_docs(_Record) == []
