"""The model card: what a model file says about its model, for people and for tools.

A card is the metadata given to :func:`skmatnet.save_model` (the target, its units,
the data, the scores...), stored as JSON under ``card`` in the archive's config,
merged with keys skmatnet derives from the rest of the config: when the file was
written, by which versions, the estimator and network, and fitted attributes
worth knowing. Those are read from the config, never stored twice.

Reading a card opens the config only: no weights, no network, no torch, so
:func:`read_model_card` and ``skmatnet info`` answer at once.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .._registry import NETWORK_SPECS
from .layout import (
    _CONFIG,
    _ENSEMBLE_CONFIG,
    _FORMAT_NAME,
    _MAX_CONFIG_BYTES,
    FORMAT_VERSION,
    ModelFileError,
    _require,
)

__all__ = ["AUTOMATIC_KEYS", "check_metadata", "ensemble_card", "model_card",
           "read_model_card", "saved_at"]

#: The fitted attributes a card shows, where the estimator has them.
_FITTED_SHOWN = ("n_features_in_", "n_outputs_", "effective_params_", "n_epochs_",
                 "best_epoch_", "classes_")
#: The keys skmatnet fills in itself; metadata may not use them (see ``check_metadata``).
AUTOMATIC_KEYS = ("saved_at", "format_version", "skmatnet_version", "torch_version", "kind",
                  "estimator", "member_estimator", "n_estimators", "steps", "network",
                  "half_precision", *_FITTED_SHOWN)


def saved_at() -> str:
    """Now, in UTC, as ISO 8601 to the second (``2026-05-09T07:35:25+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------
# Saving: the metadata as plain JSON
# ---------------------------------------------------------------------------


def check_metadata(metadata: Any) -> dict[str, Any]:
    """``metadata`` as plain JSON values, or a ``TypeError``/``ValueError`` naming the key.

    Keys of :data:`AUTOMATIC_KEYS` are refused rather than overwritten either way:
    a card must not claim what the file contradicts, nor lose what the user wrote.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    for key in metadata:
        if key in AUTOMATIC_KEYS:
            raise ValueError(
                f"metadata key {key!r} is set by skmatnet from the model itself; choose another "
                f"name (the keys skmatnet sets: {', '.join(AUTOMATIC_KEYS)})"
            )
    return _plain(metadata, "metadata")


def _plain(value: Any, where: str) -> Any:
    """``value`` as JSON (str, int, float, bool, None, lists and dicts of them)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):  # numpy's float64 too
        if not math.isfinite(value):
            raise ValueError(f"cannot save {where}={value!r}: JSON has no NaN or infinity; "
                             "store it as text or leave the key out")
        return float(value)
    if isinstance(value, list):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        plain = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"cannot save {where}: its key {key!r} is of type "
                                f"{type(key).__name__}; the keys of a model card are strings")
            plain[key] = _plain(item, f"{where}[{key!r}]")
        return plain
    hint = {"tuple": "; use a list"}.get(type(value).__name__, "")
    if type(value).__module__ == "numpy":
        hint = "; convert it with .item() or .tolist()"
    raise TypeError(
        f"cannot save {where}={value!r}: a model card holds JSON values only (str, int, float, "
        f"bool, None, and lists and dicts of them), not {type(value).__name__}{hint}"
    )


# ---------------------------------------------------------------------------
# The card of a config
# ---------------------------------------------------------------------------


def model_card(config: dict, path: Path) -> dict[str, Any]:
    """The card of a single model's ``config.json`` (an estimator or a pipeline)."""
    spec = _require(config, "estimator", path, "", dict)
    class_name = _require(spec, "class", path, "estimator ", str)
    fitted = spec.get("fitted")
    facts = {**_file_facts(config), "estimator": class_name.removeprefix("skmatnet.")}
    pipeline = config.get("pipeline")
    if config.get("kind") == "pipeline" and isinstance(pipeline, dict):
        steps = pipeline.get("steps")
        facts["steps"] = [str(step.get("class", "?")).removeprefix("skmatnet.")
                          for step in (steps if isinstance(steps, list) else [])
                          if isinstance(step, dict)] + [facts["estimator"]]
    facts["network"] = _network(class_name, spec.get("params"))
    if isinstance(fitted, dict):
        facts.update({name: _untag(fitted[name]) for name in _FITTED_SHOWN if name in fitted})
    return _merge(_user_card(config, path), facts)


def ensemble_card(config: dict, member_cards: list[dict], path: Path) -> dict[str, Any]:
    """The card of an ensemble's ``ensemble.json``, with what its members' cards say."""
    fitted = config.get("fitted") if isinstance(config.get("fitted"), dict) else {}
    facts = {**_file_facts(config), "estimator": "MatNetEnsembleRegressor",
             "n_estimators": len(member_cards), "n_features_in_": fitted.get("n_features_in_")}
    if member_cards:
        first = member_cards[0]
        facts.update(member_estimator=first.get("estimator"), steps=first.get("steps"),
                     network=first.get("network"),
                     effective_params_=first.get("effective_params_"))
        for name in ("n_epochs_", "best_epoch_"):  # one each: the members trained apart
            facts[name] = [card.get(name) for card in member_cards]
    return _merge(_user_card(config, path), facts)


def _file_facts(config: dict) -> dict[str, Any]:
    versions = config.get("versions") if isinstance(config.get("versions"), dict) else {}
    return {
        "saved_at": config.get("saved_at"),  # None: written before cards existed
        "format_version": config.get("format_version"),
        "skmatnet_version": versions.get("skmatnet"),
        "torch_version": versions.get("torch"),
        "kind": config.get("kind"),
        "half_precision": config.get("half_precision", False),
    }


def _user_card(config: dict, path: Path) -> dict[str, Any]:
    card = config.get("card", {})  # absent: a file written before cards existed
    if not isinstance(card, dict):
        raise ModelFileError(path, "the model card ('card' in the config) is not an object")
    return card


def _merge(card: dict, facts: dict) -> dict[str, Any]:
    # The facts win: save_model refuses metadata under their names, so a clash means the
    # file was edited, and the facts are what the loaded model is built from.
    return {**card, **{key: value for key, value in facts.items() if value is not None}}


def _network(class_name: str, params: Any) -> str | None:
    """The network's registry name (``"brnet"``): the ``module`` parameter's, else the
    estimator's own."""
    module = params.get("module") if isinstance(params, dict) else None
    if isinstance(module, dict) and isinstance(module.get("__class__"), str):
        network_class = module["__class__"].rpartition(".")[2]
        for spec in NETWORK_SPECS:
            if spec.module.rpartition(":")[2] == network_class:
                return spec.name
        return network_class
    estimator = class_name.removeprefix("skmatnet.")
    for spec in NETWORK_SPECS:
        if estimator in spec.estimators().values():
            return spec.name
    return None


def _untag(value: Any) -> Any:
    """A config value as plain JSON: the tags of tuples, infinities and classes removed."""
    if isinstance(value, list):
        return [_untag(item) for item in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"} and isinstance(value["__tuple__"], list):
            return [_untag(item) for item in value["__tuple__"]]
        if set(value) == {"__float__"} and value["__float__"] in ("inf", "-inf", "nan"):
            return float(value["__float__"])
        if set(value) == {"__class__"}:
            return value["__class__"]
        return {key: _untag(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------
# Reading a card from a file
# ---------------------------------------------------------------------------


def read_model_card(path: str | os.PathLike) -> dict[str, Any]:
    """The model card of a file written by :func:`save_model`, without loading the model.

    Reads the archive's config alone: no weights, no network, not even torch, so
    it takes milliseconds whatever the size of the model.

    Parameters
    ----------
    path : str or path-like
        A model file (an estimator, a pipeline or an ensemble).

    Returns
    -------
    dict
        The metadata given to :func:`save_model`, merged with the keys skmatnet
        fills in (``saved_at``, ``skmatnet_version``, ``torch_version``,
        ``estimator``, ``network``, ``n_features_in_``, ``effective_params_``,
        ``n_epochs_``, ``best_epoch_``, ``classes_``, ...; see
        :func:`save_model`). A file saved without metadata, or before model
        cards existed, has those keys only. :func:`load_model` sets the same
        dict as the loaded model's ``model_card_``.

    Raises
    ------
    ModelFileError
        If the file is not a readable model archive (not a zip archive,
        truncated, corrupt), has no config, or its config is not valid JSON or
        not an skmatnet model's.
    FileNotFoundError
        If ``path`` does not exist.

    See Also
    --------
    save_model : write a model with its card.
    load_model : load the model, with its card as ``model_card_``.

    Examples
    --------
    >>> card = read_model_card("brnet.skmatnet")  # doctest: +SKIP
    >>> card["target"], card["units"], card["network"]  # doctest: +SKIP
    ('formation_energy_peratom', 'eV/atom', 'brnet')
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            if _ENSEMBLE_CONFIG in archive.namelist():
                config = _read_config(archive, _ENSEMBLE_CONFIG, path)
                members = _require(config, "members", path, "", list)
                cards = [_member_card(archive, entry, i, path) for i, entry in enumerate(members)]
                return ensemble_card(config, cards, path)
            return model_card(_read_config(archive, _CONFIG, path), path)
    except (FileNotFoundError, ModelFileError):
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelFileError(
            path, f"not a readable skmatnet model archive (corrupt or truncated?): {exc}"
        ) from None


def _read_config(archive: zipfile.ZipFile, name: str, path: Path) -> dict[str, Any]:
    """The JSON member ``name`` (``config.json`` or ``ensemble.json``), checked as skmatnet's.

    Reading the member whole checks its CRC-32, as loading the model does.
    """
    if name not in archive.namelist():
        raise ModelFileError(path, f"the archive has no {name}; it was not written by "
                                   "skmatnet.save_model")
    if archive.getinfo(name).file_size > _MAX_CONFIG_BYTES:
        raise ModelFileError(path, f"{name} is implausibly large; not read")
    try:
        config = json.loads(archive.read(name).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(path, f"{name} is not valid JSON: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != _FORMAT_NAME:
        raise ModelFileError(path, f"{name} is not an skmatnet model configuration")
    version = config.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise ModelFileError(
            path, f"written in format version {version}, newer than this skmatnet reads "
            f"({FORMAT_VERSION}); upgrade skmatnet"
        )
    return config


def _member_card(archive: zipfile.ZipFile, entry: Any, i: int, path: Path) -> dict[str, Any]:
    """The card of ensemble member ``i``, from its own config, read inside the archive."""
    member_file = _require(entry, "file", path, f"member {i} ", str)
    if member_file not in archive.namelist():
        raise ModelFileError(path, f"the archive has no {member_file}")
    # Opened in place: only the member's config is read, not its weights.
    with archive.open(member_file) as raw, zipfile.ZipFile(raw) as member:
        try:
            return model_card(_read_config(member, _CONFIG, path), path)
        except ModelFileError as exc:
            raise ModelFileError(path, f"ensemble member {i}: {exc.problem}") from None
