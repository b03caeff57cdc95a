"""The benchmark's two evaluation protocols, as objects that split, report and describe.

Every model sees the same split, computed once before any model is trained.

``brnet`` (:class:`BRNetProtocol`)
    81:9:10 train/validation/test, stratified on the number of elements,
    seed 1234567 (:func:`skmatnet.model_selection.train_val_test_split`).
    Networks early-stop on the validation part; the baselines select their
    hyperparameters on it.
``tatis`` (:class:`TatisProtocol`)
    90:10 train/test (stratified, same seed), then K-fold cross-validation of
    the 90 % (:class:`skmatnet.model_selection.ElementCountStratifiedKFold`):
    one model per fold, trained on the other folds and early-stopped (or
    selected) on its own fold.
``published`` (:class:`PublishedProtocol`)
    The dataset's own train/validation/test split (the ``split`` column of
    :func:`skmatnet.load_dataset`), as the peers that published on it used
    it: e.g. CrabNet's 70/15/15 split of ``oqmd_bandgap``. A dataset whose
    split has no validation part gets one from its training part (10 %,
    stratified on the number of elements, seeded); test rows stay untouched.

A protocol turns the fitted models of one benchmark model (a :class:`FitOutcome`)
into the rows of the results table, the columns of its predictions file and the
model to save.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..model_selection import ElementCountStratifiedKFold, n_elements, train_val_test_split
from .data import BenchmarkData
from .errors import BenchmarkError
from .models import FoldEnsembleClassifier, FoldEnsembleRegressor
from .tasks import RegressionTask, Task

__all__ = [
    "PROTOCOLS",
    "BRNetProtocol",
    "FitOutcome",
    "Protocol",
    "PublishedProtocol",
    "Split",
    "TatisProtocol",
    "get_protocol",
    "make_split",
]


@dataclass
class Split:
    """Row indices of one protocol's split, computed once for every model.

    Attributes
    ----------
    protocol : str
        ``"brnet"``, ``"tatis"`` or ``"published"``.
    train, val, test : ndarray of int
        Row indices (into :class:`BenchmarkData`). For ``tatis`` ``train`` is
        the 90 % that the folds divide and ``val`` is empty.
    folds : list of (ndarray, ndarray)
        ``tatis`` only: per fold, the (training, validation) row indices; the
        validation parts are disjoint and cover ``train``.
    seed : int
        Seed of the split.
    """

    protocol: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    folds: list = field(default_factory=list)
    seed: int = 1234567

    @property
    def n_folds(self) -> int:
        """int : Number of folds (0 for ``brnet``)."""
        return len(self.folds)

    def fits(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The (label, training rows, validation rows) of every model to fit."""
        if not self.folds:
            return [("", self.train, self.val)]
        k = self.n_folds
        return [(f"fold {i + 1}/{k}", tr, va) for i, (tr, va) in enumerate(self.folds)]

    def to_frame(self, data: BenchmarkData) -> pd.DataFrame:
        """One line per row: its part (train/val/test) and fold (-1 when none).

        Parameters
        ----------
        data : BenchmarkData
            The rows that were split.

        Returns
        -------
        pandas.DataFrame
        """
        part = np.full(len(data), "", dtype=object)
        part[self.train], part[self.val], part[self.test] = "train", "val", "test"
        fold = np.full(len(data), -1, dtype=np.int64)
        for i, (_, va) in enumerate(self.folds):
            fold[va] = i
        frame = pd.DataFrame({"row": np.arange(len(data)), "formula": data.formulas,
                              "target": data.y, "part": part})
        if data.task == "classification" and data.y.dtype == object:
            frame["target"] = frame["target"].astype(str)
        if self.folds:
            frame["fold"] = fold
        return frame

    def sha256(self, data: BenchmarkData) -> str:
        """Fingerprint of the rows and their roles (changes with data, protocol or seed).

        Parameters
        ----------
        data : BenchmarkData
            The rows that were split.

        Returns
        -------
        str
            The hexadecimal sha256 of :meth:`to_frame` as CSV.
        """
        text = self.to_frame(data).to_csv(index=False, float_format="%.10g")
        return hashlib.sha256(text.encode()).hexdigest()



@dataclass
class FitOutcome:
    """What fitting one benchmark model under a split produced (see :class:`Protocol`).

    Attributes
    ----------
    name : str
        The model name (``brnet``, ``tradml``, ...).
    models : list
        One fitted model per entry of :meth:`Split.fits`.
    infos : list of dict
        Per fitted model: epochs, best epoch, why training stopped (networks).
    val_scores : list of float
        The task's validation metric (MAE, or ROC-AUC for labels) of each
        fitted model on its own validation rows.
    predictions : list
        Test-row outputs of each fitted model (:meth:`Task.outputs`: the
        predictions, or labels with probabilities).
    predict_seconds : list of float
    n_parameters : list of int or None
    train_seconds : float
        Search and training time of all fits together.
    summary : str
        The chosen configuration, in a few words (baselines).
    task : Task
        The benchmark's task (regression or classification); a regression task by default.
    """

    name: str
    models: list
    infos: list
    val_scores: list
    predictions: list
    predict_seconds: list
    n_parameters: list
    train_seconds: float
    summary: str = ""
    task: Task = field(default_factory=RegressionTask)


class Protocol:
    """How rows are split, and how the fitted models become results."""

    name = ""
    #: Lines added under the results table (caveats of the protocol).
    notes: tuple[str, ...] = ()

    def split(self, data: BenchmarkData, *, seed: int, n_folds: int) -> Split:
        """Split the rows once, for every model.

        Parameters
        ----------
        data : BenchmarkData
            The benchmark's rows.
        seed : int
            Seeds the split.
        n_folds : int
            Cross-validation folds, for a protocol that has folds (Tatis).

        Returns
        -------
        Split
        """
        raise NotImplementedError

    def results(self, outcome: FitOutcome, data: BenchmarkData,
                split: Split) -> tuple[list[dict], dict, dict]:
        """Table rows, prediction columns (name -> test-row values) and extra details.

        Parameters
        ----------
        outcome : FitOutcome
            What fitting one model under ``split`` produced.
        data : BenchmarkData
            The benchmark's rows.
        split : Split
            The split the model was fitted under.

        Returns
        -------
        rows : list of dict
        columns : dict
        details : dict
        """
        raise NotImplementedError

    def fitted_model(self, pipelines: list, outcome: FitOutcome) -> Any:
        """The model to save, from one formula -> prediction pipeline per fit.

        Parameters
        ----------
        pipelines : list
            One formula -> prediction pipeline per entry of ``outcome.models``.
        outcome : FitOutcome
            What fitting the model produced.

        Returns
        -------
        object
            A fitted estimator that predicts from formulas.
        """
        raise NotImplementedError

    def describe(self, split: Split) -> str:
        """The split in words, for the results page.

        Parameters
        ----------
        split : Split
            What :meth:`split` returned.

        Returns
        -------
        str
        """
        raise NotImplementedError

    def _common(self, outcome: FitOutcome, split: Split) -> dict:
        return {"n_test": len(split.test), "details": outcome.summary}


class BRNetProtocol(Protocol):
    """81:9:10 train/validation/test, stratified on the number of elements."""

    name = "brnet"

    def split(self, data, *, seed, n_folds=None):
        rows = np.arange(len(data))
        train, val, test = train_val_test_split(
            rows, sizes=(0.81, 0.09, 0.10), stratify=n_elements(data.X), random_state=seed
        )
        return Split(self.name, np.sort(train), np.sort(val), np.sort(test), seed=seed)

    def results(self, outcome, data, split):
        info, task = outcome.infos[0], outcome.task
        row = {"model": outcome.name, "variant": "holdout",
               **task.metrics(data.y[split.test], outcome.predictions[0]),
               task.val_column: outcome.val_scores[0], "train_time_s": outcome.train_seconds,
               "predict_time_s": outcome.predict_seconds[0],
               "n_parameters": outcome.n_parameters[0], "epochs": info.get("epochs"),
               "best_epoch": info.get("best_epoch"), "ensemble_std": None,
               "n_train": len(split.train), "n_val": len(split.val),
               **self._common(outcome, split)}
        if info.get("stopped"):
            row["details"] = (row["details"] + "; " if row["details"] else "") + \
                f"stopped by {info['stopped']}"
        return [row], task.columns(outcome.predictions[0]), {}

    def fitted_model(self, pipelines, outcome):
        return pipelines[0]

    def describe(self, split):
        return (f"train {len(split.train):,} / validation {len(split.val):,} / test "
                f"{len(split.test):,} (81:9:10, stratified on the number of elements)")


class PublishedProtocol(BRNetProtocol):
    """The dataset's published train/validation/test split."""

    name = "published"
    #: Share of the training part kept for validation when the split has none.
    val_share = 0.1

    def split(self, data, *, seed, n_folds=None):
        if data.parts is None:
            raise BenchmarkError(
                f"{data.name} has no published split; use --protocol brnet or tatis"
            )
        parts = np.asarray(data.parts, dtype=object)
        unknown = sorted(set(parts) - {"train", "val", "test"})
        if unknown:
            raise BenchmarkError(f"{data.name}: unknown split labels {unknown}")
        train, val = np.flatnonzero(parts == "train"), np.flatnonzero(parts == "val")
        test = np.flatnonzero(parts == "test")
        if len(train) < 2 or len(test) < 1:
            raise BenchmarkError(
                f"{data.name}: the published split has {len(train)} training and {len(test)} "
                "test rows; it needs both"
            )
        if len(val) == 0:
            train, val, _ = train_val_test_split(
                train, sizes=(1 - self.val_share, self.val_share, 0.0),
                stratify=n_elements(data.X[train]), random_state=seed,
            )
        return Split(self.name, np.sort(train), np.sort(val), np.sort(test), seed=seed)

    def describe(self, split):
        return (f"train {len(split.train):,} / validation {len(split.val):,} / test "
                f"{len(split.test):,} (the dataset's published split)")


class TatisProtocol(Protocol):
    """90:10 train/test, then K-fold cross-validation of the 90 %."""

    name = "tatis"
    notes = ("The fold model is chosen by its own validation fold; the Tatis et al. "
             "paper chose it by test MAE, which is selection on the test data.",)
    ensemble_words: ClassVar[dict] = {
        "regression": "mean of {k} fold models",
        "classification": "mean probabilities of {k} fold models"}

    def split(self, data, *, seed, n_folds):
        if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
            raise BenchmarkError(f"the tatis protocol needs at least 2 folds, got {n_folds!r}")
        train, _, test = train_val_test_split(
            np.arange(len(data)), sizes=(0.9, 0.0, 0.1), stratify=n_elements(data.X),
            random_state=seed,
        )
        train, test = np.sort(train), np.sort(test)
        if len(train) < 2 * n_folds:
            raise BenchmarkError(f"{len(train)} training rows are too few for {n_folds} folds")
        cv = ElementCountStratifiedKFold(n_splits=int(n_folds), shuffle=True, random_state=seed)
        folds = [(train[tr], train[va]) for tr, va in cv.split(data.X[train])]
        return Split(self.name, train, train[:0], test, folds=folds, seed=seed)

    def _best(self, outcome: FitOutcome) -> int:
        # Chosen on each model's own validation fold, never on the test rows.
        return outcome.task.best(outcome.val_scores)

    def results(self, outcome, data, split):
        task = outcome.task
        y_test = data.y[split.test]
        mean, std = task.average(outcome.predictions)
        best = self._best(outcome)
        k = len(outcome.models)
        fits = split.fits()
        n_params, infos = outcome.n_parameters, outcome.infos
        epochs = [i.get("epochs") for i in infos]
        common = self._common(outcome, split)
        best_word = "highest" if task.higher_is_better else "lowest"
        selected = {"model": outcome.name,
                    "variant": f"fold {best + 1}/{k}, {best_word} validation {task.val_label}",
                    **task.metrics(y_test, outcome.predictions[best]),
                    task.val_column: outcome.val_scores[best],
                    "train_time_s": outcome.train_seconds,
                    "predict_time_s": outcome.predict_seconds[best],
                    "n_parameters": n_params[best], "epochs": epochs[best],
                    "best_epoch": infos[best].get("best_epoch"), "ensemble_std": None,
                    "n_train": len(fits[best][1]), "n_val": len(fits[best][2]), **common}
        ensemble = {"model": f"{outcome.name}-ensemble",
                    "variant": self.ensemble_words[task.name].format(k=k),
                    **task.metrics(y_test, mean),
                    task.val_column: float(np.mean(outcome.val_scores)),
                    "train_time_s": outcome.train_seconds,
                    "predict_time_s": float(sum(outcome.predict_seconds)),
                    "n_parameters": None if any(p is None for p in n_params)
                    else int(sum(n_params)),
                    "epochs": None if any(e is None for e in epochs) else int(sum(epochs)),
                    "best_epoch": None, "ensemble_std": float(std.mean()),
                    "n_train": len(split.train), "n_val": len(split.train), **common}
        columns = {**task.columns(outcome.predictions[best]),
                   **task.columns(mean, "_ensemble"), "y_std_ensemble": std}
        for i, p in enumerate(outcome.predictions):
            columns.update(task.columns(p, f"_fold{i + 1}"))
        return [selected, ensemble], columns, {"selected_fold": best + 1}

    def fitted_model(self, pipelines, outcome):
        kind = FoldEnsembleClassifier if outcome.task.name == "classification" \
            else FoldEnsembleRegressor
        return kind(pipelines, self._best(outcome))

    def describe(self, split):
        return (f"train {len(split.train):,} in {split.n_folds} folds / test "
                f"{len(split.test):,} (90:10 stratified, {split.n_folds}-fold "
                "element-count-stratified CV)")


_PROTOCOLS: dict[str, Protocol] = {
    p.name: p for p in (BRNetProtocol(), TatisProtocol(), PublishedProtocol())
}
#: The evaluation protocols :func:`make_split` knows.
PROTOCOLS = tuple(_PROTOCOLS)


def get_protocol(name: str) -> Protocol:
    """The protocol called ``name`` (see :data:`PROTOCOLS`).

    Parameters
    ----------
    name : str
        ``"brnet"``, ``"tatis"`` or ``"published"``.

    Returns
    -------
    Protocol

    Raises
    ------
    BenchmarkError
        An unknown name.
    """
    try:
        return _PROTOCOLS[name]
    except (KeyError, TypeError):
        raise BenchmarkError(
            f"unknown protocol {name!r}; choose one of {', '.join(PROTOCOLS)}"
        ) from None


def make_split(
    data: BenchmarkData, protocol: str = "brnet", *, seed: int = 1234567, n_folds: int = 10
) -> Split:
    """Split the rows once, as ``protocol`` says.

    Parameters
    ----------
    data : BenchmarkData
    protocol : {"brnet", "tatis", "published"}, default="brnet"
    seed : int, default=1234567
        Seed of the train/test split and of the fold shuffling (for
        ``published``, of the validation part carved where the split has none).
    n_folds : int, default=10
        Folds of the ``tatis`` cross-validation (at least 2).

    Returns
    -------
    Split
    """
    return get_protocol(protocol).split(data, seed=seed, n_folds=n_folds)
