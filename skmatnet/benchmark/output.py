"""A run's output directory: what is written where, and what an earlier run left to resume.

Every file is written atomically (:func:`skmatnet._io.atomic_write`), so an
interrupted run never leaves a half-written result. A model's result is saved
as ``done/<model>.json`` the moment it finishes, with a fingerprint of the data,
split and settings it ran with; ``resume`` reuses it only when the fingerprint
matches. Fitted networks are saved with :func:`skmatnet.save_model` (files that
cannot run code when loaded); the scikit-learn baselines with joblib.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from .._io import atomic_write
from .data import BenchmarkData
from .models import FoldEnsembleClassifier, FoldEnsembleRegressor
from .protocols import Split

__all__ = ["OutputDir", "fingerprint", "load_fitted_model", "to_json"]

_ARTIFACT_DIRS = ("done", "failed", "predictions", "models")
_ARTIFACT_FILES = ("results.md", "results.csv", "bubble.png", "roc.png", "environment.json",
                   "split.csv")
# The manifest of a fold ensemble of networks: one .skmatnet file per fold beside it.
_ENSEMBLE_MANIFEST = "ensemble.json"


def to_json(payload: Any) -> str:
    """JSON text of ``payload`` (numpy scalars and paths converted).

    Parameters
    ----------
    payload : object
        What to write: dicts, lists, numbers, strings. NumPy scalars and arrays become
        numbers and lists, paths strings, other objects their ``repr``.

    Returns
    -------
    str
        Indented JSON (NaN and infinities as ``NaN``, ``Infinity``), ending in a newline.
    """

    def default(value: Any) -> Any:
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, Path):
            return str(value)
        return repr(value)

    return json.dumps(payload, indent=2, default=default, allow_nan=True) + "\n"


def json_normal(value: Any) -> Any:
    """``value`` as it reads back from JSON (numpy scalars to numbers, tuples to lists)."""
    return json.loads(to_json(value))


def fingerprint(data: BenchmarkData, split: Split, split_sha: str, runner: Any) -> dict:
    """What must match for an earlier result of ``runner``'s model to be reused.

    Parameters
    ----------
    data : BenchmarkData
        The benchmark's rows; its source (dataset, columns, row limit) counts.
    split : Split
        The split; its protocol, seed and number of folds count.
    split_sha : str
        :meth:`Split.sha256` of the split.
    runner : object
        The model's runner: its ``name`` and ``config()`` count.

    Returns
    -------
    dict
        JSON-normal values, compared with a saved record's ``fingerprint``.
    """
    source = {k: v for k, v in data.source.items() if k != "csv"}
    return json_normal({
        "data": source,
        "protocol": split.protocol,
        "seed": split.seed,
        "n_folds": split.n_folds,
        "split_sha256": split_sha,
        "model": runner.name,
        "config": runner.config(),
    })


class OutputDir:
    """The files of one benchmark run under ``path``.

    Parameters
    ----------
    path : pathlib.Path
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def start(self, *, resume: bool) -> list:
        """Create the directory; clear an earlier run, or (``resume``) return its records.

        Parameters
        ----------
        resume : bool
            Keep the earlier run's files and return its environment records.

        Returns
        -------
        list of dict
            The environment records of the earlier runs (empty unless ``resume``).
        """
        out = self.path
        out.mkdir(parents=True, exist_ok=True)
        previous_runs: list = []
        if resume:
            # Keep the record of the runs whose results are being reused.
            with contextlib.suppress(OSError, ValueError):
                earlier = json.loads((out / "environment.json").read_text())
                previous_runs = earlier.pop("previous_runs", [])
                previous_runs.append(earlier)
        else:
            self._clear()
        (out / "done").mkdir(exist_ok=True)
        return previous_runs

    def _clear(self) -> None:
        for name in _ARTIFACT_DIRS:
            if (self.path / name).is_dir():
                shutil.rmtree(self.path / name)
        for name in _ARTIFACT_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.path / name).unlink()
        for png in self.path.glob("parity_*.png"):
            png.unlink()

    def write(self, relative: str, data: bytes | str) -> Path:
        """Write one file of the run atomically.

        Parameters
        ----------
        relative : str
            The file's path relative to the run directory.
        data : bytes or str
            Its content.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        return atomic_write(self.path / relative, data)

    def write_environment(self, environment: dict) -> None:
        """Write ``environment.json``.

        Parameters
        ----------
        environment : dict
            The run's environment record (versions, machine, settings).
        """
        self.write("environment.json", to_json(environment))

    def _done(self, name: str) -> Path:
        return self.path / "done" / f"{name}.json"

    def failure_path(self, name: str) -> Path:
        """Where the traceback of ``name``'s failure is written (``failed/<name>.txt``).

        Parameters
        ----------
        name : str
            The model name (``brnet``, ``tradml``, ...).

        Returns
        -------
        pathlib.Path
        """
        return self.path / "failed" / f"{name}.txt"

    def earlier_result(self, name: str, expected: dict) -> dict | None:
        """The saved record of ``name`` when its fingerprint is ``expected`` and its files exist.

        Parameters
        ----------
        name : str
            The model name (``brnet``, ``tradml``, ...).
        expected : dict
            The model's :func:`fingerprint` in this run.

        Returns
        -------
        dict or None
            The done record, or None when there is none to reuse.
        """
        try:
            record = json.loads(self._done(name).read_text())
        except (OSError, ValueError):
            return None
        if record.get("fingerprint") != expected:
            return None
        for key in ("predictions", "model"):
            if not (self.path / record.get("files", {}).get(key, "missing")).is_file():
                return None
        return record

    def has_result(self, name: str) -> bool:
        """Whether ``name`` has a done record, whatever its fingerprint.

        Parameters
        ----------
        name : str
            The model name (``brnet``, ``tradml``, ...).

        Returns
        -------
        bool
        """
        return self._done(name).exists()

    def forget(self, name: str) -> None:
        """Drop ``name``'s earlier result before it runs again.

        Parameters
        ----------
        name : str
            The model name (``brnet``, ``tradml``, ...).
        """
        self._done(name).unlink(missing_ok=True)

    def save_failure(self, name: str, traceback_text: str) -> Path:
        """Write the traceback of ``name``'s failure to :meth:`failure_path`.

        Parameters
        ----------
        name : str
            The model name (``brnet``, ``tradml``, ...).
        traceback_text : str
            The formatted traceback.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        path = self.failure_path(name)
        atomic_write(path, traceback_text)
        return path

    def save_result(self, name: str, *, fingerprint: dict, rows: list, details: dict,
                    predictions: pd.DataFrame, fitted: Any, is_network: bool) -> dict:
        """Write the predictions, the fitted model and, last, the done record; return it.

        Parameters
        ----------
        name : str
            The model name (``brnet``, ``tradml``, ...).
        fingerprint : dict
            The model's :func:`fingerprint`, stored for ``resume``.
        rows : list of dict
            Its rows of the results table.
        details : dict
            Extra details of its result.
        predictions : pandas.DataFrame
            Its test-row predictions, written to ``predictions/<name>.csv``.
        fitted : object
            The fitted model to save.
        is_network : bool
            Saved with :func:`skmatnet.save_model` (a network, or one per fold of
            a fold ensemble) rather than joblib (a baseline).

        Returns
        -------
        dict
            The done record, with JSON-normal values.
        """
        files = {"predictions": f"predictions/{name}.csv",
                 "model": self._save_model(name, fitted, is_network)}
        self.write(files["predictions"], predictions.to_csv(index=False))
        record = {"model": name, "fingerprint": fingerprint, "rows": rows, "details": details,
                  "files": files, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.write(f"done/{name}.json", to_json(record))
        self.failure_path(name).unlink(missing_ok=True)
        return json_normal(record)

    def _save_model(self, name: str, fitted: Any, is_network: bool) -> str:
        """Save ``fitted``; return the file to load it from, relative to the run."""
        models = self.path / "models"
        if not is_network:
            buffer = io.BytesIO()
            joblib.dump(fitted, buffer)
            path = atomic_write(models / f"{name}.joblib", buffer.getvalue())
        elif not isinstance(fitted, (FoldEnsembleRegressor, FoldEnsembleClassifier)):
            path = _save_network(fitted, models / f"{name}.skmatnet")
        else:
            folds = [_save_network(model, models / name / f"fold{i + 1}.skmatnet").name
                     for i, model in enumerate(fitted.estimators)]
            manifest = {"kind": "fold_ensemble", "selected": int(fitted.selected),
                        "folds": folds}
            if isinstance(fitted, FoldEnsembleClassifier):
                manifest["task"] = "classification"
            path = atomic_write(models / name / _ENSEMBLE_MANIFEST, to_json(manifest))
        return path.relative_to(self.path).as_posix()


def _save_network(model: Any, path: Path) -> Path:
    from ..persistence import save_model  # imports torch: only when a network ran

    path.parent.mkdir(parents=True, exist_ok=True)
    return save_model(model, path)


def load_fitted_model(output_dir: str | os.PathLike, model: str) -> Any:
    """A fitted model of a benchmark run, as a formula -> prediction model.

    Parameters
    ----------
    output_dir : path-like
        The run's output directory.
    model : str
        A model name of the run (``brnet``, ``tradml``, ...).

    Returns
    -------
    estimator
        A pipeline (``brnet`` and ``published`` protocols) or a
        :class:`FoldEnsembleRegressor` (:class:`FoldEnsembleClassifier` for
        labels; ``tatis``). Networks are read with :func:`skmatnet.load_model`, which
        runs no code from the file; the baselines' ``.joblib`` files are
        pickles: load only runs you trust.
    """
    root = Path(output_dir)
    record = json.loads((root / "done" / f"{model}.json").read_text())
    path = root / record["files"]["model"]
    if path.suffix == ".joblib":
        return joblib.load(path)
    from ..persistence import load_model

    if path.name != _ENSEMBLE_MANIFEST:
        return load_model(path)
    manifest = json.loads(path.read_text())
    kind = FoldEnsembleClassifier if manifest.get("task") == "classification" \
        else FoldEnsembleRegressor
    return kind([load_model(path.parent / fold) for fold in manifest["folds"]],
                manifest["selected"])
