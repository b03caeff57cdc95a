"""Input checks whose errors say what is wrong and where: row, column and value.

scikit-learn's ``validate_data`` does the conversions and the feature-count and
feature-name bookkeeping; these helpers run around it so that a NaN, a string
or a wrong shape is reported with its position instead of "Input X contains
NaN". Row numbers are 0-based positions, the same as in
:class:`~skmatnet.FormulaError`, so a bad row can be traced back through a
pipeline to the formula it came from.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import check_array
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

__all__ = ["check_features", "check_finite", "check_labels", "check_target"]

# Rows listed in a message; the count of the others is given.
_ROWS_SHOWN = 5
_FEATURIZE_HINT = (
    "Formulas must be featurized first, e.g. Pipeline([('ef', ElementFractionTransformer()), "
    "('net', ...)])."
)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _row(position: int, index: Any) -> str:
    """``row 17``, plus the pandas index label when it is not the position itself."""
    if index is None:
        return f"row {position}"
    label = index[position]
    if isinstance(label, (int, np.integer)) and label == position:
        return f"row {position}"
    return f"row {position} (index {label!r})"


def _column(position: int, columns: Any) -> str:
    if columns is None:
        return f"column {position}"
    return f"column {position} ({columns[position]!r})"


def check_finite(
    array: np.ndarray,
    *,
    name: str,
    columns: Any = None,
    index: Any = None,
    nan_hint: str | None = None,
) -> None:
    """Raise a ``ValueError`` naming the rows and columns of NaN or infinite values.

    Parameters
    ----------
    array : ndarray of shape (n_rows,) or (n_rows, n_columns)
        Converted data; only float arrays are inspected.
    name : str
        What ``array`` is, e.g. ``"X"`` or ``"y_val"``.
    columns : sequence of str, optional
        Column names, when the input was a DataFrame.
    index : pandas.Index, optional
        Row labels, when the input was a pandas object.
    nan_hint : str, optional
        A last line, when there are NaN, on where they usually come from.

    Raises
    ------
    ValueError
        ``"Input <name> contains NaN ..."`` (or ``infinity``), then one line per
        bad row (the first five) with its columns and values.
    """
    if array.dtype.kind != "f" or array.size == 0:
        return
    # One pass that allocates nothing in the common, all-finite case: a sum is
    # finite only when every term is (in float64, so large values do not overflow).
    if np.isfinite(array.sum(dtype=np.float64)):
        return
    grid = array.reshape(len(array), -1)
    bad = ~np.isfinite(grid)
    bad_rows = np.flatnonzero(bad.any(axis=1))
    if not len(bad_rows):
        return
    has_nan = bool(np.isnan(grid[bad_rows]).any())
    has_inf = bool(np.isinf(grid[bad_rows]).any())
    what = " and ".join(w for w, present in (("NaN", has_nan), ("infinity", has_inf)) if present)
    n_values = int(bad.sum())
    lines = [
        f"Input {name} contains {what} in {len(bad_rows)} of {len(array)} rows "
        f"({n_values} value{'s' if n_values > 1 else ''}):"
    ]
    for position in bad_rows[:_ROWS_SHOWN]:
        where = _row(int(position), index)
        cols = np.flatnonzero(bad[position])
        if array.ndim == 1:
            lines.append(f"  {where}: {grid[position, 0]}")
            continue
        first = int(cols[0])
        value = grid[position, first]
        if len(cols) == grid.shape[1] and len(cols) > 1:
            lines.append(f"  {where}: all {len(cols)} columns (first {value})")
        else:
            more = f" and {len(cols) - 1} more columns" if len(cols) > 1 else ""
            lines.append(f"  {where}, {_column(first, columns)}: {value}{more}")
    if len(bad_rows) > _ROWS_SHOWN:
        lines.append(f"  ... and {len(bad_rows) - _ROWS_SHOWN} more rows")
    if has_inf:
        lines.append("Values beyond the float32 range (about +-3.4e38) also become infinity.")
    if has_nan and nan_hint:
        lines.append(nan_hint)
    raise ValueError("\n".join(lines))


def _first_non_numeric(data: Any, *, reject_strings: bool) -> tuple[int, int, Any] | None:
    """Position and value of the first cell that is not a number, scanning row by row."""
    try:
        if hasattr(data, "to_numpy"):
            values = data.to_numpy(dtype=object)
        else:
            values = np.asarray(data, dtype=object)
    except (TypeError, ValueError):
        return None
    if values.ndim == 0:
        return None
    values = values.reshape(len(values), -1)
    for row in range(values.shape[0]):
        for col in range(values.shape[1]):
            value = values[row, col]
            if isinstance(value, (str, bytes)):
                if reject_strings:
                    return row, col, value
            elif isinstance(value, (np.datetime64, np.timedelta64)):
                return row, col, value
            try:
                float(value)
            except (TypeError, ValueError):
                return row, col, value
    return None


def _index_of(data: Any) -> Any:
    index = getattr(data, "index", None)
    return index if index is not None and hasattr(index, "__getitem__") else None


def check_features(estimator: Any, X: Any, *, name: str = "X", reset: bool) -> np.ndarray:
    """``validate_data`` for a feature matrix, with errors that name the bad cells.

    Parameters
    ----------
    estimator : estimator
        Records (``reset=True``) or checks ``n_features_in_`` and
        ``feature_names_in_``.
    X : array-like of shape (n_samples, n_features)
        Numeric features.
    name : str, default="X"
        How ``X`` is called in messages (``"X_val"`` for a validation set).
    reset : bool
        Whether this call fits (records the features) or checks against a fit.

    Returns
    -------
    ndarray of shape (n_samples, n_features), float32

    Raises
    ------
    TypeError
        If ``X`` is ``None``, or holds objects that are not numbers (the
        first such cell is named).
    ValueError
        If ``X`` holds strings that are not numbers (the first is named), is
        not 2-D, has no rows, has a different number of features than in fit,
        or holds NaN or infinity (rows and columns are named).
    """
    if X is None:
        raise TypeError(f"{name} must be an array-like of shape (n_samples, n_features), got None")
    try:
        with np.errstate(over="ignore"):  # float32 overflow is reported as infinity below
            out = validate_data(estimator, X, reset=reset, dtype=np.float32,
                                ensure_all_finite=False)
    except (TypeError, ValueError) as exc:
        raise _explain_feature_error(exc, X, name) from exc
    columns = getattr(X, "columns", None)
    check_finite(
        out, name=name, columns=None if columns is None else list(columns), index=_index_of(X),
        nan_hint=(
            "Rows of NaN come from ElementFractionTransformer(errors='nan') for formulas it "
            "could not parse; drop them first (rows where np.isnan(X).any(axis=1))."
        ),
    )
    return out


def _explain_feature_error(exc: Exception, X: Any, name: str) -> Exception:
    message = str(exc)
    if "could not convert" in message or "argument must be" in message:
        found = _first_non_numeric(X, reject_strings=False)
        if found is not None:
            row, col, value = found
            columns = getattr(X, "columns", None)
            text = (
                f"{name} must be numeric, but {_row(row, _index_of(X))}, "
                f"{_column(col, None if columns is None else list(columns))} holds "
                f"{_describe(value)} ({type(value).__name__}): {message}"
            )
            if isinstance(value, str) and any(c.isalpha() for c in value):
                text += f". {_FEATURIZE_HINT}"
            return type(exc)(text)
    if "Sparse data was passed" in message:
        return TypeError(
            f"{name} is a sparse matrix, but the networks take dense features: pass "
            f"{name}.toarray(), or build it dense (ColumnTransformer(..., sparse_threshold=0), "
            "OneHotEncoder(sparse_output=False))"
        )
    if "Expected 2D array, got 1D array" in message:
        shape = np.shape(X)
        return ValueError(
            f"{name} must be 2-D (n_samples, n_features), got a 1-D array of shape {shape}. "
            "Reshape your data with X.reshape(-1, 1) for a single feature or "
            f"X.reshape(1, -1) for a single sample. {_FEATURIZE_HINT}"
        )
    if "Found array with dim" in message:
        return ValueError(
            f"{name} must be 2-D (n_samples, n_features), got an array of shape {np.shape(X)}"
        )
    if "Complex data not supported" in message:
        return ValueError(f"{name}: Complex data not supported; {name} must hold real numbers")
    if "got scalar array" in message:
        return ValueError(
            f"{name} must be an array-like of shape (n_samples, n_features), got a scalar "
            f"{_describe(X)} ({type(X).__name__})"
        )
    if name != "X" and isinstance(exc, ValueError):
        return ValueError(f"{name}: {message}")
    return exc


def check_target(
    y: Any, *, n_samples: int, name: str = "y", X_name: str = "X"
) -> np.ndarray:
    """Validate and convert targets, naming the first bad row.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Numeric targets. Strings are rejected even when they spell numbers: a
        target column read as text is almost always a parsing mistake.
    n_samples : int
        Rows of the matching ``X``.
    name, X_name : str
        How ``y`` and ``X`` are called in messages.

    Returns
    -------
    ndarray of shape (n_samples,) or (n_samples, n_outputs), float32

    Raises
    ------
    TypeError
        If ``y`` is not array-like (``None``, a scalar, a string).
    ValueError
        If ``y`` is not 1-D or 2-D, has no columns, has a different number
        of rows than ``X``, holds strings or other non-numbers (the first is
        named), complex numbers, or NaN or infinity (the rows are named).
    """
    # No np.ndim here: it would call __array_function__ on array-likes that refuse it.
    if y is None or isinstance(y, (str, bytes, numbers.Number, np.generic)):
        raise TypeError(
            f"{name} must be an array-like of shape (n_samples,) or (n_samples, n_outputs), "
            f"got {_describe(y)} ({type(y).__name__})"
        )
    index = _index_of(y)
    try:
        array = check_array(
            y, ensure_2d=False, allow_nd=True, dtype=None, ensure_all_finite=False,
            ensure_min_samples=0, ensure_min_features=0, input_name=name,
        )
    except ValueError as exc:
        if "Complex data not supported" in str(exc):
            # sklearn's message prints the whole array.
            raise ValueError(f"{name}: Complex data not supported; y must hold real numbers") \
                from None
        raise
    if array.ndim == 0:
        raise TypeError(
            f"{name} must be an array-like of shape (n_samples,) or (n_samples, n_outputs), "
            f"got a 0-d array {_describe(array)}"
        )
    if array.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), got an array of "
            f"shape {array.shape}"
        )
    if array.ndim == 2 and array.shape[1] == 0:
        raise ValueError(f"{name} has no columns (shape {array.shape})")
    if len(array) != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: {X_name} has "
            f"{n_samples} rows but {name} has {len(array)}"
        )
    if array.dtype.kind not in "biuf":
        found = _first_non_numeric(array, reject_strings=True)
        if found is not None:
            row, col, value = found
            where = _row(row, index) + (f", column {col}" if array.ndim == 2 else "")
            raise ValueError(
                f"{name} must be numeric, but {where} holds {_describe(value)} "
                f"({type(value).__name__}). Convert the target column with pd.to_numeric or "
                ".astype(float) first."
            )
    with np.errstate(over="ignore"):  # float32 overflow is reported as infinity below
        out = np.asarray(array, dtype=np.float32)
    check_finite(out, name=name, index=index,
                 nan_hint="Drop the rows without a target value before fitting.")
    return out


def check_labels(
    y: Any, *, n_samples: int, name: str = "y", X_name: str = "X"
) -> np.ndarray:
    """Validate class labels, naming the first bad rows.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of any one type: strings, integers, booleans (a column vector
        is raveled with scikit-learn's ``DataConversionWarning``).
    n_samples : int
        Rows of the matching ``X``.
    name, X_name : str
        How ``y`` and ``X`` are called in messages.

    Returns
    -------
    ndarray of shape (n_samples,)

    Raises
    ------
    TypeError
        If ``y`` is not array-like.
    ValueError
        If ``y`` has several columns, a different number of rows than ``X``,
        missing labels (NaN, None; the rows are named), labels of mixed types,
        or continuous values (``Unknown label type``).
    """
    if y is None or isinstance(y, (str, bytes, numbers.Number, np.generic)):
        raise TypeError(
            f"{name} must be an array-like of labels of shape (n_samples,), got "
            f"{_describe(y)} ({type(y).__name__})"
        )
    index = _index_of(y)
    array = check_array(y, ensure_2d=False, dtype=None, ensure_all_finite=False,
                        ensure_min_samples=0, input_name=name)
    if array.ndim == 2 and array.shape[1] != 1:
        raise ValueError(
            f"{name} must be 1-D (one label per row), got shape {array.shape}; multi-label "
            "and multi-output classification are not supported"
        )
    array = column_or_1d(array, warn=True)
    if len(array) != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: {X_name} has "
            f"{n_samples} rows but {name} has {len(array)}"
        )
    missing = np.asarray(pd.isna(array), dtype=bool)
    if missing.any():
        rows = np.flatnonzero(missing)
        shown = ", ".join(_row(int(r), index) for r in rows[:_ROWS_SHOWN])
        more = f" and {len(rows) - _ROWS_SHOWN} more" if len(rows) > _ROWS_SHOWN else ""
        raise ValueError(
            f"{name} has missing labels (NaN or None) in {shown}{more}. Drop those rows "
            "before fitting."
        )
    if array.dtype == object:
        kinds = {_label_kind(value) for value in array}
        if len(kinds) > 1:
            first = {kind: next(v for v in array if _label_kind(v) == kind) for kind in kinds}
            found = ", ".join(f"{kind} such as {value!r}" for kind, value in sorted(first.items()))
            raise ValueError(f"{name} mixes label types ({found}); use one type, e.g. "
                             "y.astype(str)")
        if kinds == {"str"}:
            array = array.astype(str)
    check_classification_targets(array)
    return array


def _label_kind(value: Any) -> str:
    if isinstance(value, (str, np.str_)):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Number):
        return "number"
    return type(value).__name__
