"""What to compute next: acquisition scores of an ensemble's (mean, std), and a spread batch.

The scores are on the predicted energy above the hull ``e`` (eV/atom) with the ensemble's
calibrated standard deviation ``s``; stable means ``e <= 0``:

- ``lower_confidence_bound``: ``e - kappa * s``, lower is better (optimism in the face of
  uncertainty: a candidate may be stable if its optimistic energy is below the hull);
- ``expected_improvement``: ``E[max(0, best - E)]`` for ``E ~ N(e, s)``, with ``best = 0``
  (the hull) by default, higher is better: how far below the hull it is expected to land;
- ``probability_below_hull``: ``Phi(-e / s)``, higher is better.

A batch of the ``n`` best by a score tends to be ``n`` neighbours of one promising point (the
``LiMnO2``, ``Li9Mn9O19``, ... of one system). :func:`select_batch` walks the candidates best
first and takes one unless its chemical system already holds ``max_per_system`` picks, or it
lies within ``min_distance`` of a pick in composition (half the L1 distance of the element
fractions: the share of atoms that would have to change to turn one into the other; e.g.
``LiMnO2`` and ``Li2Mn2O5`` are 0.071 apart). If fewer than ``n`` pass, the batch is filled
with the best of the skipped ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .hull import _normal_cdf, probability_below_hull

__all__ = [
    "ACQUISITIONS",
    "expected_improvement",
    "lower_confidence_bound",
    "probability_below_hull",
    "select_batch",
]

#: Acquisition name -> whether lower scores are better.
ACQUISITIONS = {"lower_confidence_bound": True, "expected_improvement": False,
                "probability_below_hull": False}


def lower_confidence_bound(mean: Any, std: Any, kappa: float = 1.0) -> np.ndarray:
    """``mean - kappa * std``: the optimistic energy (lower is better).

    Parameters
    ----------
    mean : array-like of shape (n,)
        Predicted energy above the hull (or any energy to minimise).
    std : array-like of shape (n,)
        Its standard deviation.
    kappa : float, default=1.0
        Weight of the uncertainty: 0 ranks by the mean alone (exploitation), larger
        values favour uncertain candidates (exploration).

    Returns
    -------
    ndarray of shape (n,)
    """
    return np.asarray(mean, dtype=np.float64) - float(kappa) * np.asarray(std, dtype=np.float64)


def expected_improvement(mean: Any, std: Any, best: float = 0.0) -> np.ndarray:
    """Expected improvement below ``best`` of a normal prediction (higher is better).

    ``E[max(0, best - E)]`` for ``E ~ N(mean, std)``: ``(best - mean) Phi(z) + std phi(z)``
    with ``z = (best - mean) / std``; ``max(0, best - mean)`` where ``std`` is 0.

    Parameters
    ----------
    mean : array-like of shape (n,)
        Predicted energy above the hull (or any energy to minimise).
    std : array-like of shape (n,)
        Its standard deviation.
    best : float, default=0.0
        The level to improve on: 0 is the hull; the lowest energy above the hull found so
        far rewards going further below it.

    Returns
    -------
    ndarray of shape (n,)
    """
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    gain = float(best) - mean
    safe = np.where(std > 0, std, 1.0)
    z = gain / safe
    value = gain * _normal_cdf(z) + safe * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return np.where(std > 0, value, np.maximum(gain, 0.0))


def _acquisition_scores(name: str, e_above_hull: np.ndarray, std: np.ndarray,
                        kappa: float) -> np.ndarray:
    if name == "lower_confidence_bound":
        return lower_confidence_bound(e_above_hull, std, kappa)
    if name == "expected_improvement":
        return expected_improvement(e_above_hull, std)
    if name == "probability_below_hull":
        return probability_below_hull(e_above_hull, std)
    raise ValueError(f"unknown acquisition {name!r}: one of {', '.join(ACQUISITIONS)}")


def _tiebreak(columns, score: str) -> np.ndarray | None:
    """The energy above the hull, lower first, where another score is ranked: a probability
    below the hull rounds to 1 for thousands of candidates far below it. ``columns``: a
    DataFrame or a dict of arrays."""
    if score == "e_above_hull" or "e_above_hull" not in columns:
        return None
    return np.asarray(columns["e_above_hull"], dtype=np.float64)


def select_batch(candidates: pd.DataFrame, n: int, *, score: str,
                 lower_is_better: bool | None = None, max_per_system: int | None = 2,
                 min_distance: float = 0.05) -> pd.DataFrame:
    """The ``n`` best candidates by ``score``, spread over chemical systems and compositions.

    Greedy, best first (equal scores: the lower ``e_above_hull`` first, when the column is
    there, then the lower ``id``): a candidate is taken unless its ``system`` already holds
    ``max_per_system`` picks or it lies within ``min_distance`` of a pick (half the L1
    distance of the element fractions, the share of atoms that differ). If fewer than ``n``
    pass, the batch is filled with the best of the skipped ones (so ``n`` are returned
    whenever there are ``n`` candidates).

    Parameters
    ----------
    candidates : pandas.DataFrame
        With ``formula``, ``system`` (e.g. from :func:`~skmatnet.screening.screen`) and the
        ``score`` column. Rows with a NaN score are left out.
    n : int
        Batch size.
    score : str
        The column to rank by.
    lower_is_better : bool, optional
        Default: from :data:`ACQUISITIONS` (``True`` for ``lower_confidence_bound``,
        ``e_above_hull`` and ``prediction``, ``False`` for the others).
    max_per_system : int or None, default=2
        Picks per chemical system at most (``None``: no limit).
    min_distance : float, default=0.05
        Smallest composition distance to an earlier pick (0: none).

    Returns
    -------
    pandas.DataFrame
        The picks, best first, with a ``pick`` column (1 to ``n``) and ``relaxed`` (whether
        it was taken only to fill the batch).
    """
    from ..featurizer import element_fractions

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if score not in candidates.columns:
        raise ValueError(f"no {score!r} column to select by (columns: "
                         f"{', '.join(map(str, candidates.columns))})")
    if lower_is_better is None:
        lower_is_better = ACQUISITIONS.get(score, True)
    if max_per_system is not None and max_per_system < 1:
        raise ValueError(f"max_per_system must be a positive int or None, got {max_per_system!r}")
    if not 0 <= float(min_distance) <= 1:
        raise ValueError(f"min_distance must be in [0, 1], got {min_distance!r}")
    frame = candidates[np.isfinite(candidates[score].to_numpy(dtype=np.float64))]
    values = frame[score].to_numpy(dtype=np.float64)
    tie = frame["id"].to_numpy() if "id" in frame else np.arange(len(frame))
    tiebreak = _tiebreak(frame, score)
    keys = [tie, values if lower_is_better else -values]
    if tiebreak is not None:
        keys.insert(1, tiebreak)
    order = np.lexsort(keys)
    frame = frame.iloc[order].reset_index(drop=True)
    fractions = element_fractions(frame["formula"].tolist()).astype(np.float64)
    systems = frame["system"].tolist()
    picked: list[int] = []
    skipped: list[int] = []
    per_system: dict[str, int] = {}
    for i in range(len(frame)):
        if len(picked) == n:
            break
        crowded = max_per_system is not None and per_system.get(systems[i], 0) >= max_per_system
        close = bool(picked) and min_distance > 0 and float(
            (0.5 * np.abs(fractions[picked] - fractions[i]).sum(axis=1)).min()) < min_distance
        if crowded or close:
            skipped.append(i)
            continue
        picked.append(i)
        per_system[systems[i]] = per_system.get(systems[i], 0) + 1
    # The loop saw every row when it picked fewer than n: fill with the best skipped.
    relaxed = skipped[: n - len(picked)]
    rows = picked + relaxed
    out = frame.iloc[rows].reset_index(drop=True)
    out.insert(0, "pick", np.arange(1, len(out) + 1))
    out["relaxed"] = [False] * len(picked) + [True] * len(relaxed)
    return out
