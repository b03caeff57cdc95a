"""skmatnet: deep networks for materials-property prediction as scikit-learn estimators.

The featurizer, datasets and splits import without torch; the estimators,
``save_model``/``load_model`` (and ``skmatnet.nets``) load torch and skorch on
first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._registry import estimator_module, estimator_names
from .datasets import DatasetError, DatasetInfo, describe_dataset, list_datasets, load_dataset
from .elements import ELEMENTS
from .featurizer import ElementFractionTransformer, FormulaError, element_fractions, parse_formula
from .model_selection import ElementCountStratifiedKFold, n_elements, train_val_test_split

__version__ = "0.2.0"

# Name -> submodule, imported on first access (they load torch). The per-network
# estimators come from the registry.
_LAZY = {
    "MatNetRegressor": "estimators",
    "MatNetClassifier": "classifiers",
    **{name: estimator_module(name) for name in estimator_names()},
    "MatNetEnsembleRegressor": "ensemble",
    "ModelFileError": "persistence",
    "load_model": "persistence",
    "read_model_card": "persistence",
    "save_model": "persistence",
    "connect_dask": "_dask",  # imports distributed: the optional extra skmatnet[dask]
}

__all__ = [
    "ELEMENTS",
    "DatasetError",
    "DatasetInfo",
    "ElementCountStratifiedKFold",
    "ElementFractionTransformer",
    "FormulaError",
    "__version__",
    "describe_dataset",
    "element_fractions",
    "list_datasets",
    "load_dataset",
    "n_elements",
    "parse_formula",
    "train_val_test_split",
]
__all__ += list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skmatnet' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
