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
    scikit-learn, skorch and Python that wrote the file; when it was written
    (``saved_at``); the model card (``card``: the ``metadata`` given to
    :func:`save_model`); whether the weights are stored in half precision
    (``half_precision``); and the sha256 of ``weights.safetensors``.
``weights.safetensors``
    The network's ``state_dict`` (CPU tensors) in the `safetensors
    <https://huggingface.co/docs/safetensors>`_ format: a JSON header and raw
    tensor bytes, read without any unpickling. float32, or float16 for the
    floating tensors of a file saved with ``half_precision=True``.

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
   After 0.2.0, the same version gains three optional keys: ``card``,
   ``saved_at`` and ``half_precision``. The 0.2.0 reader ignores keys it does
   not know and copies float16 weights into the network's float32 parameters,
   so it loads these files correctly; the version is therefore not raised. A
   file without them has an empty card and float32 weights.
4. After skmatnet 0.2.0: a classifier's parameter ``temperature_scaling`` and
   fitted ``temperature_`` (what ``predict_proba`` divides the class scores
   by). The 0.2.0 reader would refuse them as unknown, so the version is
   raised and it says "upgrade skmatnet" instead. A classifier from an older
   file loads with ``temperature_`` 1, its probabilities as they were.

The work is done by the private package ``skmatnet._persistence``, one concern
per module: ``layout`` (member names, format version, the error), ``codec``
(parameters and attributes as JSON), ``archive`` (reading and checking an
archive), ``card`` (the model card, read without torch), ``single`` (one
estimator or pipeline), ``ensembles`` and ``network`` (a saved network alone,
for fine-tuning).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ._persistence.archive import is_ensemble_archive
from ._persistence.card import read_model_card
from ._persistence.codec import FORMAT_VERSION, ModelFileError
from ._persistence.ensembles import load_ensemble, save_ensemble
from ._persistence.single import _ESTIMATORS as _ESTIMATORS  # the classes a file may name
from ._persistence.single import load_single, save_single
from .ensemble import MatNetEnsembleRegressor

__all__ = ["FORMAT_VERSION", "ModelFileError", "load_model", "read_model_card", "save_model"]


def save_model(model: Any, path: str | os.PathLike, *, metadata: dict | None = None,
               half_precision: bool = False) -> Path:
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
    metadata : dict, optional
        The model card: what the model predicts and how it was made, stored as
        JSON in the file and read back by :func:`read_model_card`, ``skmatnet
        info`` and as the loaded model's ``model_card_``. Values are str, int,
        float (finite), bool, None, and lists and dicts (with str keys) of
        those. The recommended keys are listed in the Notes. skmatnet adds keys
        of its own, which ``metadata`` may not use.
    half_precision : bool, default=False
        Store the network's floating weights in float16, which halves the
        file. Integer buffers (BatchNorm's ``num_batches_tracked``) are kept.
        :func:`load_model` and ``init_from`` convert them back to float32, so
        the loaded model computes in float32 with weights rounded to float16
        (predictions typically within 1e-3 of the target's spread; check on
        your data).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the model is not fitted, is not a supported kind, or has a
        parameter that cannot be stored as JSON (e.g. a module instance): the
        message names it. Also if ``metadata`` uses a key skmatnet sets or holds
        NaN or infinity, or a weight is beyond float16's range with
        ``half_precision=True``.
    TypeError
        If ``metadata`` is not a dict or holds a value that is not plain JSON
        (a tuple, a numpy array or scalar, an object): the message names the key.

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
    read_model_card : read the card alone, without loading the model.

    Notes
    -----
    The file is a zip archive holding ``config.json`` (classes, parameters,
    fitted attributes, history, library versions, the card, sha256 of the
    weights) and ``weights.safetensors`` (the network's ``state_dict``). The
    optimizer state is not saved: the file is for predicting, and ``fit`` after
    loading starts over. The card is part of ``config.json``, checked like the
    rest of it (the archive's CRC-32) when the file is read.

    Recommended ``metadata`` keys (``skmatnet train`` fills in most of them):

    - ``target``: what the model predicts (``"formation_energy_peratom"``).
    - ``units``: the target's units (``"eV/atom"``); ``skmatnet predict`` names
      them in its output.
    - ``dataset``, ``dataset_version``, ``dataset_sha256``: the training data.
    - ``split``: how the rows were split; ``rows``: their counts, a dict
      ``{"train": ..., "val": ..., "test": ...}``.
    - ``recipe``, ``epochs``: how the model was trained.
    - ``test_metrics``: a dict of scores on held-out rows (``{"mae": 0.05}``).
    - ``citation``, ``license``: how to cite the model and its terms of use.
    - ``command``: the command line that trained it.
    - ``description``: anything else, in words.

    Keys skmatnet sets itself, from the model and the file: ``saved_at``
    (UTC, ISO 8601), ``format_version``, ``skmatnet_version`` and
    ``torch_version`` (of the versions the file records), ``kind``,
    ``estimator``, ``steps`` (a pipeline's classes), ``network``,
    ``half_precision``, and the fitted ``n_features_in_``, ``n_outputs_``,
    ``effective_params_``, ``n_epochs_``, ``best_epoch_`` and ``classes_``
    where the estimator has them; for an ensemble also ``n_estimators`` and
    ``member_estimator``, with ``n_epochs_`` and ``best_epoch_`` one per
    member. ``metadata`` may not use these names (a ``ValueError``), so no
    value given is ever silently replaced; should a file be edited to hold
    one, the card shows skmatnet's value.

    Examples
    --------
    >>> save_model(model, "brnet.skmatnet", half_precision=True,  # doctest: +SKIP
    ...            metadata={"target": "formation_energy_peratom", "units": "eV/atom",
    ...                      "test_metrics": {"mae": 0.048}})
    """
    if type(model) is MatNetEnsembleRegressor:
        return save_ensemble(model, Path(path), save_model, metadata=metadata,
                             half_precision=half_precision)
    return save_single(model, path, metadata=metadata, half_precision=half_precision)


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
    MatNetRegressor, MatNetClassifier, Pipeline or MatNetEnsembleRegressor
        The fitted model, predicting exactly as the saved one (as the saved one
        with its weights rounded to float16, for a file saved with
        ``half_precision=True``). Its ``model_card_`` is the file's card, a
        dict: the ``metadata`` given to :func:`save_model` and the keys skmatnet
        sets (:func:`read_model_card` reads it without loading the model).

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
