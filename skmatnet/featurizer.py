"""Chemical formulas to the 86-element fraction vector of ElemNet, IRNet and BRNet.

Two parsers share one grammar. :func:`parse_formula` is a small recursive-descent
parser that accepts every supported notation and explains every rejection. The
vectorized tokenizer in :func:`_fast_fractions` handles the overwhelmingly common
plain form (``Fe2O3``, ``Co12Mn5Nd2``, ``Li0.5CoO2``) for many formulas at once
with numpy; anything it is not certain about goes to :func:`parse_formula`, so
both give the same vector and only the reference parser ever raises.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from .elements import ELEMENT_INDEX, ELEMENTS, N_ELEMENTS, PERIODIC_TABLE

__all__ = [
    "ElementFractionTransformer",
    "FormulaError",
    "element_fractions",
    "parse_formula",
]

_KNOWN_SYMBOLS = frozenset(PERIODIC_TABLE)
_OPENERS = {"(": ")", "[": "]"}
_CLOSERS = frozenset(_OPENERS.values())
# Formulas parsed per vectorized chunk: bounds the float64 scratch (chunk x 86).
_CHUNK = 32768
# Keeps digit strings within exact int64 / float64 integer range.
_MAX_FAST_DIGITS = 15
_ERRORS_SHOWN = 5
# Deepest group nesting accepted: real formulas nest two or three levels, and the
# recursive parser must stay far from Python's recursion limit.
_MAX_DEPTH = 32


class FormulaError(ValueError):
    """Raised when formulas cannot be turned into element fractions.

    Parameters
    ----------
    message : str
        The error message.
    problems : list of tuple (int, object, str) or None, default=None
        Every rejected row as ``(row, value, reason)``; ``None``: none listed.

    Attributes
    ----------
    problems : list of tuple (int, object, str)
        Every rejected row as ``(row, value, reason)``, in row order.
    """

    def __init__(self, message: str, problems: list[tuple[int, Any, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


# ---------------------------------------------------------------------------
# Reference parser
# ---------------------------------------------------------------------------


def _is_digit(char: str) -> bool:
    # ASCII only: str.isdigit() also accepts e.g. "²" or Arabic-Indic digits.
    return "0" <= char <= "9"


class _Parser:
    """Recursive descent over ``item* ; item := (Symbol | (items) | [items]) amount?``.

    The arithmetic follows pymatgen's ``Composition`` so that the amounts are
    bit-identical to it: a group's multiplier is applied to each amount in the
    group (``a*k + b*k``, not ``(a + b)*k``) before repeated elements are summed,
    in the order they are written.
    """

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    def fail(self, reason: str) -> None:
        raise ValueError(reason)

    def skip_space(self) -> None:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos].isspace():
            pos += 1
        self.pos = pos

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> dict[str, float]:
        terms = self.sequence(closer=None)
        if self.pos < len(self.text):
            self.fail(f"unexpected {self.text[self.pos]!r} at position {self.pos}")
        return _combine(terms, 1.0)

    def sequence(self, closer: str | None) -> list[tuple[str, float]]:
        """The ``(symbol, amount)`` terms up to ``closer``, a group being its summed amounts."""
        terms: list[tuple[str, float]] = []
        while True:
            char = self.peek()
            if char == "" or char in _CLOSERS:
                if char != (closer or ""):
                    if closer is None:
                        self.fail(f"unmatched {char!r} at position {self.pos}")
                    expected = f"{closer!r}" if closer else "end of formula"
                    found = repr(char) if char else "end of formula"
                    self.fail(f"expected {expected} but found {found} at position {self.pos}")
                if not terms and closer is not None:
                    self.fail(f"empty group before position {self.pos}")
                return terms
            if char in _OPENERS:
                if self.depth >= _MAX_DEPTH:
                    self.fail(f"groups nested more than {_MAX_DEPTH} deep at position {self.pos}")
                self.pos += 1
                self.depth += 1
                inner = self.sequence(closer=_OPENERS[char])
                self.depth -= 1
                self.pos += 1
                factor = self.amount()
                terms.extend(_combine(inner, factor).items())
            elif "A" <= char <= "Z":
                symbol = self.symbol()
                terms.append((symbol, self.amount()))
            elif char == "-":
                self.fail(f"negative amount at position {self.pos}")
            else:
                self.fail(f"unexpected {char!r} at position {self.pos}")

    def symbol(self) -> str:
        text, start = self.text, self.pos
        end = start + 1
        while end < len(text) and "a" <= text[end] <= "z":
            end += 1
        symbol = text[start:end]
        if symbol not in _KNOWN_SYMBOLS:
            self.fail(f"unknown element symbol {symbol!r}")
        if symbol not in ELEMENT_INDEX:
            self.fail(f"element {symbol!r} is not one of the 86 elements of the ElemNet vector")
        self.pos = end
        return symbol

    def number(self) -> float | None:
        text, start = self.text, self.pos
        end = start
        while end < len(text) and (_is_digit(text[end]) or text[end] == "."):
            end += 1
        if end == start:
            return None
        literal = text[start:end]
        if literal.count(".") > 1 or literal == ".":
            self.fail(f"malformed number {literal!r} at position {start}")
        self.pos = end
        return float(literal)

    def amount(self) -> float:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] == "-":
            self.fail(f"negative amount at position {self.pos}")
        value = self.number()
        if value is None:
            return 1.0
        if self.pos < len(self.text) and self.text[self.pos] == "/":
            self.pos += 1
            denominator = self.number()
            if denominator is None:
                self.fail(f"fraction without denominator at position {self.pos}")
            if denominator == 0:
                self.fail(f"division by zero in amount at position {self.pos}")
            value = value / denominator
        return value


def _combine(terms: list[tuple[str, float]], factor: float) -> dict[str, float]:
    """Sum ``amount * factor`` per element, in order of first appearance."""
    amounts: dict[str, float] = {}
    for symbol, amount in terms:
        amounts[symbol] = amounts.get(symbol, 0.0) + amount * factor
    return amounts


def parse_formula(formula: str) -> dict[str, float]:
    """Parse a chemical formula into element amounts.

    Parameters
    ----------
    formula : str
        A formula such as ``"Fe2O3"``, ``"Li0.5CoO2"``, ``"Ca(OH)2"``,
        ``"K3[Fe(CN)6]"`` or ElemNet's fraction form ``"Mg1/3Ta2/3"``.
        Amounts may be integers, decimals or ``a/b`` fractions and default to
        1; ``()`` and ``[]`` groups nest (at most 32 levels) and take a
        multiplier; whitespace around and between tokens is ignored. Digits
        are ASCII ``0-9``.

    Returns
    -------
    dict of str to float
        Amount of each element, in order of first appearance. Repeated
        elements are summed.

    Raises
    ------
    ValueError
        With the reason: malformed syntax, unknown symbol, an element outside
        the 86 of the ElemNet vector, a negative amount, an amount or total too
        large for a float, or a zero total.
    TypeError
        If ``formula`` is not a ``str``.

    Examples
    --------
    >>> parse_formula("Ca(OH)2")
    {'Ca': 1.0, 'O': 2.0, 'H': 2.0}
    """
    if not isinstance(formula, str):
        raise TypeError(f"expected a formula string, got {type(formula).__name__}")
    text = formula.strip()
    if not text:
        raise ValueError("empty formula")
    amounts = _Parser(text).parse()
    _check_total(amounts)
    return amounts


def _check_total(amounts: Mapping[str, float]) -> float:
    total = 0.0
    for symbol, amount in amounts.items():
        if not math.isfinite(amount):
            raise ValueError(f"amount of {symbol} is not finite ({amount})")
        if amount < 0:
            raise ValueError(f"negative amount {amount:g} for {symbol}")
        total += amount
    if not total > 0:
        raise ValueError("total amount is zero")
    if not math.isfinite(total):
        # Each amount fits a float but their sum does not: every fraction would be 0.
        raise ValueError(f"total amount is too large for a float ({total})")
    return total


def _amounts_from_mapping(mapping: Mapping[Any, Any]) -> dict[str, float]:
    amounts: dict[str, float] = {}
    for key, value in mapping.items():
        symbol = str(key).strip()
        if symbol not in _KNOWN_SYMBOLS:
            raise ValueError(f"unknown element symbol {symbol!r}")
        if symbol not in ELEMENT_INDEX:
            raise ValueError(
                f"element {symbol!r} is not one of the 86 elements of the ElemNet vector"
            )
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"amount of {symbol} is not a number ({value!r})")
        try:
            amount = float(value)
        except OverflowError:  # an int beyond the float range
            raise ValueError(f"amount of {symbol} is too large for a float") from None
        amounts[symbol] = amounts.get(symbol, 0.0) + amount
    _check_total(amounts)
    return amounts


def _fractions_row(amounts: Mapping[str, float], out: np.ndarray) -> None:
    total = sum(amounts.values())
    for symbol, amount in amounts.items():
        out[ELEMENT_INDEX[symbol]] = amount / total


# ---------------------------------------------------------------------------
# Vectorized fast path
# ---------------------------------------------------------------------------


def _symbol_table() -> np.ndarray:
    """Map (upper - 'A') * 27 + (lower - 'a' + 1 or 0) to an ELEMENTS index, else -1."""
    table = np.full(26 * 27, -1, dtype=np.int16)
    for symbol, index in ELEMENT_INDEX.items():
        code = (ord(symbol[0]) - 65) * 27 + (ord(symbol[1]) - 96 if len(symbol) > 1 else 0)
        table[code] = index
    return table


_SYMBOL_TABLE = _symbol_table()
_POW10_INT = 10 ** np.arange(_MAX_FAST_DIGITS + 1, dtype=np.int64)
_POW10_FLOAT = 10.0 ** np.arange(_MAX_FAST_DIGITS + 1)


def _fast_fractions(formulas: list[str], out: np.ndarray) -> np.ndarray:
    """Featurize plain formulas (symbols with optional decimal amounts) into ``out``.

    Fills the rows of ``out`` (zeros, shape (n, 86), float32) that it handles and
    returns their mask; the others (groups, whitespace, fractions, repeated
    elements, anything invalid) are left for :func:`parse_formula`.
    """
    n = len(formulas)
    handled = np.zeros(n, dtype=bool)
    for start in range(0, n, _CHUNK):
        stop = min(start + _CHUNK, n)
        handled[start:stop] = _fast_chunk(formulas[start:stop], out[start:stop])
    return handled


def _fast_chunk(formulas: list[str], out: np.ndarray) -> np.ndarray:
    n = len(formulas)
    try:
        joined = ("\n".join(formulas) + "\n").encode("ascii")
    except UnicodeEncodeError:
        # Non-ASCII formulas would shift byte offsets: blank them for the slow path.
        formulas = [f if f.isascii() else "" for f in formulas]
        joined = ("\n".join(formulas) + "\n").encode("ascii")
    buf = np.frombuffer(joined, dtype=np.uint8)
    lengths = np.fromiter(map(len, formulas), dtype=np.int64, count=n)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    np.cumsum(lengths[:-1] + 1, out=starts[1:])

    def owner(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(starts, positions, side="right") - 1

    upper = (buf >= 65) & (buf <= 90)
    lower = (buf >= 97) & (buf <= 122)
    digit = (buf >= 48) & (buf <= 57)
    dot = buf == 46
    ok = (lengths > 0) & upper[starts]

    bad = ~(upper | lower | digit | dot)
    # The "\n" after each formula separates them; a newline inside one is whitespace,
    # which only the reference parser handles.
    bad[starts + lengths] = False
    bad[1:] |= lower[1:] & ~upper[:-1]  # three-letter or lowercase-led symbols
    has_dot = bool(dot.any())
    if has_dot:
        bad[1:-1] |= dot[1:-1] & ~(digit[:-2] & digit[2:])
    bad_positions = np.flatnonzero(bad)
    if len(bad_positions):
        ok[owner(bad_positions)] = False

    # Number runs: maximal stretches of digits and dots, each directly after a
    # symbol and starting with a digit. A run's value is mantissa / 10**k with k
    # its digits after the dot: the correctly rounded double, as float() gives.
    numeric = digit | dot if has_dot else digit
    # A run may also open the buffer (a first formula starting with a digit).
    run_start = numeric.copy()
    run_start[1:] &= ~numeric[:-1]
    run_first = np.flatnonzero(run_start)
    n_runs = len(run_first)
    digit_pos = np.flatnonzero(digit)
    digit_run = np.searchsorted(run_first, digit_pos, side="right") - 1
    run_digits = np.bincount(digit_run, minlength=n_runs)
    too_long = run_digits > _MAX_FAST_DIGITS
    if has_dot:
        dot_pos = np.flatnonzero(dot)
        dot_run = np.searchsorted(run_first, dot_pos, side="right") - 1
        too_long |= np.bincount(dot_run, minlength=n_runs) > 1
    if too_long.any():
        ok[owner(run_first[too_long])] = False
    first_digit = np.zeros(n_runs, dtype=np.int64)
    np.cumsum(run_digits[:-1], out=first_digit[1:])
    rank = np.arange(len(digit_pos)) - first_digit[digit_run]
    exponent = np.clip(run_digits[digit_run] - rank - 1, 0, _MAX_FAST_DIGITS)
    digit_values = (buf[digit_pos] - 48).astype(np.int64) * _POW10_INT[exponent]
    # Runs of dots alone (in rejected formulas) have no digits: reduceat must skip them.
    has_digits = run_digits > 0
    mantissa = np.zeros(n_runs, dtype=np.int64)
    if has_digits.any():
        mantissa[has_digits] = np.add.reduceat(digit_values, first_digit[has_digits])
    if has_dot:
        run_dot = np.full(n_runs, np.iinfo(np.int64).max)
        run_dot[dot_run] = dot_pos
        after_dot = digit_pos > run_dot[digit_run]
        frac_digits = np.bincount(digit_run[after_dot], minlength=n_runs)
        run_value = mantissa / _POW10_FLOAT[np.minimum(frac_digits, _MAX_FAST_DIGITS)]
    else:
        run_value = mantissa.astype(np.float64)

    # Element tokens start at each capital letter.
    token_pos = np.flatnonzero(upper)
    has_lower = lower[token_pos + 1]
    second = np.where(has_lower, buf[token_pos + 1].astype(np.int64) - 96, 0)
    element = _SYMBOL_TABLE[(buf[token_pos].astype(np.int64) - 65) * 27 + second]
    token_owner = owner(token_pos)
    unknown = element < 0
    if unknown.any():
        ok[token_owner[unknown]] = False
    after = token_pos + 1 + has_lower
    amount = np.ones(len(token_pos))
    with_number = digit[after]
    amount[with_number] = run_value[np.searchsorted(run_first, after[with_number])]

    # A repeated element (CH3COOH) must be summed before dividing to match the
    # reference parser bit for bit; such formulas take the slow path.
    key = token_owner * N_ELEMENTS + np.maximum(element, 0)
    last_token = np.empty(n * N_ELEMENTS, dtype=np.int64)
    last_token[key] = np.arange(len(key))
    repeated = last_token[key] != np.arange(len(key))
    if repeated.any():
        ok[token_owner[repeated]] = False

    total = np.bincount(token_owner, weights=amount, minlength=n)
    ok &= total > 0
    keep = ok[token_owner]
    out.reshape(-1)[key[keep]] = amount[keep] / total[token_owner[keep]]
    return ok


# ---------------------------------------------------------------------------
# Public featurization
# ---------------------------------------------------------------------------


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
