"""Pretrained models bundled with skmatnet: list them, load them, fine-tune from them.

Each bundled model is a :func:`skmatnet.save_model` file in this package's
``models/`` folder, listed with its sha256, size and what it predicts in
``models/manifest.json``. Nothing is read at ``import skmatnet``; every file is
checked against the manifest before it is loaded.

- :func:`list_models`: the bundled models as a table.
- :func:`load_pretrained`: a bundled model as a fitted pipeline that predicts
  from formulas.
- :func:`model_path`: a bundled model's verified file, for
  :func:`skmatnet.load_model` or the command line.

A bundled model's name also works as ``init_from`` of every estimator
(``BRNetRegressor(init_from="mp_formation_energy")``) and as the model of
``skmatnet predict``, ``skmatnet screen`` and ``skmatnet train --init-from``.
"""

from __future__ import annotations

from typing import Any

from ._zoo import _manifest_entry as _manifest_entry  # the bundling script's
from ._zoo import _write_manifest as _write_manifest
from ._zoo import model_entries, model_path

__all__ = ["list_models", "load_pretrained", "model_path"]

#: The columns of list_models() before the test metrics, and after them.
_LEADING = ("name", "target", "units", "estimator", "kind", "members")
_TRAILING = ("dataset", "split", "size_mb", "description")


def list_models():
    """The bundled pretrained models, one row each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name``, ``target``, ``units``, ``estimator``, ``kind``
        (``"regressor"`` or ``"classifier"``), ``members`` (more than one: a
        :class:`~skmatnet.MatNetEnsembleRegressor`), one ``test_<metric>``
        column per test metric (e.g. ``test_mae``, in the model's units),
        ``dataset``, ``split``, ``size_mb`` and ``description``. Empty (with
        those columns) where no model is bundled.

    Examples
    --------
    >>> from skmatnet.pretrained import list_models
    >>> table = list_models()
    >>> list(table.columns[:3])
    ['name', 'target', 'units']
    """
    import pandas as pd

    rows = []
    for entry in model_entries().values():
        row = {key: entry.get(key) for key in _LEADING}
        row.update({f"test_{metric}": value
                    for metric, value in (entry.get("test_metrics") or {}).items()})
        row.update({key: entry.get(key) for key in _TRAILING})
        row["size_mb"] = round(entry["bytes"] / 1e6, 2)
        rows.append(row)
    metrics = list(dict.fromkeys(key for row in rows for key in row
                                 if key.startswith("test_")))
    return pd.DataFrame(rows, columns=[*_LEADING, *metrics, *_TRAILING])


def load_pretrained(name: str, *, device: Any = None):
    """A bundled model, ready to predict from chemical formulas.

    Parameters
    ----------
    name : str
        A name from :func:`list_models`.
    device : str or torch.device, optional
        Device to predict on (as for :func:`skmatnet.load_model`; default: the CPU
        where no GPU is available).

    Returns
    -------
    sklearn.pipeline.Pipeline or MatNetEnsembleRegressor
        The fitted model: ``Pipeline([("fractions", ElementFractionTransformer()),
        ("model", <estimator or ensemble>)])``, or the file's own pipeline (or
        ensemble of pipelines) where it featurizes formulas itself. Its
        ``predict`` takes formulas.

    Raises
    ------
    ValueError
        If no bundled model has that name; the message lists those that do.
    FileNotFoundError
        If the model's file is missing from the installation.
    skmatnet.ModelFileError
        If the file's size or sha256 differ from the manifest's.

    See Also
    --------
    model_path : the verified file, for :func:`skmatnet.load_model`.

    Examples
    --------
    >>> from skmatnet.pretrained import list_models, load_pretrained
    >>> for name in list_models()["name"]:  # doctest: +SKIP
    ...     print(name, load_pretrained(name).predict(["Fe2O3", "NaCl"]))
    """
    from sklearn.pipeline import Pipeline

    from ..featurizer import ElementFractionTransformer
    from ..persistence import load_model

    model = load_model(model_path(name), device=device)
    if _takes_formulas(model):
        return model
    return Pipeline([("fractions", ElementFractionTransformer()), ("model", model)])


def _takes_formulas(model) -> bool:
    """Whether the model featurizes formulas itself (a pipeline, or an ensemble of them)."""
    from sklearn.pipeline import Pipeline

    members = getattr(model, "estimators_", None)
    return isinstance(members[0] if members else model, Pipeline)
