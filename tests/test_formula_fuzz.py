"""Property-based fuzzing of the formula parser and the vectorized featurizer.

Three properties:

- arbitrary text and arbitrary objects are answered by the documented errors only
  (``ValueError`` from :func:`parse_formula`, :class:`FormulaError` from
  :func:`element_fractions`, ``TypeError`` for a non-string), never by an
  IndexError, KeyError, RecursionError, OverflowError, ...;
- the numpy fast path and the reference parser give bit-identical rows for every
  string, valid or not (``errors="nan"`` never raises);
- generated valid formulas give the exact amounts (checked with rational
  arithmetic) and fractions bit-identical to pymatgen's ``Composition``.

The number of examples comes from the hypothesis profile of ``conftest.py``
(derandomized, 200 per test; ``HYPOTHESIS_PROFILE=explore`` for a longer search).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from skmatnet import ELEMENTS, FormulaError, element_fractions, parse_formula
from skmatnet.elements import ELEMENT_INDEX, PERIODIC_TABLE

hypothesis = pytest.importorskip("hypothesis")
pymatgen_core = pytest.importorskip("pymatgen.core", reason="pymatgen is the test oracle")

from hypothesis import event, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# pymatgen's Composition drops amounts (and fractions) below this; skmatnet keeps them.
PYMATGEN_TOLERANCE = pymatgen_core.Composition.amount_tolerance
# Tests drawing whole batches of formulas spend most of their time generating them:
# a quarter of the profile's examples (50 under the default "ci" profile).
BATCHES = settings(max_examples=max(10, settings().max_examples // 4))

# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

DIGITS = "0123456789"
JUNK = [*"()[]{}/.-+*@ \t\n,;:'\"#$%&=?!_~^|\\<>", "²", "٣", "½", "Ⅳ", "\x00", "é", "\u00a0"]
SYMBOLISH = st.one_of(
    st.sampled_from(PERIODIC_TABLE),
    st.sampled_from(["Xx", "Uue", "Uuo", "D", "T", "fe", "FE", "Q", "Ab", "Og", "He"]),
)
NUMBERISH = st.one_of(
    st.integers(0, 10**6).map(str),
    st.from_regex(r"[0-9]{0,6}\.[0-9]{0,6}(\.[0-9]{1,3})?", fullmatch=True),
    st.from_regex(r"[0-9]{1,4}/[0-9]{0,4}", fullmatch=True),
    st.integers(1, 400).map(lambda n: "9" * n),  # beyond float range
    st.sampled_from(["-1", "1e5", "0", "0.0", "inf", "nan", "1_000"]),
)
TOKEN = st.one_of(SYMBOLISH, SYMBOLISH, NUMBERISH, st.sampled_from(JUNK), st.text(max_size=2))
#: Formula-like text: element symbols, numbers, brackets, slashes, spaces and junk.
GRAMMARISH = st.lists(TOKEN, max_size=25).map("".join)
#: Deep nesting, beyond any recursion limit.
NESTED = st.builds(
    lambda depth, close, inner: "(" * depth + inner + ")" * close,
    st.integers(0, 3000), st.integers(0, 3000), st.sampled_from(["Fe", "", "Fe2O3", "("]),
)
ANY_TEXT = st.one_of(st.text(), GRAMMARISH, GRAMMARISH, NESTED)


def _amount_text():
    integer = st.integers(1, 999).map(str)
    decimal = st.builds(
        lambda whole, digits: f"{whole}.{digits}",
        st.integers(0, 99), st.text(DIGITS, min_size=1, max_size=4),
    ).filter(lambda text: float(text) > 0)
    return st.one_of(st.just(""), integer, decimal)


def _atom(symbol: str, space: str, amount: str) -> tuple[str, list[tuple[str, Fraction]]]:
    return symbol + space + amount, [(symbol, Fraction(amount) if amount else Fraction(1))]


def _group(brackets, children, space, amount):
    factor = Fraction(amount) if amount else Fraction(1)
    text = brackets[0] + "".join(t for t, _ in children) + brackets[1] + space + amount
    return text, [(s, v * factor) for _, terms in children for s, v in terms]


SPACE = st.sampled_from(["", "", "", " "])
ATOM = st.builds(_atom, st.sampled_from(ELEMENTS), SPACE, _amount_text())
TREE = st.recursive(
    ATOM,
    lambda children: st.builds(
        _group, st.sampled_from(["()", "[]"]), st.lists(children, min_size=1, max_size=4),
        SPACE, _amount_text(),
    ),
    max_leaves=10,
)


@st.composite
def valid_formulas(draw):
    """A formula string and its exact element amounts (rationals), in written order."""
    parts = draw(st.lists(TREE, min_size=1, max_size=5))
    exact: dict[str, Fraction] = {}
    for _, terms in parts:
        for symbol, value in terms:
            exact[symbol] = exact.get(symbol, Fraction(0)) + value
    return "".join(text for text, _ in parts), exact


def insert_junk(formula: str, position: int, junk: str) -> str:
    position %= len(formula) + 1
    return formula[:position] + junk + formula[position:]


INVALIDATED = st.builds(
    insert_junk, valid_formulas().map(lambda pair: pair[0]), st.integers(0, 200),
    st.sampled_from([*JUNK, "Xx", "Og", "-", "1/0", "..", "\n7"]),
)
NON_STRINGS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.binary(max_size=8),
    st.dictionaries(st.one_of(SYMBOLISH, st.integers()),
                    st.one_of(st.integers(), st.floats(), st.text(max_size=3)), max_size=4),
)


def reference_row(formula: str) -> np.ndarray | None:
    """The row element_fractions must give, from the reference parser alone."""
    try:
        amounts = parse_formula(formula)
    except ValueError:
        return None
    total = sum(amounts.values())
    row = np.zeros(len(ELEMENTS))
    for symbol, amount in amounts.items():
        row[ELEMENT_INDEX[symbol]] = amount / total
    return row.astype(np.float32)


# ---------------------------------------------------------------------------
# Only documented errors
# ---------------------------------------------------------------------------


@given(ANY_TEXT)
@example("(" * 5000 + "Fe" + ")" * 5000)
@example("Fe" + "9" * 308 + "O" + "9" * 308)
@example("Fe\u0663O")
def test_parse_formula_answers_any_text_with_value_error_only(text):
    try:
        amounts = parse_formula(text)
    except ValueError as exc:
        assert type(exc) is ValueError and str(exc)
        return
    assert amounts and all(symbol in ELEMENT_INDEX for symbol in amounts)
    values = list(amounts.values())
    assert all(math.isfinite(v) and v >= 0 for v in values)
    assert 0 < sum(values) < math.inf


@given(NON_STRINGS)
def test_parse_formula_rejects_non_strings_with_type_error(value):
    with pytest.raises(TypeError, match="expected a formula string"):
        parse_formula(value)


@BATCHES
@given(st.lists(st.one_of(ANY_TEXT, INVALIDATED, valid_formulas().map(lambda p: p[0])),
                max_size=12))
@example(["Fe\n2O", "Fe2\n3O", "NaCl"])  # newlines inside formulas
@example(["2Fe", "NaCl"])  # a digit opening the fast path's buffer
@example(["Fe.O", "."])  # runs of dots without digits
def test_fast_path_and_reference_parser_agree_on_any_strings(formulas):
    rows = element_fractions(formulas, errors="nan")  # never raises for strings
    assert rows.shape == (len(formulas), 86) and rows.dtype == np.float32
    bad = []
    for i, formula in enumerate(formulas):
        expected = reference_row(formula)
        if expected is None:
            bad.append(i)
            assert np.isnan(rows[i]).all(), formula
        else:
            np.testing.assert_array_equal(rows[i], expected, err_msg=repr(formula))
    if bad:
        with pytest.raises(FormulaError) as info:
            element_fractions(formulas)
        assert [row for row, _, _ in info.value.problems] == bad
        assert all(formulas[row] == value and reason for row, value, reason in info.value.problems)
        assert f"{len(bad)} of {len(formulas)} rows could not be featurized" in str(info.value)
    else:
        np.testing.assert_array_equal(element_fractions(formulas), rows)


@given(st.lists(st.one_of(NON_STRINGS, ANY_TEXT), max_size=8))
@example([{"Fe": 10**400}])
@example([{"Fe": 1e308, "O": 1e308}])
def test_mixed_objects_give_formula_error_naming_rows(values):
    rows = element_fractions(values, errors="nan")
    failed = np.flatnonzero(np.isnan(rows).any(axis=1)).tolist()
    valid = np.flatnonzero(~np.isnan(rows).any(axis=1))
    np.testing.assert_allclose(rows[valid].sum(axis=1), 1.0, rtol=1e-5)
    assert (rows[valid] >= 0).all()
    if failed:
        with pytest.raises(FormulaError) as info:
            element_fractions(values)
        assert [row for row, _, _ in info.value.problems] == failed
        assert f"row {failed[0]}: " in str(info.value)
    else:
        element_fractions(values)


# ---------------------------------------------------------------------------
# Valid formulas: exact, and bit-identical to pymatgen
# ---------------------------------------------------------------------------


@given(valid_formulas())
@example(("(O0.1O0.2)3", {"O": Fraction(9, 10)}))
@example(("Fe0.0001(O0.0001)0.0001", {"Fe": Fraction(1, 10**4), "O": Fraction(1, 10**8)}))
def test_valid_formulas_are_exact_and_match_pymatgen(case):
    formula, exact = case
    amounts = parse_formula(formula)
    assert list(amounts) == list(exact)  # order of first appearance
    for symbol, value in exact.items():
        assert amounts[symbol] == pytest.approx(float(value), rel=1e-12)

    total = sum(exact.values())
    exact_row = np.zeros(len(ELEMENTS))
    for symbol, value in exact.items():
        exact_row[ELEMENT_INDEX[symbol]] = value / total
    row = element_fractions([formula])[0]
    # float64 arithmetic then one rounding to float32: at most one float32 ulp from exact.
    np.testing.assert_array_max_ulp(row, exact_row.astype(np.float32), maxulp=1)

    ours = {symbol: amount / sum(amounts.values()) for symbol, amount in amounts.items()}
    if min(min(amounts.values()), min(ours.values())) < PYMATGEN_TOLERANCE:
        # Documented difference: pymatgen drops amounts and fractions below 1e-8.
        event("amount or fraction below pymatgen's tolerance")
        return
    composition = pymatgen_core.Composition(formula)
    assert amounts == composition.get_el_amt_dict()  # same float64 arithmetic
    assert ours == composition.fractional_composition.get_el_amt_dict()
    reference = np.zeros(len(ELEMENTS))
    for symbol, value in ours.items():
        reference[ELEMENT_INDEX[symbol]] = value
    np.testing.assert_array_equal(row, reference.astype(np.float32))


@BATCHES
@given(st.lists(valid_formulas().map(lambda pair: pair[0]), min_size=1, max_size=12))
def test_valid_batches_equal_row_by_row_pymatgen(formulas):
    """Batches mix the fast path (plain formulas) and the reference parser (the rest)."""
    rows = element_fractions(formulas)
    for formula, row in zip(formulas, rows, strict=True):
        amounts = parse_formula(formula)
        total = sum(amounts.values())
        if min(amounts.values()) / total < PYMATGEN_TOLERANCE or min(amounts.values()) < (
            PYMATGEN_TOLERANCE
        ):
            continue
        fractions = pymatgen_core.Composition(formula).fractional_composition
        expected = np.zeros(len(ELEMENTS))
        for symbol, value in fractions.get_el_amt_dict().items():
            expected[ELEMENT_INDEX[symbol]] = value
        np.testing.assert_array_equal(row, expected.astype(np.float32), err_msg=formula)
