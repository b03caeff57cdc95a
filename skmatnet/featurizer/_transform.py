"""Public featurization: input coercion, row-named errors, ``element_fractions`` and
:class:`ElementFractionTransformer`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from ..elements import ELEMENTS, N_ELEMENTS
from ._fast import _fast_fractions
from ._parser import FormulaError, _amounts_from_mapping, _fractions_row, parse_formula

_ERRORS_SHOWN = 5


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _featurize_object(value: Any, out: np.ndarray) -> str | None:
    """Fill ``out`` for one non-string value; return a reason when it is rejected."""
    if _is_missing(value):
        return "missing value"
    if hasattr(value, "get_el_amt_dict"):  # pymatgen Composition, without importing it
        source = value.get_el_amt_dict()
    elif isinstance(value, Mapping):
        source = value
    else:
        return (
            "expected a formula string, a pymatgen Composition or an {element: amount} "
            f"dict, got {type(value).__name__}"
        )
    try:
        _fractions_row(_amounts_from_mapping(source), out)
    except ValueError as exc:
        return str(exc)
    return None


def _reject_single_string(formulas: Any) -> None:
    if isinstance(formulas, (str, bytes)):
        raise TypeError(
            "expected a sequence of formulas, got a single string; wrap it in a list: "
            f"[{formulas!r}]"
        )


def _as_object_vector(formulas: Any) -> np.ndarray:
    _reject_single_string(formulas)
    if isinstance(formulas, pd.DataFrame):
        if formulas.shape[1] != 1:
            raise ValueError(
                f"expected one formula column, got a DataFrame with {formulas.shape[1]} columns"
            )
        formulas = formulas.iloc[:, 0]
    if isinstance(formulas, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
        return np.asarray(formulas.to_numpy(dtype=object, na_value=None), dtype=object)
    if isinstance(formulas, np.ndarray):
        array = formulas
    else:
        if isinstance(formulas, Mapping):
            formulas = [formulas]
        elif not isinstance(formulas, (list, tuple)):
            try:
                formulas = list(formulas)
            except TypeError:
                raise TypeError(
                    "expected a sequence of formulas (list, array, pandas Series or "
                    f"one-column DataFrame), got {type(formulas).__name__}"
                ) from None
        # fromiter keeps each item whole (np.array would unpack a Composition).
        array = np.fromiter(formulas, dtype=object, count=len(formulas))
        if len(array) and all(isinstance(v, (list, tuple)) for v in array):
            if any(len(v) != 1 for v in array):
                widths = sorted({len(v) for v in array})
                raise ValueError(f"expected one formula per row, got rows of length {widths}")
            array = np.fromiter((v[0] for v in array), dtype=object, count=len(array))
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"expected a 1-D sequence of formulas or one column, got shape {array.shape}"
        )
    return array.astype(object, copy=False)


def _error_message(problems: list[tuple[int, Any, str]], n_rows: int) -> str:
    lines = [f"{len(problems)} of {n_rows} rows could not be featurized:"]
    for row, value, reason in problems[:_ERRORS_SHOWN]:
        lines.append(f"  row {row}: {_describe(value)}: {reason}")
    if len(problems) > _ERRORS_SHOWN:
        lines.append(f"  ... and {len(problems) - _ERRORS_SHOWN} more rows")
    lines.append("Pass errors='nan' to get NaN rows for these instead of an error.")
    return "\n".join(lines)


def element_fractions(formulas: Any, *, errors: str = "raise") -> np.ndarray:
    """Atomic fractions of the 86 ElemNet elements for each formula.

    Parameters
    ----------
    formulas : sequence
        Formula strings (see :func:`parse_formula` for the notation), pymatgen
        ``Composition`` objects or ``{element: amount}`` dicts, as a list, 1-D
        array, pandas Series, or one-column 2-D array / DataFrame.
    errors : {"raise", "nan"}, default="raise"
        What to do with a row that is not a valid formula. ``"raise"`` raises a
        :class:`FormulaError` listing the bad rows (index, value and reason);
        ``"nan"`` returns a row of NaN for each so it can be filtered out.

    Returns
    -------
    ndarray of shape (n_formulas, 86), dtype float32
        Fractions in :data:`skmatnet.elements.ELEMENTS` order; each valid row
        sums to 1.

    Notes
    -----
    Each distinct string is parsed once. Plain formulas are tokenized in bulk
    with numpy; grouped, fractional or unusual ones go through
    :func:`parse_formula`. Fractions are computed in float64 with pymatgen's
    arithmetic and rounded to float32, so they are bit-identical to
    ``Composition(f).fractional_composition`` rounded to float32, except that
    pymatgen drops amounts and fractions below 1e-8 where skmatnet keeps them.
    """
    if errors not in ("raise", "nan"):
        raise ValueError(f"errors must be 'raise' or 'nan', got {errors!r}")
    values = _as_object_vector(formulas)
    n = len(values)
    problems: list[tuple[int, Any, str]] = []

    if pd.api.types.infer_dtype(values, skipna=False) == "string":
        is_string = np.ones(n, dtype=bool)
    else:
        is_string = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=n)
    string_rows = np.flatnonzero(is_string)
    codes, uniques = pd.factorize(values[string_rows] if len(string_rows) < n else values)
    uniques = uniques.tolist()
    unique_out = np.zeros((len(uniques), N_ELEMENTS), dtype=np.float32)
    handled = _fast_fractions(uniques, unique_out)
    unique_reason: dict[int, str] = {}
    for i in np.flatnonzero(~handled):
        try:
            _fractions_row(parse_formula(uniques[i]), unique_out[i])
        except ValueError as exc:
            unique_reason[i] = str(exc)
            unique_out[i] = np.nan
    if len(string_rows) == n:
        # factorize numbers uniques by first appearance: all distinct means in order.
        out = unique_out if len(uniques) == n else unique_out[codes]
    else:
        out = np.zeros((n, N_ELEMENTS), dtype=np.float32)
        out[string_rows] = unique_out[codes]
    if unique_reason:
        for row, code in zip(string_rows, codes, strict=False):
            if code in unique_reason:
                problems.append((int(row), values[row], unique_reason[code]))

    for row in np.flatnonzero(~is_string):
        reason = _featurize_object(values[row], out[row])
        if reason is not None:
            problems.append((int(row), values[row], reason))
            out[row] = np.nan

    if problems and errors == "raise":
        problems.sort(key=lambda item: item[0])
        raise FormulaError(_error_message(problems, n), problems)
    return out


class ElementFractionTransformer(TransformerMixin, BaseEstimator):
    """Turn chemical formulas into the 86-element fraction vector.

    The input representation of ElemNet, IRNet and BRNet: for each compound,
    the fraction of its atoms that belong to each of the 86 elements in
    :data:`skmatnet.elements.ELEMENTS`. Stateless: ``fit`` only records the
    input's feature names, so it can also be used without fitting.

    Parameters
    ----------
    formula_column : str or int, default=None
        Column holding the formulas when ``X`` is a DataFrame (name) or a 2-D
        array (position) with several columns. With one column it can be left
        as ``None``.
    errors : {"raise", "nan"}, default="raise"
        ``"raise"``: a malformed formula, unknown symbol, element outside the
        86, empty string, missing value, non-formula object, zero total or
        negative amount raises a :class:`FormulaError` (a ``ValueError``) that
        names every bad row, its value and the reason. ``"nan"``: such rows
        come out as NaN rows instead, e.g. to filter with
        ``np.isnan(Xt).any(axis=1)``.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit`` (1 for a 1-D sequence of formulas).
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` was a DataFrame.

    See Also
    --------
    parse_formula : the notation accepted for strings.
    element_fractions : the same as a function.

    Examples
    --------
    >>> from skmatnet import ElementFractionTransformer
    >>> Xt = ElementFractionTransformer().fit_transform(["Fe2O3", "NaCl"])
    >>> Xt.shape, Xt.dtype
    ((2, 86), dtype('float32'))
    >>> float(Xt[0, 6])  # O is column 6
    0.6000000238418579
    """

    _parameter_constraints: ClassVar[dict] = {
        # any column label pandas allows; checked against X's columns in fit
        "formula_column": "no_validation",
        "errors": [StrOptions({"raise", "nan"})],
    }

    def __init__(self, formula_column: str | int | None = None, errors: str = "raise"):
        self.formula_column = formula_column
        self.errors = errors

    def fit(self, X: Any, y: Any = None) -> ElementFractionTransformer:
        """Record the input columns; nothing is learned.

        Parameters
        ----------
        X : sequence of formulas, or DataFrame / 2-D array holding them
            See :func:`element_fractions`.
        y : ignored

        Returns
        -------
        self : ElementFractionTransformer
        """
        self._check_params()
        self._select(X, reset=True)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Featurize ``X``.

        Parameters
        ----------
        X : sequence of formulas, or DataFrame / 2-D array holding them

        Returns
        -------
        ndarray of shape (n_samples, 86), dtype float32
        """
        self._check_params()
        fitted = hasattr(self, "n_features_in_")
        return element_fractions(self._select(X, reset=not fitted), errors=self.errors)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Element symbols, one per output column.

        Parameters
        ----------
        input_features : ignored

        Returns
        -------
        ndarray of str, shape (86,)
        """
        return np.asarray(ELEMENTS, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.dict = True
        tags.requires_fit = False
        return tags

    def _check_params(self) -> None:
        # transform checks too: the transformer is stateless and may be used unfitted
        self._validate_params()

    def _select(self, X: Any, *, reset: bool) -> Any:
        """Validate columns like scikit-learn does and return the formula column."""
        _reject_single_string(X)
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            column = self.formula_column
            if column is None:
                if X.shape[1] != 1:
                    raise ValueError(
                        f"X has {X.shape[1]} columns {list(X.columns)[:10]}; set formula_column "
                        "to the one holding the formulas"
                    )
                return X.iloc[:, 0]
            if column not in X.columns:
                raise ValueError(
                    f"formula_column {column!r} is not a column of X; columns are "
                    f"{list(X.columns)[:10]}"
                )
            return X[column]
        array = X if isinstance(X, np.ndarray) else None
        if array is not None and array.ndim == 2:
            if reset:
                self.n_features_in_ = array.shape[1]
            elif hasattr(self, "n_features_in_") and array.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {array.shape[1]} columns, but ElementFractionTransformer was fitted "
                    f"with {self.n_features_in_}"
                )
            if array.shape[1] == 1:
                return array[:, 0]
            if isinstance(self.formula_column, (int, np.integer)):
                return array[:, self.formula_column]
            raise ValueError(
                f"X has {array.shape[1]} columns; set formula_column to the position of the "
                "formula column"
            )
        if reset:
            self.n_features_in_ = 1
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        return X
