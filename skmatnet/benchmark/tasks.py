"""What a benchmark predicts: a number (regression) or a label (classification).

A :class:`Task` is everything about the target that the rest of the benchmark
must not hard-code: which estimator kind each model is, how a fitted model's
test outputs are taken, which metrics are reported and which one ranks the
models, how fold models are averaged, and the columns of the results table.

``regression``
    Mean absolute error ranks the models (lower is better); RMSE and R² are
    reported beside it. The fold ensemble averages predictions.
``classification``
    ROC-AUC ranks the models (higher is better); accuracy, F1 and log-loss are
    reported beside it. Binary tasks score the second class of the sorted
    labels (``True`` for a boolean target) as the positive one; multiclass
    tasks use one-vs-rest ROC-AUC and macro F1. A model's scores are its
    class probabilities (``predict_proba``) or, for a model without them (an
    SVC), its ``decision_function``: ROC-AUC only needs a ranking, while
    log-loss needs probabilities and is left empty for such a model. The
    fold ensemble averages probabilities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
    roc_auc_score,
)

from .errors import BenchmarkError

__all__ = ["TASKS", "ClassScores", "ClassificationTask", "RegressionTask", "SearchScores", "Task",
           "make_task"]

#: The task names :func:`make_task` knows (``auto`` is resolved from the target).
TASKS = ("auto", "regression", "classification")


@dataclass
class ClassScores:
    """A classifier's outputs on some rows, with columns in the task's class order.

    Attributes
    ----------
    labels : ndarray of shape (n_samples,)
        Predicted labels.
    proba : ndarray of shape (n_samples, n_classes) or None
        Class probabilities; ``None`` for a model without ``predict_proba``.
    decision : ndarray of shape (n_samples,) or (n_samples, n_classes) or None
        The ``decision_function`` of a model without probabilities.
    """

    labels: np.ndarray
    proba: np.ndarray | None = None
    decision: np.ndarray | None = None

    def ranking(self) -> np.ndarray:
        """Scores for ROC-AUC: the positive class's probability (binary) or all columns."""
        if self.proba is not None:
            return self.proba[:, 1] if self.proba.shape[1] == 2 else self.proba
        decision = np.asarray(self.decision, dtype=np.float64)
        if decision.ndim == 1:
            return decision
        # one-vs-rest AUC wants rows that sum to 1: a softmax keeps each row's order
        shifted = np.exp(decision - decision.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)


def class_scores(model: Any, X: Any, classes: np.ndarray) -> ClassScores:
    """Labels and probabilities (or decision values) of a fitted classifier, in ``classes`` order.

    Parameters
    ----------
    model : fitted classifier
        Its ``classes_`` must be among ``classes``.
    X : array-like
    classes : ndarray
        The task's classes, sorted.

    Returns
    -------
    ClassScores
    """
    labels = np.asarray(model.predict(X))
    own = np.asarray(model.classes_)
    if hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(X), dtype=np.float64)
        full = np.zeros((len(labels), len(classes)))
        # a fold model may have seen fewer classes than the task has
        full[:, np.searchsorted(classes, own)] = proba
        # float32 softmax rows miss 1 by ~1e-7; log_loss warns about rows that do not sum to 1
        full /= np.maximum(full.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)
        return ClassScores(labels, proba=full)
    decision = np.asarray(model.decision_function(X), dtype=np.float64)
    if decision.ndim == 2 and len(own) != len(classes):
        raise BenchmarkError(f"{type(model).__name__} saw {len(own)} of the {len(classes)} "
                             "classes and has no predict_proba to fill in the others")
    return ClassScores(labels, decision=decision)


class Task:
    """The target's kind; see the module docstring."""

    name = ""
    #: The ``NetworkSpec`` field naming each network's estimator for this task.
    estimator_kind = ""
    #: The table column that ranks the models, and whether higher is better.
    headline = ""
    higher_is_better = False
    #: The validation metric (column ``val_<metric>``) that selects fold models and searches,
    #: and its name in words.
    val_metric = ""
    val_label = ""
    #: Columns of ``results.csv``, in order.
    table_columns: tuple[str, ...] = ()
    #: Columns of the human-readable tables: (column, heading, format).
    shown: tuple[tuple[str, str, str], ...] = ()

    @property
    def val_column(self) -> str:
        """str : The results column holding the validation metric."""
        return f"val_{self.val_metric}"

    @property
    def headline_label(self) -> str:
        """str : The headline metric in words (``test MAE``)."""
        return next(heading for column, heading, _ in self.shown if column == self.headline)

    def describe_target(self, target: str) -> str:
        """The target in words, for the results page.

        Parameters
        ----------
        target : str
            The target column's name.

        Returns
        -------
        str
        """
        return target

    def outputs(self, model: Any, X: Any) -> Any:
        """A fitted model's outputs on ``X`` (what :meth:`metrics` and :meth:`columns` take).

        Parameters
        ----------
        model : object
            A fitted model.
        X : array-like
            The rows to predict.

        Returns
        -------
        ndarray or ClassScores
            Predictions (regression), or labels with probabilities (classification).
        """
        raise NotImplementedError

    def metrics(self, y_true: np.ndarray, outputs: Any) -> dict:
        """The ``test_*`` metrics of ``outputs`` against ``y_true``.

        Parameters
        ----------
        y_true : ndarray
            The true targets of the rows.
        outputs : ndarray or ClassScores
            What :meth:`outputs` returned: predictions, or labels with probabilities.

        Returns
        -------
        dict
            Metric name -> value.
        """
        raise NotImplementedError

    def val_score(self, y_true: np.ndarray, outputs: Any) -> float:
        """The validation metric of ``outputs``.

        Parameters
        ----------
        y_true : ndarray
            The true targets of the rows.
        outputs : ndarray or ClassScores
            What :meth:`outputs` returned: predictions, or labels with probabilities.

        Returns
        -------
        float
        """
        raise NotImplementedError

    def loss(self, model: Any, X: Any, y: Any) -> float:
        """A fitted model's validation loss (lower is better): what the searches minimise.

        Parameters
        ----------
        model : object
            A fitted model.
        X : array-like
            The validation rows.
        y : array-like
            Their true targets.

        Returns
        -------
        float
        """
        return self.score_of(self.val_score(np.asarray(y), self.outputs(model, X)))

    def score_of(self, loss: float) -> float:
        """The validation metric of a search loss (and back: the map is its own inverse).

        Parameters
        ----------
        loss : float
            A search loss (or a validation metric).

        Returns
        -------
        float
        """
        return 1.0 - loss if self.higher_is_better else loss

    def best(self, scores: list[float]) -> int:
        """Index of the best validation score.

        Parameters
        ----------
        scores : list of float
            Validation scores; NaN or infinite ones count as the worst.

        Returns
        -------
        int
        """
        values = np.asarray(scores, dtype=np.float64)
        values = np.where(np.isfinite(values), values, -np.inf if self.higher_is_better else np.inf)
        return int(np.argmax(values) if self.higher_is_better else np.argmin(values))

    def average(self, outputs: list) -> tuple[Any, np.ndarray]:
        """The fold ensemble's outputs and the per-row spread of the fold models.

        Parameters
        ----------
        outputs : list
            The outputs (:meth:`outputs`) of each fold model on the same rows.

        Returns
        -------
        outputs : ndarray or ClassScores
            The ensemble's outputs.
        spread : ndarray
            The per-row standard deviation of the fold models.
        """
        raise NotImplementedError

    def columns(self, outputs: Any, suffix: str = "") -> dict:
        """Prediction-file columns of ``outputs`` (``y_pred`` and, for labels, scores).

        Parameters
        ----------
        outputs : ndarray or ClassScores
            What :meth:`outputs` returned: predictions, or labels with probabilities.
        suffix : str, default=""
            Appended to every column name (e.g. a fold's).

        Returns
        -------
        dict
            Column name -> values.
        """
        raise NotImplementedError

    def check_split(self, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
        """Raise :class:`BenchmarkError` when the split cannot be scored.

        Parameters
        ----------
        y : ndarray
            The targets of all rows.
        train, test : ndarray of int
            The training and test rows.
        """

    def config(self) -> dict:
        """What decides a result (part of each model's resume fingerprint)."""
        return {"task": self.name}


class RegressionTask(Task):
    """A numeric target, ranked by test MAE."""

    name = "regression"
    estimator_kind = "regressor"
    headline = "test_mae"
    higher_is_better = False
    val_metric = "mae"
    val_label = "MAE"
    table_columns = (
        "model", "variant", "test_mae", "test_rmse", "test_r2", "val_mae", "train_time_s",
        "predict_time_s", "n_parameters", "epochs", "best_epoch", "ensemble_std",
        "paper_mae", "paper_train_time_s", "paper_source", "n_train", "n_val", "n_test",
        "details",
    )
    shown = (
        ("model", "model", "s"),
        ("test_mae", "test MAE", ".4f"),
        ("paper_mae", "paper MAE", ".3f"),
        ("test_rmse", "test RMSE", ".4f"),
        ("test_r2", "test R²", ".3f"),
        ("train_time_s", "train time (s)", ",.0f"),
        ("paper_train_time_s", "paper train time (s)", ",.0f"),
        ("predict_time_s", "predict time (s)", ".2f"),
        ("n_parameters", "parameters", ",d"),
        ("epochs", "epochs", "d"),
    )

    def outputs(self, model, X):
        return np.asarray(model.predict(X), dtype=np.float64).ravel()

    def metrics(self, y_true, outputs):
        return {
            "test_mae": float(mean_absolute_error(y_true, outputs)),
            "test_rmse": float(math.sqrt(mean_squared_error(y_true, outputs))),
            "test_r2": float(r2_score(y_true, outputs)) if len(y_true) > 1 else float("nan"),
        }

    def val_score(self, y_true, outputs):
        return float(mean_absolute_error(y_true, outputs))

    def average(self, outputs):
        stacked = np.stack(outputs)
        return stacked.mean(axis=0), stacked.std(axis=0)

    def columns(self, outputs, suffix=""):
        return {f"y_pred{suffix}": outputs}


class ClassificationTask(Task):
    """A label target, ranked by test ROC-AUC.

    Parameters
    ----------
    classes : array-like
        Every label of the target (sorted here).
    threshold : float or None
        The threshold that made the labels (``target > threshold``), if any.
    """

    name = "classification"
    estimator_kind = "classifier"
    headline = "test_roc_auc"
    higher_is_better = True
    val_metric = "roc_auc"
    val_label = "ROC-AUC"
    table_columns = (
        "model", "variant", "test_roc_auc", "test_accuracy", "test_f1", "test_log_loss",
        "val_roc_auc", "train_time_s", "predict_time_s", "n_parameters", "epochs", "best_epoch",
        "ensemble_std", "n_train", "n_val", "n_test", "details",
    )
    shown = (
        ("model", "model", "s"),
        ("test_roc_auc", "test ROC-AUC", ".4f"),
        ("test_accuracy", "accuracy", ".4f"),
        ("test_f1", "F1", ".4f"),
        ("test_log_loss", "log-loss", ".4f"),
        ("train_time_s", "train time (s)", ",.0f"),
        ("predict_time_s", "predict time (s)", ".2f"),
        ("n_parameters", "parameters", ",d"),
        ("epochs", "epochs", "d"),
    )

    def __init__(self, classes: Any, threshold: float | None = None):
        self.classes = np.unique(np.asarray(classes))
        self.threshold = threshold

    @property
    def binary(self) -> bool:
        """bool : Whether there are two classes."""
        return len(self.classes) == 2

    def describe_target(self, target):
        shown = ", ".join(map(str, self.classes))
        positive = f"; positive class {self.classes[1]}" if self.binary else ""
        return f"{target} (classes {shown}{positive})"

    def outputs(self, model, X):
        return class_scores(model, X, self.classes)

    def _auc(self, y_true, outputs: ClassScores) -> float:
        present = np.unique(y_true)
        if len(present) < 2:
            return float("nan")
        ranking = outputs.ranking()
        if self.binary:
            return float(roc_auc_score(y_true == self.classes[1], ranking))
        if len(present) < len(self.classes):
            return float("nan")  # one-vs-rest AUC needs every class among the rows
        return float(roc_auc_score(y_true, ranking, multi_class="ovr", labels=self.classes))

    def metrics(self, y_true, outputs):
        if self.binary:
            f1 = f1_score(y_true, outputs.labels, pos_label=self.classes[1], average="binary",
                          zero_division=0.0)
        else:
            f1 = f1_score(y_true, outputs.labels, average="macro", labels=self.classes,
                          zero_division=0.0)
        if outputs.proba is not None:
            loss = float(log_loss(y_true, outputs.proba, labels=self.classes))
        else:
            loss = float("nan")
        return {
            "test_roc_auc": self._auc(y_true, outputs),
            "test_accuracy": float(accuracy_score(y_true, outputs.labels)),
            "test_f1": float(f1),
            "test_log_loss": loss,
        }

    def val_score(self, y_true, outputs):
        return self._auc(y_true, outputs)

    def average(self, outputs):
        if all(o.proba is not None for o in outputs):
            stacked = np.stack([o.proba for o in outputs])
            mean = stacked.mean(axis=0)
            labels = self.classes[np.argmax(mean, axis=1)]
            # the spread of the positive class's (binary) or the predicted class's probability
            column = np.ones(len(mean), dtype=np.int64) if self.binary else np.argmax(mean, 1)
            spread = stacked[:, np.arange(len(mean)), column].std(axis=0)
            return ClassScores(labels, proba=mean), spread
        decision = np.stack([np.asarray(o.decision if o.proba is None else o.ranking())
                             for o in outputs]).mean(axis=0)
        if decision.ndim == 1:
            labels = self.classes[(decision > 0).astype(np.int64)]
        else:
            labels = self.classes[np.argmax(decision, axis=1)]
        return ClassScores(labels, decision=decision), np.zeros(len(labels))

    def columns(self, outputs, suffix=""):
        columns = {f"y_pred{suffix}": outputs.labels}
        if outputs.proba is not None:
            for i, label in enumerate(self.classes):
                columns[f"proba_{label}{suffix}"] = outputs.proba[:, i]
        elif outputs.decision is not None and np.ndim(outputs.decision) == 1:
            columns[f"decision{suffix}"] = outputs.decision
        return columns

    def check_split(self, y, train, test):
        missing = sorted(set(np.unique(y[test]).tolist()) - set(np.unique(y[train]).tolist()),
                         key=str)
        if missing:
            raise BenchmarkError(
                f"the test rows have classes the training rows lack: {missing}; every class "
                "needs rows in both parts (too few rows of that class?)"
            )
        if len(np.unique(y[train])) < 2:
            raise BenchmarkError("the training rows hold a single class; a classifier needs two")

    def config(self):
        return {"task": self.name, "classes": [str(c) for c in self.classes],
                "threshold": self.threshold}


class SearchScores:
    """``best_score`` and ``loss_name`` of a search result that has ``best_loss`` and ``task``."""

    best_loss: float
    task: Task

    @property
    def best_score(self) -> float:
        """float : The best configuration's validation metric (MAE, or ROC-AUC for labels)."""
        return self.task.score_of(self.best_loss)

    @property
    def loss_name(self) -> str:
        """str : The name of that metric (``MAE``, ``ROC-AUC``)."""
        return self.task.val_label


def make_task(name: str, y: np.ndarray, threshold: float | None = None) -> Task:
    """The task of a resolved target (``name`` is ``regression`` or ``classification``).

    Parameters
    ----------
    name : {"regression", "classification"}
        The task's kind.
    y : ndarray
        The target values (labels, for classification: every label they hold
        becomes a class of the task).
    threshold : float or None, default=None
        Classification: the threshold that made the labels, if any (recorded).

    Returns
    -------
    Task

    Raises
    ------
    BenchmarkError
        An unknown ``name``.
    """
    if name == "regression":
        return RegressionTask()
    if name == "classification":
        return ClassificationTask(y, threshold)
    raise BenchmarkError(f"task must be one of {', '.join(TASKS)}, got {name!r}")
