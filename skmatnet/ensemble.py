"""Deep ensembles: several fits of one regressor, their mean and their spread.

:class:`MatNetEnsembleRegressor` fits ``n_estimators`` copies of a regressor
that differ by seed (``members="seed"``), by bootstrap sample of the rows
(``"bootstrap"``), or by cross-validation fold (``cv=``: one member per fold,
trained on the other folds and, for skmatnet networks, early-stopped on its
own fold: the Tatis protocol's fold ensemble). ``predict`` is the members'
mean; ``predict(X, return_std=True)`` adds their standard deviation, the
spread of the ensemble, as :class:`~sklearn.gaussian_process.GaussianProcessRegressor`
returns one. ``calibrate=True`` rescales that spread by one factor fitted on
held-out rows, so that Gaussian intervals around the mean hold on them
(:func:`fit_std_scale`; :mod:`skmatnet.metrics` measures how well), and keeps
those rows' errors in units of a scale set by the spread:
:meth:`MatNetEnsembleRegressor.predict_interval` takes its intervals from them
(split conformal prediction), so they hold for the asked share of new rows
whatever the shape of the errors, where Gaussian intervals of one rescaled spread
are too narrow for errors with heavy tails.

:class:`FoldEnsembleRegressor` and :class:`FoldEnsembleClassifier` hold fold
models fitted already (the benchmark's Tatis protocol fits them fold by fold);
they are also importable from :mod:`skmatnet.benchmark`.
"""

from __future__ import annotations

import math
import numbers
import os
import warnings

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from scipy.sparse import issparse
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    RegressorMixin,
    clone,
)
from sklearn.model_selection import check_cv
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted, column_or_1d

__all__ = [
    "FoldEnsembleClassifier",
    "FoldEnsembleRegressor",
    "MatNetEnsembleRegressor",
    "fit_std_scale",
]


def fit_std_scale(y_true, y_mean, y_std) -> float:
    """The factor ``s`` that makes ``s * y_std`` the best-calibrated Gaussian spread for these rows.

    ``s`` minimises the miscalibration area (:func:`skmatnet.metrics.miscalibration_area`)
    of the held-out rows: the Gaussian intervals of every level then hold as
    nearly as one factor can make them. The search starts from the factor that
    makes the 50% intervals hold exactly (the median of ``|error| / std`` over
    0.6745) and tries factors up to 16 times smaller and larger around it.

    Not the likelihood-optimal ``sqrt(mean((error / std)**2))``: a few rows on
    which the members agree almost exactly dominate that mean. Measured on OQMD
    band gaps, where five BRNets agree to ~1e-6 eV on many metals, it came out
    at 764 and made every interval far too wide (95% intervals held for 98.6% of
    the test rows, miscalibration area 0.48).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        The true targets of the held-out rows.
    y_mean : array-like of shape (n_samples,)
        The predicted means (the members' mean) of those rows.
    y_std : array-like of shape (n_samples,)
        The predicted standard deviations (the members' spread) of those rows; zeros
        are raised to the smallest positive float.

    Returns
    -------
    float
        The factor; 1.0 when there is no error at all on these rows.
    """
    from .metrics import miscalibration_area

    y_true, y_mean, y_std = (np.asarray(a, dtype=np.float64).ravel()
                             for a in (y_true, y_mean, y_std))
    y_std = np.maximum(y_std, np.finfo(np.float64).tiny)
    z = np.abs(y_true - y_mean) / y_std
    start = float(np.median(z)) / 0.6744897501960817
    if not np.isfinite(start) or start <= 0:
        return 1.0  # no error at all on these rows: nothing to scale by
    candidates = start * 2.0 ** (np.arange(-32, 33) / 8)
    areas = [miscalibration_area(y_true, y_mean, s * y_std) for s in candidates]
    return float(candidates[int(np.argmin(areas))])


def _accepts_validation(estimator) -> bool:
    from ._base import MatNetBase

    last = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    return isinstance(last, MatNetBase)


def _fit_member(estimator, X, y, X_val, y_val, threads):
    """Fit one member (in a worker process when ``n_jobs`` > 1), with a bounded thread pool."""
    from threadpoolctl import threadpool_limits

    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        if X_val is not None and _accepts_validation(estimator):
            if hasattr(estimator, "steps"):
                # the validation rows go through the same preprocessing as the training rows
                head = estimator[:-1].fit(X, y)
                estimator.steps[-1][1].fit(head.transform(X), y, X_val=head.transform(X_val),
                                           y_val=y_val)
            else:
                estimator.fit(X, y, X_val=X_val, y_val=y_val)
        else:
            estimator.fit(X, y)
    return estimator


class MatNetEnsembleRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """A deep ensemble of a regressor: the mean of its members, with their spread.

    Parameters
    ----------
    estimator : regressor or None, default=None
        The member to copy: any skmatnet regressor (``None``:
        ``BRNetRegressor()``), a ``Pipeline`` ending in one, or any
        scikit-learn regressor. Members get their own ``random_state``.
    n_estimators : int, default=5
        Number of members (ignored with ``cv``: one per fold).
    members : {"seed", "bootstrap"}, default="seed"
        ``"seed"``: every member sees all rows, with another seed (weights,
        shuffling, validation split). ``"bootstrap"``: each also trains on a
        bootstrap sample of the rows (drawn with replacement).
    cv : int, cross-validation splitter or None, default=None
        One member per fold, trained on the other folds; a skmatnet network
        early-stops on its own fold. ``calibrate`` then uses the out-of-fold
        predictions.
    calibrate : bool, default=False
        Rescale the spread on held-out rows (:func:`fit_std_scale`): the
        ``X_val, y_val`` given to :meth:`fit`, else the out-of-fold
        predictions of a ``cv`` ensemble; without either :meth:`fit` raises.
        Those rows' errors, in units of a scale set by the spread, are kept
        for :meth:`predict_interval`.
    n_jobs : int or None, default=None
        Members trained in parallel (joblib processes). Each worker gets
        ``os.cpu_count() // n_jobs`` threads (torch and BLAS), so the machine
        is not oversubscribed.
    random_state : int or None, default=None
        Seeds the members' seeds and the bootstrap samples.

    Attributes
    ----------
    estimators_ : list of fitted regressors
    std_scale_ : float
        The calibration factor of the spread (1.0 without ``calibrate``).
    interval_scale_ : tuple of two floats or None
        With ``calibrate``: ``(a, b)``, a row's scale for :meth:`predict_interval`
        is ``a * std + b`` (the rescaled spread plus the held-out rows' mean
        absolute error; ``(0, 1)``, one width for all, for a ``cv`` ensemble).
        ``None`` without ``calibrate``.
    calibration_scores_ : ndarray of shape (n_held_out,) or None
        With ``calibrate``: the held-out rows' absolute errors divided by
        their scale, sorted; :meth:`predict_interval` takes its widths from
        them. ``None`` without ``calibrate``.
    n_features_in_ : int

    Examples
    --------
    >>> from skmatnet import BRNetRegressor, MatNetEnsembleRegressor  # doctest: +SKIP
    >>> ensemble = MatNetEnsembleRegressor(BRNetRegressor(max_time=60), n_estimators=5,
    ...                                    calibrate=True)  # doctest: +SKIP
    >>> ensemble.fit(X, y, X_val=X_val, y_val=y_val)  # doctest: +SKIP
    >>> mean, std = ensemble.predict(X_test, return_std=True)  # doctest: +SKIP
    >>> bounds = ensemble.predict_interval(X_test, coverage=0.9)  # doctest: +SKIP
    """

    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's declaration
        "estimator": [HasMethods(["fit", "predict"]), None],
        "n_estimators": [Interval(numbers.Integral, 1, None, closed="left")],
        "members": [StrOptions({"seed", "bootstrap"})],
        "cv": ["cv_object", None],
        "calibrate": ["boolean"],
        "n_jobs": [numbers.Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator=None, n_estimators=5, *, members="seed", cv=None,
                 calibrate=False, n_jobs=None, random_state=None):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.members = members
        self.cv = cv
        self.calibrate = calibrate
        self.n_jobs = n_jobs
        self.random_state = random_state

    # -- fitting

    def _template(self):
        if self.estimator is not None:
            return self.estimator
        from .estimators import BRNetRegressor

        return BRNetRegressor()

    def _member(self, seed: int):
        member = clone(self._template())
        keys = [k for k in member.get_params() if k == "random_state"
                or k.endswith("__random_state")]
        member.set_params(**dict.fromkeys(keys, int(seed)))
        return member

    def fit(self, X, y, X_val=None, y_val=None):
        """Fit every member.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            What the member takes (element fractions; formulas for a pipeline).
        y : array-like of shape (n_samples,)
            One target (a column vector is flattened, with a warning).
        X_val, y_val : array-like, optional
            Held-out rows: early stopping of skmatnet members (not with
            ``cv``, whose members stop on their own fold) and the rows
            ``calibrate`` fits the spread on.

        Returns
        -------
        self
        """
        self._validate_params()
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together")
        if self.calibrate and X_val is None and self.cv is None:
            raise ValueError(
                "calibrate=True needs held-out rows: pass X_val and y_val to fit, or set cv= "
                "to calibrate on out-of-fold predictions"
            )
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None")
        if issparse(X):
            raise TypeError(f"{type(self).__name__} does not take sparse input: pass a dense "
                            "array (element fractions are dense)")
        if not isinstance(X, (list, tuple, np.ndarray)) and not hasattr(X, "iloc"):
            X = np.asarray(X)  # array-likes (lists of formulas stay lists: rows of Python objects)
        y = column_or_1d(y, warn=True)  # one target: the spread is per row
        n = len(y)
        if _num_samples(X) != n:
            raise ValueError(f"X and y have different numbers of rows: {_num_samples(X)} and {n}")
        rng = np.random.RandomState(self.random_state)

        def take(rows):
            return _safe_indexing(X, rows)

        jobs, folds = [], []
        if self.cv is not None:
            cv = check_cv(self.cv)
            for train, held in cv.split(X, y):
                seed = rng.randint(2**31 - 1)
                folds.append(held)
                jobs.append((self._member(seed), take(train), y[train], take(held), y[held]))
        else:
            for _ in range(self.n_estimators):
                seed = rng.randint(2**31 - 1)
                rows = (rng.randint(0, n, n) if self.members == "bootstrap"
                        else np.arange(n))
                jobs.append((self._member(seed), take(rows), y[rows], X_val, y_val))
        workers = 1 if self.n_jobs is None else (os.cpu_count() or 1
                                                 if self.n_jobs < 0 else self.n_jobs)
        threads = max(1, (os.cpu_count() or 1) // workers) if workers > 1 else None
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(member, Xm, ym, Xv, yv, threads)
            for member, Xm, ym, Xv, yv in jobs)
        self.n_features_in_ = getattr(self.estimators_[0], "n_features_in_", None)
        self.std_scale_ = 1.0
        self.calibration_scores_ = self.interval_scale_ = None
        if self.calibrate:
            if X_val is not None:
                mean, spreads = self._mean_std(X_val)
                self._calibrate(np.asarray(y_val, dtype=np.float64).ravel() - mean, spreads,
                                adaptive=True)
            else:
                # At a training row four of five members saw the row, so the spread there is
                # not the spread at a new row: out-of-fold intervals get one width for all.
                self._calibrate(*self._out_of_fold_errors(take, y, folds), adaptive=False)
        return self

    def _calibrate(self, errors: np.ndarray, spreads: np.ndarray, adaptive: bool) -> None:
        """Set ``std_scale_``, ``interval_scale_`` and ``calibration_scores_`` from held-out
        errors and the members' spreads at those rows."""
        self.std_scale_ = fit_std_scale(errors, np.zeros_like(errors), spreads)
        scaled = self.std_scale_ * spreads
        # The spread plus the mean absolute error: rows where the members disagree get wider
        # intervals, and rows where they agree almost exactly but are wrong (metals predicted
        # at a gap of 0 by all) cannot blow up the scores, and with them every interval: with
        # the median spread in place of the mean error, the 95% intervals of band gaps
        # fine-tuned from OQMD were several eV wide (docs/uncertainty.md).
        offset = float(np.mean(np.abs(errors))) if adaptive else 0.0
        self.interval_scale_ = (1.0, offset) if offset > 0 else (0.0, 1.0)
        weight, offset = self.interval_scale_
        self.calibration_scores_ = np.sort(np.abs(errors) / (weight * scaled + offset))

    def _out_of_fold_errors(self, take, y, folds) -> tuple[np.ndarray, np.ndarray]:
        """The out-of-fold errors of a ``cv`` ensemble, and the ensemble's spread at those rows.

        Each row's error is that of the one member that did not train on it;
        its spread is the whole ensemble's at that row. The other members saw
        the row, so that spread is smaller than at a new row and tracks the one
        member's error: the reason a ``cv`` ensemble's intervals do not scale
        with it.
        """
        errors, spreads = [], []
        for member, held in zip(self.estimators_, folds, strict=True):
            X_held = take(held)
            errors.append(y[held] - np.ravel(member.predict(X_held)))
            spreads.append(self._mean_std(X_held)[1])
        return np.concatenate(errors), np.concatenate(spreads)

    # -- prediction

    def _member_predictions(self, X) -> np.ndarray:
        check_is_fitted(self, "estimators_")
        return np.stack([np.asarray(m.predict(X), dtype=np.float64).ravel()
                         for m in self.estimators_])

    def _mean_std(self, X) -> tuple[np.ndarray, np.ndarray]:
        predictions = self._member_predictions(X)
        return predictions.mean(axis=0), predictions.std(axis=0)

    def predict(self, X, return_std: bool = False):
        """The members' mean prediction, and with ``return_std`` their (calibrated) spread.

        Parameters
        ----------
        X : array-like
        return_std : bool, default=False
            Also return the standard deviation over the members, times
            ``std_scale_``. Passes through ``Pipeline.predict(X, return_std=True)``.

        Returns
        -------
        mean : ndarray of shape (n_samples,)
        std : ndarray of shape (n_samples,), only with ``return_std=True``
        """
        mean, std = self._mean_std(X)
        return (mean, std * self.std_scale_) if return_std else mean

    def predict_interval(self, X, coverage: float = 0.95) -> np.ndarray:
        """Lower and upper bounds that hold for ``coverage`` of new rows.

        Calibrated (``calibrate=True``): split conformal prediction. Each row's
        bound is ``mean ± q * (a * std + b)``, with ``std`` the rescaled spread of
        ``predict(X, return_std=True)``, ``(a, b)`` the ``interval_scale_`` and ``q``
        the ``ceil((n + 1) * coverage)``-th smallest of the ``n`` held-out rows'
        ``|error| / (a * std + b)`` (``calibration_scores_``). If new rows are
        drawn like the held-out ones, the intervals hold for at least ``coverage``
        of them, however heavy the tails of the errors. With ``X_val`` the scale
        is the spread plus the held-out rows' mean absolute error (``a = 1``), so
        rows on which the members disagree get wider intervals; with ``cv`` it is
        one width for all (``a = 0, b = 1``): the spread at a training row says
        little of the spread at a new one. When ``n`` is too small for the
        coverage (``(n + 1) * coverage > n``) the bounds are infinite, with a
        warning.

        Not calibrated (or saved before 0.3): the Gaussian interval
        ``mean ± z * std`` of ``predict(X, return_std=True)``, which rarely holds
        as stated (members agree more than they are right, and errors have
        heavier tails than a Gaussian).

        Parameters
        ----------
        X : array-like
        coverage : float in (0, 1), default=0.95
            Share of new rows the intervals should hold for.

        Returns
        -------
        ndarray of shape (n_samples, 2)
            Lower and upper bound of each row.
        """
        if not (isinstance(coverage, numbers.Real) and 0 < coverage < 1):
            raise ValueError(f"coverage must be a number in (0, 1), got {coverage!r}")
        mean, std = self.predict(X, return_std=True)
        scores = getattr(self, "calibration_scores_", None)
        if scores is None:
            return np.column_stack([mean + side * stats.norm.ppf(0.5 + coverage / 2) * std
                                    for side in (-1, 1)])
        rank = math.ceil((len(scores) + 1) * coverage)
        if rank > len(scores):
            warnings.warn(f"{len(scores)} held-out rows are too few for {coverage:.0%} "
                          f"intervals (it takes {math.ceil(coverage / (1 - coverage))}): "
                          "the bounds are infinite", UserWarning, stacklevel=2)
            half = np.full(len(mean), np.inf)
        else:
            weight, offset = self.interval_scale_
            # a few units in the last place wider, and the bounds rounded outward: a held-out
            # row whose score is the rank-th (its error divided by its scale, then multiplied
            # back here) must stay inside, as conformal prediction promises, whatever the
            # rounding of the division, the product and the sum (it fell one place outside)
            eps = np.finfo(np.result_type(mean, std)).eps
            half = float(scores[rank - 1]) * (weight * std + offset) * (1 + 4 * eps)
        return np.column_stack([np.nextafter(mean - half, -np.inf),
                                np.nextafter(mean + half, np.inf)])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = getattr(self, "random_state", 0) is None
        return tags


# ---------------------------------------------------------------------------
# Fold ensembles: fold models fitted already (the benchmark's tatis protocol)
# ---------------------------------------------------------------------------


class _FoldEnsemble(BaseEstimator):
    """What both fold ensembles share: the fitted fold models and the selected one."""

    def __init__(self, estimators: list, selected: int = 0):
        self.estimators = estimators
        self.selected = selected

    def __sklearn_is_fitted__(self) -> bool:
        return True

    @property
    def selected_estimator(self):
        """The fold model chosen on its own validation fold."""
        return self.estimators[self.selected]

    def fit(self, X, y=None):
        """Nothing to do: the fold models are fitted already.

        Parameters
        ----------
        X : array-like
            Ignored.
        y : array-like or None, default=None
            Ignored.

        Returns
        -------
        self
        """
        return self


class FoldEnsembleRegressor(_FoldEnsemble, MatNetEnsembleRegressor):
    """The fitted fold models of a cross-validation, used together.

    A :class:`skmatnet.MatNetEnsembleRegressor` whose members are fitted
    already (by the benchmark, fold by fold): ``predict`` and
    ``predict(X, return_std=True)`` are that class's, uncalibrated.

    Parameters
    ----------
    estimators : list of fitted estimators
        One per fold.
    selected : int, default=0
        Index of the fold model chosen on its own validation fold.

    Examples
    --------
    >>> from skmatnet.benchmark import load_fitted_model  # doctest: +SKIP
    >>> ensemble = load_fitted_model("results_dir", "brnet")  # doctest: +SKIP
    >>> mean, std = ensemble.predict(["Fe2O3"], return_std=True)  # doctest: +SKIP
    >>> ensemble.selected_estimator.predict(["Fe2O3"])  # doctest: +SKIP
    """

    std_scale_ = 1.0

    @property
    def estimators_(self) -> list:
        """list : The fold models (what :class:`MatNetEnsembleRegressor` predicts with)."""
        return self.estimators


class FoldEnsembleClassifier(ClassifierMixin, _FoldEnsemble):
    """The fitted fold models of a cross-validation of a classifier, used together.

    ``predict_proba`` averages the fold models' probabilities (their
    ``decision_function`` for models without probabilities, such as an SVC)
    and ``predict`` takes the most probable class.

    Parameters
    ----------
    estimators : list of fitted classifiers
        One per fold, all with the same ``classes_``.
    selected : int, default=0
        Index of the fold model chosen on its own validation fold.
    """

    @property
    def classes_(self) -> np.ndarray:
        """ndarray : The labels, as the fold models know them."""
        return np.asarray(self.estimators[0].classes_)

    def _has_proba(self) -> bool:
        return all(hasattr(m, "predict_proba") for m in self.estimators)

    def predict_proba(self, X):
        """Mean of the fold models' class probabilities.

        Parameters
        ----------
        X : array-like
            The rows, as the fold models take them.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if not self._has_proba():
            raise AttributeError("the fold models give no probabilities; use decision_function")
        return np.mean([np.asarray(m.predict_proba(X), dtype=np.float64)
                        for m in self.estimators], axis=0)

    def decision_function(self, X):
        """Mean of the fold models' decision values (models without probabilities).

        Parameters
        ----------
        X : array-like
            The rows, as the fold models take them.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        return np.mean([np.asarray(m.decision_function(X), dtype=np.float64)
                        for m in self.estimators], axis=0)

    def predict(self, X):
        """The class with the highest mean probability (or decision value).

        Parameters
        ----------
        X : array-like
            The rows, as the fold models take them.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        if self._has_proba():
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        decision = self.decision_function(X)
        index = (decision > 0).astype(np.int64) if decision.ndim == 1 else decision.argmax(1)
        return self.classes_[index]
