"""Splitting composition data: the BRNet protocol and element-count stratified CV.

The BRNet paper splits its data 81:9:10 into train, validation and test,
stratified on the number of distinct elements in each compound, with the seed
1234567: :func:`train_val_test_split` does that by default.
:class:`ElementCountStratifiedKFold` is the cross-validation counterpart, for
``cv=`` in scikit-learn's model-selection tools.

A stratified split needs every stratum to be large enough to be shared between
the parts. Rare strata are merged before splitting, see :func:`merge_rare_strata`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils import _safe_indexing, indexable
from sklearn.utils.validation import column_or_1d

from .featurizer import element_fractions

__all__ = [
    "ElementCountStratifiedKFold",
    "merge_rare_strata",
    "n_elements",
    "train_val_test_split",
]


def _is_numeric(array: np.ndarray) -> bool:
    return array.dtype.kind in "biuf"


def n_elements(X: Any) -> np.ndarray:
    """Number of distinct elements in each compound.

    Parameters
    ----------
    X : sequence of formulas, or 2-D numeric array-like
        Either compounds (formula strings, pymatgen ``Composition`` objects or
        ``{element: amount}`` dicts, as accepted by :func:`element_fractions`;
        a DataFrame with a ``formula`` column or a single column also works),
        or an already featurized numeric matrix of shape (n_samples,
        n_elements), such as the (n, 86) element fractions, where the count is
        the number of nonzero entries per row (NaN is not counted).

    Returns
    -------
    ndarray of shape (n_samples,), dtype int64

    Raises
    ------
    FormulaError
        If a formula cannot be parsed.
    ValueError
        If ``X`` is a 1-D numeric array, or a DataFrame with several non-numeric
        columns none of which is named ``formula``.

    Examples
    --------
    >>> n_elements(["Fe2O3", "NaCl", "Cu", "BaTiO3"]).tolist()
    [2, 2, 1, 3]
    """
    matrix = None
    if isinstance(X, pd.DataFrame):
        if X.shape[1] > 0 and all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes):
            matrix = X.to_numpy(dtype=np.float64)
        elif "formula" in X.columns:
            X = X["formula"]
        elif X.shape[1] == 1:
            X = X.iloc[:, 0]
        else:
            raise ValueError(
                f"X has {X.shape[1]} columns {list(X.columns)[:10]}: pass the formula column, "
                "or a numeric feature matrix"
            )
    elif sparse.issparse(X):
        if X.ndim != 2:
            raise ValueError(f"expected a 2-D sparse matrix, got {X.ndim} dimensions")
        return np.asarray((X != 0).sum(axis=1), dtype=np.int64).ravel()
    elif isinstance(X, np.ndarray) and _is_numeric(X):
        if X.ndim != 2:
            raise ValueError(
                f"a numeric X must be a 2-D feature matrix (n_samples, n_elements), got shape "
                f"{X.shape}; pass formulas to count their elements"
            )
        matrix = X
    elif isinstance(X, (list, tuple)) and len(X) and isinstance(X[0], (list, tuple, np.ndarray)):
        array = np.asarray(X)
        if _is_numeric(array) and array.ndim == 2:
            matrix = array
    if matrix is None:
        matrix = element_fractions(X)
    return np.count_nonzero((matrix != 0) & ~np.isnan(matrix), axis=1).astype(np.int64)


def merge_rare_strata(labels: Any, min_count: int) -> np.ndarray:
    """Merge strata with fewer than ``min_count`` members into a neighbour.

    The strata are taken in sorted order of their labels (for element counts:
    1, 2, 3, ...). From the largest label down, a stratum with fewer than
    ``min_count`` members (its own plus any already merged into it) is merged
    into the next lower stratum: rare 8- and 9-element compounds join the
    7-element ones, and if those are still too few, the 6-element ones, and so
    on. If the lowest stratum is then still too small, it joins the next
    higher remaining stratum. Merged rows take the label of the stratum they
    join. When there are fewer than ``min_count`` rows in all, everything ends
    up in one stratum.

    Parameters
    ----------
    labels : array-like of shape (n_samples,)
        Stratum of each sample; any sortable labels.
    min_count : int
        Smallest allowed stratum size.

    Returns
    -------
    ndarray of shape (n_samples,)
        The labels after merging, a subset of the input labels.

    Examples
    --------
    >>> merge_rare_strata([2, 2, 2, 3, 3, 3, 4, 5], min_count=3).tolist()
    [2, 2, 2, 3, 3, 3, 3, 3]
    """
    labels = column_or_1d(np.asarray(labels), warn=False)
    if len(labels) == 0:
        return labels.copy()
    uniques, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    owner = np.arange(len(uniques))  # the stratum each original stratum now belongs to
    counts = counts.copy()
    for i in range(len(uniques) - 1, 0, -1):
        if counts[i] < min_count:
            counts[i - 1] += counts[i]
            counts[i] = 0
            owner[owner == i] = i - 1
    if counts[0] < min_count:
        higher = np.flatnonzero(counts[1:]) + 1
        if len(higher):
            counts[higher[0]] += counts[0]
            counts[0] = 0
            owner[owner == 0] = higher[0]
    return uniques[owner][inverse.ravel()]


def _check_sizes(sizes: Sequence[float], n_samples: int) -> tuple[float, float, float]:
    if len(sizes) != 3:
        raise ValueError(f"sizes must be (train, val, test), got {sizes!r}")
    if all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in sizes):
        if min(sizes) < 0 or sum(sizes) != n_samples or sizes[0] == 0:
            raise ValueError(
                f"integer sizes must be non-negative row counts with a positive train size "
                f"summing to the {n_samples} samples, got {tuple(sizes)}"
            )
        return tuple(int(s) for s in sizes)
    try:
        values = tuple(float(s) for s in sizes)
    except (TypeError, ValueError):
        raise ValueError(f"sizes must be three numbers, got {sizes!r}") from None
    if min(values) < 0 or values[0] <= 0 or not math.isclose(sum(values), 1.0, abs_tol=1e-6):
        raise ValueError(
            f"sizes must be non-negative fractions with a positive train fraction summing to "
            f"1, or integer row counts, got {tuple(sizes)}"
        )
    return values


def _strata(stratify: Any, first: Any, n_samples: int) -> np.ndarray | None:
    if stratify is None:
        return None
    if isinstance(stratify, str):
        if stratify != "n_elements":
            raise ValueError(f"stratify must be 'n_elements', None or labels, got {stratify!r}")
        return n_elements(first)
    labels = column_or_1d(np.asarray(stratify), warn=False)
    if len(labels) != n_samples:
        raise ValueError(
            f"stratify has {len(labels)} labels but the arrays have {n_samples} samples"
        )
    return labels


def _split_off(
    indices: np.ndarray,
    labels: np.ndarray | None,
    size: float,
    random_state: Any,
    shuffle: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (kept, taken), ``size`` being the taken fraction or count."""
    if size == 0:
        return indices, indices[:0]
    stratify = None
    if labels is not None:
        if isinstance(size, numbers.Integral):
            fraction = size / len(indices)
        else:
            fraction = size
        smallest = min(fraction, 1.0 - fraction)
        stratify = merge_rare_strata(labels, max(2, math.ceil(1.0 / smallest - 1e-9)))
    return train_test_split(
        indices, test_size=size, stratify=stratify, random_state=random_state, shuffle=shuffle
    )


def train_val_test_split(
    *arrays: Any,
    sizes: Sequence[float] = (0.81, 0.09, 0.10),
    stratify: Any = "n_elements",
    random_state: Any = 1234567,
    shuffle: bool = True,
) -> list[Any]:
    """Split arrays into train, validation and test parts (the BRNet protocol).

    Two successive :func:`sklearn.model_selection.train_test_split` calls:
    first the test part is split off all rows, then the validation part off
    the rest. With the default sizes that is 10 % test, then 10 % of the
    remaining 90 % (9 % of all) as validation: the 81:9:10 split of BRNet.

    Parameters
    ----------
    *arrays : sequence of indexables with the same length
        Lists, numpy arrays, scipy sparse matrices or pandas objects (which
        keep their index). Typically formulas and targets.
    sizes : tuple of 3 floats or 3 ints, default=(0.81, 0.09, 0.10)
        Train, validation and test fractions summing to 1, or row counts
        summing to the number of rows. The test part is
        ``sizes[2]`` of all rows and the validation part
        ``sizes[1] / (sizes[0] + sizes[1])`` of the remainder; fractions are
        rounded up to whole rows for the part split off, as scikit-learn does,
        so each part is within two rows of its fraction. A validation (or
        test) size of 0 gives an empty part.
    stratify : "n_elements", array-like or None, default="n_elements"
        ``"n_elements"``: stratify on the number of distinct elements of each
        row of the first array (formulas or an element-fraction matrix, see
        :func:`n_elements`). An array-like: stratify on these labels. None: no
        stratification.
    random_state : int, RandomState instance or None, default=1234567
        Seed of both splits (the BRNet seed by default). An int gives the
        same split on every call.
    shuffle : bool, default=True
        Whether to shuffle before splitting. ``shuffle=False`` takes the parts
        in order (train, validation, test) and needs ``stratify=None``.

    Returns
    -------
    splitting : list, length 3 * len(arrays)
        ``[a_train, a_val, a_test, b_train, b_val, b_test, ...]``, each part
        of the same type as its input.

    Raises
    ------
    ValueError
        If ``sizes`` are not valid, the arrays have different lengths, or
        ``shuffle=False`` with stratification.

    Notes
    -----
    Rare strata are merged before each of the two splits with
    :func:`merge_rare_strata`, with ``min_count`` the number of rows a
    stratum needs to expect at least one row in each of the two parts of that
    split: ``max(2, ceil(1 / min(f, 1 - f)))`` for a split-off fraction
    ``f`` (10 rows for the default 10 % splits). With this rule
    scikit-learn's stratified split never fails on a small stratum (e.g. the
    few 8- and 9-element compounds of the Materials Project data).

    Examples
    --------
    >>> formulas = ["Fe2O3", "NaCl", "Cu", "BaTiO3", "LiCoO2"] * 20
    >>> target = list(range(100))
    >>> f_train, f_val, f_test, y_train, y_val, y_test = train_val_test_split(formulas, target)
    >>> len(f_train), len(f_val), len(f_test)
    (81, 9, 10)
    """
    if not arrays:
        raise ValueError("at least one array is required")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be a bool, got {shuffle!r}")
    arrays = indexable(*arrays)
    first = arrays[0]
    n_samples = first.shape[0] if hasattr(first, "shape") else len(first)
    train_size, val_size, test_size = _check_sizes(sizes, n_samples)
    labels = _strata(stratify, first, n_samples)
    if not shuffle and labels is not None:
        raise ValueError("a stratified split needs shuffle=True; pass stratify=None")

    indices = np.arange(n_samples)
    rest, test = _split_off(indices, labels, test_size, random_state, shuffle)
    if isinstance(val_size, numbers.Integral):
        val_of_rest = val_size
    else:
        val_of_rest = round(val_size / (train_size + val_size), 12)
    rest_labels = None if labels is None else labels[rest]
    train, val = _split_off(rest, rest_labels, val_of_rest, random_state, shuffle)

    parts = []
    for array in arrays:
        parts.extend(_safe_indexing(array, part) for part in (train, val, test))
    return parts


class ElementCountStratifiedKFold(StratifiedKFold):
    """K-fold cross-validation stratified on the number of elements per compound.

    A :class:`sklearn.model_selection.StratifiedKFold` whose strata are the
    element counts of ``X`` (formulas or an element-fraction matrix; see
    :func:`n_elements`) instead of ``y``, so it works for regression targets.
    Strata with fewer than ``n_splits`` members are merged first with
    :func:`merge_rare_strata` (rare high element counts join the next lower
    count), so every fold gets some of each stratum and scikit-learn warns
    about none.

    Parameters
    ----------
    n_splits : int, default=10
        Number of folds, at least 2.
    shuffle : bool, default=True
        Whether to shuffle each stratum before splitting into folds.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling, when ``shuffle=True``.

    See Also
    --------
    train_val_test_split : the BRNet 81:9:10 split with the same strata.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmatnet import ElementFractionTransformer
    >>> formulas = ["Fe2O3", "NaCl", "Cu", "BaTiO3", "LiCoO2"] * 4
    >>> y = [float(i % 7) for i in range(20)]
    >>> model = make_pipeline(ElementFractionTransformer(), Ridge())
    >>> cv = ElementCountStratifiedKFold(n_splits=4, random_state=0)
    >>> cross_val_score(model, formulas, y, cv=cv).shape
    (4,)
    """

    def __init__(self, n_splits: int = 10, *, shuffle: bool = True, random_state: Any = None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X: Any, y: Any = None, groups: Any = None):
        """Generate indices to split data into training and test sets.

        Parameters
        ----------
        X : sequence of formulas or 2-D numeric array-like of shape (n_samples, n_features)
            The strata are the element counts of its rows (:func:`n_elements`).
        y : array-like of shape (n_samples,), default=None
            Ignored: the split does not depend on the target.
        groups : None
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.
        test : ndarray
            The testing set indices for that split.
        """
        strata = merge_rare_strata(n_elements(X), self.n_splits)
        return super().split(X, strata, groups)
