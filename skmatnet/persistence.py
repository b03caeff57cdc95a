"""Save and load fitted models in a format that cannot run code when loaded.

``joblib`` and ``pickle`` files can execute arbitrary code when they are loaded.
:func:`save_model` writes a fitted skmatnet estimator, or a pipeline of
:class:`~skmatnet.ElementFractionTransformer` steps ending in one, as a zip
archive of two members:

``config.json``
    The format version; the class of every step, as a name from a fixed list
    of skmatnet classes (never an arbitrary import path); their parameters as
    plain JSON; the fitted attributes (``n_features_in_``, ``n_outputs_``,
    ...); the training history; the versions of skmatnet, torch, numpy,
    scikit-learn, skorch and Python that wrote the file; and the sha256 of
    ``weights.safetensors``.
``weights.safetensors``
    The network's ``state_dict`` (CPU tensors) in the `safetensors
    <https://huggingface.co/docs/safetensors>`_ format: a JSON header and raw
    tensor bytes, read without any unpickling.

:func:`load_model` rebuilds the model from those two members alone, and reads
every earlier format version:

1. Pre-release development files (before skmatnet 0.1.0): ``weights.pt``
   instead of ``weights.safetensors``, written by ``torch.save``; read for old
   files only, through ``torch.load(..., weights_only=True)``, which unpickles
   tensors and plain containers only.
2. skmatnet 0.1.0: ``weights.safetensors`` and ``config.json``.
3. skmatnet 0.2.0: adds the fitted ``effective_params_`` (the settings the fit
   chose for parameters left at ``"auto"``) and, for regressors, the parameter
   ``standardize_target`` and the fitted ``target_mean_`` and
   ``target_scale_`` of targets learnt in standard units. A regressor from an
   older file learnt raw targets and loads with ``standardize_target=False``.

The work is done by the private package ``skmatnet._persistence``, one concern
per module: ``codec`` (parameters and attributes as JSON), ``archive`` (reading
and checking an archive), ``single`` (one estimator or pipeline), ``ensembles``
and ``network`` (a saved network alone, for fine-tuning).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._persistence.archive import is_ensemble_archive
from ._persistence.codec import FORMAT_VERSION, ModelFileError
from ._persistence.ensembles import load_ensemble, save_ensemble
from ._persistence.single import _ESTIMATORS as _ESTIMATORS  # the classes a file may name
from ._persistence.single import load_single, save_single
from .ensemble import MatNetEnsembleRegressor

__all__ = ["FORMAT_VERSION", "ModelFileError", "load_model", "save_model"]


def save_model(model: Any, path: str | os.PathLike) -> Path:
    """Save a fitted model to a file that cannot run code when loaded.

    Parameters
    ----------
    model : MatNetRegressor, MatNetClassifier, Pipeline or MatNetEnsembleRegressor
        A fitted skmatnet estimator (:class:`~skmatnet.BRNetRegressor`, ...),
        or a fitted :class:`~sklearn.pipeline.Pipeline` of
        :class:`~skmatnet.ElementFractionTransformer` steps ending in one,
        or a fitted :class:`~skmatnet.MatNetEnsembleRegressor` of those
        (``ensemble.json`` and one member file each in the archive).
    path : str or path-like
        File to write (by convention ``*.skmatnet``). Written to a temporary
        file first and renamed, so an interrupted save never leaves a
        half-written file under ``path``.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the model is not fitted, is not a supported kind, or has a
        parameter that cannot be stored as JSON (e.g. a module instance): the
        message names it.

    Warns
    -----
    skmatnet.exceptions.CallbacksNotSavedWarning
        If an estimator has callbacks (``callbacks=[...]``, ``callbacks__*``):
        they act during training and are not part of the fitted model, so they
        are left out; ``config.json`` records which (``callbacks_not_saved``),
        and the loaded model has the default callbacks.

    See Also
    --------
    load_model : read the file back.

    Notes
    -----
    The file is a zip archive holding ``config.json`` (classes, parameters,
    fitted attributes, history, library versions, sha256 of the weights) and
    ``weights.safetensors`` (the network's ``state_dict``). The optimizer state is not
    saved: the file is for predicting, and ``fit`` after loading starts over.
    """
    if type(model) is MatNetEnsembleRegressor:
        return save_ensemble(model, Path(path), save_model)
    return save_single(model, path)


def load_model(path: str | os.PathLike, *, device: Any = None) -> Any:
    """Load a model written by :func:`save_model`, without running code from the file.

    Parameters
    ----------
    path : str or path-like
        The file.
    device : str or torch.device, optional
        Device to predict on. By default the saved ``device`` parameter;
        a model saved with ``device="cuda"`` is loaded on the CPU, with a
        warning, when no GPU is available.

    Returns
    -------
    MatNetRegressor or Pipeline
        The fitted model, predicting exactly as the saved one.

    Raises
    ------
    ModelFileError
        A ``ValueError`` naming the file and the problem: not a zip archive,
        truncated, a member missing, ``config.json`` not valid JSON or lacking
        a key, a class not in skmatnet's fixed list, the weights not
        matching their sha256, not a safetensors file (``weights.pt`` of a
        format-1 file: not loadable with ``weights_only=True``), or not
        fitting the network the config describes.
    FileNotFoundError
        If ``path`` does not exist.

    Warns
    -----
    UserWarning
        If the file was written by a different major.minor version of
        skmatnet or torch; the message names both versions.

    Notes
    -----
    Classes are looked up by name in a fixed list of skmatnet estimators, the
    six networks and standard torch losses and optimizers; the file cannot
    make the loader import anything else. The weights are read with
    :func:`safetensors.torch.load`; those of format-1 files (``weights.pt``)
    with ``torch.load(..., weights_only=True)``.
    """
    path = Path(path)
    if is_ensemble_archive(path):
        return load_ensemble(path, device, load_model)
    return load_single(path, device)
