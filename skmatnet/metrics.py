"""How far to trust predicted uncertainties: calibration metrics for a mean and a spread.

Every function takes the true values, the predicted means and the predicted
standard deviations (``model.predict(X, return_std=True)``) and reads the
spread as a Gaussian: the central interval at level ``p`` is
``mean ± z((1 + p) / 2) * std``. The formulas are few and written here once,
each tested against values worked out by hand; uncertainty-toolbox defines the
same quantities but pulls in plotting and geometry packages for them.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = [
    "calibration_curve",
    "error_std_spearman",
    "gaussian_nll",
    "interval_coverage",
    "miscalibration_area",
    "plot_calibration",
]


def _check(y_true, y_mean, y_std) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y_true, y_mean, y_std = (np.asarray(a, dtype=np.float64).ravel()
                             for a in (y_true, y_mean, y_std))
    if not len(y_true) == len(y_mean) == len(y_std):
        raise ValueError(f"y_true, y_mean and y_std must have the same length, got "
                         f"{len(y_true)}, {len(y_mean)} and {len(y_std)}")
    if len(y_true) == 0:
        raise ValueError("no rows to score")
    for name, values in (("y_true", y_true), ("y_mean", y_mean), ("y_std", y_std)):
        bad = np.flatnonzero(~np.isfinite(values))
        if len(bad):
            raise ValueError(f"{name} has a non-finite value at row {bad[0]}: {values[bad[0]]}")
    negative = np.flatnonzero(y_std <= 0)
    if len(negative):
        raise ValueError(f"y_std must be positive; row {negative[0]} has {y_std[negative[0]]}")
    return y_true, y_mean, y_std


def interval_coverage(y_true, y_mean, y_std, level: float = 0.95) -> float:
    """Share of the rows inside their central Gaussian interval at ``level``.

    For calibrated uncertainties it is close to ``level`` (0.68 for one
    standard deviation, 0.95 for 1.96 of them).

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
    level : float in (0, 1), default=0.95

    Returns
    -------
    float
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    y_true, y_mean, y_std = _check(y_true, y_mean, y_std)
    half_width = stats.norm.ppf(0.5 + level / 2) * y_std
    return float(np.mean(np.abs(y_true - y_mean) <= half_width))


def calibration_curve(y_true, y_mean, y_std, n_levels: int = 99) -> tuple[np.ndarray, np.ndarray]:
    """Expected against observed coverage of the central intervals, at evenly spaced levels.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        True values, predicted means and predicted standard deviations.
    n_levels : int, default=99
        Levels strictly between 0 and 1, evenly spaced (0 and 1 are added).

    Returns
    -------
    expected : ndarray of shape (n_levels + 2,)
        The levels, from 0 to 1.
    observed : ndarray of shape (n_levels + 2,)
        The share of rows inside each level's interval.
    """
    y_true, y_mean, y_std = _check(y_true, y_mean, y_std)
    expected = np.linspace(0.0, 1.0, n_levels + 2)
    # a row is inside the level-p interval when p >= 2 * Phi(|z|) - 1
    needed = 2 * stats.norm.cdf(np.abs(y_true - y_mean) / y_std) - 1
    observed = np.searchsorted(np.sort(needed), expected, side="right") / len(y_true)
    observed[0], observed[-1] = 0.0, 1.0
    return expected, observed


def miscalibration_area(y_true, y_mean, y_std, n_levels: int = 99) -> float:
    """Area between the calibration curve and the diagonal (0: calibrated; at most 0.5).

    Computed with the trapezoid rule over the levels of :func:`calibration_curve`.
    Too narrow and too wide intervals both raise it.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        True values, predicted means and predicted standard deviations.
    n_levels : int, default=99
        Levels strictly between 0 and 1, evenly spaced (0 and 1 are added).

    Returns
    -------
    float
    """
    expected, observed = calibration_curve(y_true, y_mean, y_std, n_levels)
    return float(np.trapezoid(np.abs(observed - expected), expected))


def gaussian_nll(y_true, y_mean, y_std) -> float:
    """Mean negative log-likelihood of the true values under ``Normal(mean, std)``.

    Lower is better; it rewards both small errors and spreads that match them.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        True values, predicted means and predicted standard deviations.

    Returns
    -------
    float
    """
    y_true, y_mean, y_std = _check(y_true, y_mean, y_std)
    z = (y_true - y_mean) / y_std
    return float(np.mean(0.5 * np.log(2 * np.pi) + np.log(y_std) + 0.5 * z**2))


def error_std_spearman(y_true, y_mean, y_std) -> float:
    """Spearman rank correlation between the absolute error and the predicted std.

    Positive where larger spreads go with larger errors: whether the spread
    ranks the predictions by trust, whatever its scale.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
        True values, predicted means and predicted standard deviations.

    Returns
    -------
    float
    """
    y_true, y_mean, y_std = _check(y_true, y_mean, y_std)
    return float(stats.spearmanr(np.abs(y_true - y_mean), y_std).statistic)


def plot_calibration(y_true, y_mean, y_std, ax=None, label: str | None = None):
    """Draw the calibration curve (observed against expected coverage) with the diagonal.

    Parameters
    ----------
    y_true, y_mean, y_std : array-like of shape (n_samples,)
    ax : matplotlib Axes or None
        Where to draw; a new figure's axes when ``None``.
    label : str or None
        Legend entry; the miscalibration area is appended.

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(4.5, 4.5)).add_subplot()
    expected, observed = calibration_curve(y_true, y_mean, y_std)
    area = miscalibration_area(y_true, y_mean, y_std)
    ax.plot(expected, observed, label=f"{label + ': ' if label else ''}area {area:.3f}")
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=0.8)
    ax.set_xlabel("expected share inside the interval")
    ax.set_ylabel("observed share")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.legend(loc="upper left", fontsize=8)
    return ax
