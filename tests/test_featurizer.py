"""ElementFractionTransformer: exactness on real data, notation, bad input, sklearn API."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from skmatnet import ELEMENTS, ElementFractionTransformer, FormulaError, element_fractions
from skmatnet.elements import ELEMENT_INDEX, PERIODIC_TABLE
from skmatnet.featurizer import _fast_fractions, parse_formula

pymatgen_core = pytest.importorskip("pymatgen.core", reason="pymatgen is the test oracle")


def reference_fractions(formulas) -> np.ndarray:
    """pymatgen's fractional composition, in ELEMENTS order, rounded to float32."""
    out = np.zeros((len(formulas), len(ELEMENTS)), dtype=np.float64)
    for row, formula in enumerate(formulas):
        comp = pymatgen_core.Composition(formula).fractional_composition
        for symbol, amount in comp.get_el_amt_dict().items():
            out[row, ELEMENT_INDEX[symbol]] = amount
    return out.astype(np.float32)


def formula_files(data_dir: Path) -> list[Path]:
    files = sorted(data_dir.glob("*/*.csv"))
    assert len(files) == 13, files
    return files


def read_formulas(path: Path) -> pd.Series:
    frame = pd.read_csv(path)
    return frame["pretty_comp" if "pretty_comp" in frame else "formula"]


# ---------------------------------------------------------------------------
# Exactness on every real formula
# ---------------------------------------------------------------------------


def test_identical_to_pymatgen_on_every_shared_formula(data_dir):
    formulas = pd.unique(pd.concat([read_formulas(p) for p in formula_files(data_dir)]))
    assert len(formulas) > 450_000
    ours = element_fractions(formulas)
    expected = reference_fractions(formulas)
    mismatched = np.flatnonzero((ours != expected).any(axis=1))
    assert len(mismatched) == 0, [formulas[i] for i in mismatched[:10]]


@pytest.mark.parametrize("part", ["train", "validation", "test"])
def test_matches_published_element_columns(data_dir, part):
    frame = pd.read_csv(data_dir / "sample" / f"{part}.csv")
    assert list(frame.columns[1:87]) == list(ELEMENTS)
    published = frame[list(ELEMENTS)].to_numpy(np.float32)
    ours = element_fractions(frame["pretty_comp"])
    np.testing.assert_array_max_ulp(ours, published, maxulp=1)


def test_rows_sum_to_one_and_are_float32(data_dir):
    formulas = read_formulas(data_dir / "jarvis" / "formation_energy_train.csv")
    Xt = ElementFractionTransformer().fit_transform(formulas)
    assert Xt.dtype == np.float32 and Xt.shape == (len(formulas), 86)
    np.testing.assert_allclose(Xt.sum(axis=1), 1.0, rtol=1e-6)
    assert (Xt >= 0).all()


# ---------------------------------------------------------------------------
# Notation
# ---------------------------------------------------------------------------

TRICKY = [
    "Fe2O3", "Li0.5CoO2", "Ca(OH)2", "K3[Fe(CN)6]", "Ba3NbFe3(SiO2)2", "(NH4)2SO4",
    "CH3COOH", "H", "Co12Mn5Nd2", "Lu(MnGe)6", "Na0.333Cl0.667", "Mg((OH)2)3",
    "Fe2 O3", "Ce1.00000001O2", "Ta0.0O2", "Y3N(C80)",
]


@pytest.mark.parametrize("formula", TRICKY)
def test_tricky_formulas_match_pymatgen(formula):
    np.testing.assert_array_equal(element_fractions([formula]), reference_fractions([formula]))


def test_same_composition_same_vector():
    rows = element_fractions(["Fe2O3", "O3Fe2", " Fe2O3 ", "Fe4O6", "Fe2(O)3", "[Fe2]O3",
                              "Fe0.4O0.6", "Fe2/5O3/5"])
    np.testing.assert_allclose(rows, np.repeat(rows[:1], len(rows), axis=0), rtol=1e-7)


def test_fraction_form_of_elemnet():
    row = element_fractions(["Mg1/3Ta2/3"])[0]
    assert row[ELEMENT_INDEX["Mg"]] == np.float32(1 / 3)
    assert row[ELEMENT_INDEX["Ta"]] == np.float32(2 / 3)


def test_parse_formula_amounts():
    assert parse_formula("K3[Fe(CN)6]") == {"K": 3.0, "Fe": 1.0, "C": 6.0, "N": 6.0}
    assert parse_formula("CH3COOH") == {"C": 2.0, "H": 4.0, "O": 2.0}
    assert parse_formula("  Li0.5CoO2\t") == {"Li": 0.5, "Co": 1.0, "O": 2.0}


def test_fast_path_agrees_with_reference_parser():
    rng = np.random.default_rng(0)
    symbols = np.array(ELEMENTS)
    formulas = []
    for _ in range(3000):
        k = rng.integers(1, 6)
        parts = []
        for symbol in rng.choice(symbols, size=k, replace=False):
            style = rng.integers(4)
            decimal = f"{rng.uniform(0.01, 9):.{rng.integers(1, 6)}f}"
            amount = ["", str(rng.integers(1, 40)), decimal, str(rng.integers(100, 10**6))][style]
            parts.append(f"{symbol}{amount}")
        formulas.append("".join(parts))
    out = np.zeros((len(formulas), 86), dtype=np.float32)
    handled = _fast_fractions(formulas, out)
    assert handled.mean() > 0.99  # the fast path is really exercised
    for formula, row, fast in zip(formulas, out, handled, strict=False):
        expected = np.zeros(86, dtype=np.float64)
        amounts = parse_formula(formula)
        total = sum(amounts.values())
        for symbol, amount in amounts.items():
            expected[ELEMENT_INDEX[symbol]] = amount / total
        if fast:
            np.testing.assert_array_equal(row, expected.astype(np.float32), err_msg=formula)
    np.testing.assert_array_equal(element_fractions(formulas[:200]),
                                  reference_fractions(formulas[:200]))


def test_repeated_formulas_parsed_once(monkeypatch):
    import skmatnet.featurizer._transform as featurizer

    seen = []
    original = featurizer._fast_fractions

    def spy(formulas, out):
        seen.append(len(formulas))
        return original(formulas, out)

    monkeypatch.setattr(featurizer, "_fast_fractions", spy)
    rows = element_fractions(["NaCl", "Fe2O3"] * 500)
    assert seen == [2]
    assert rows.shape == (1000, 86)
    np.testing.assert_array_equal(rows[::2], rows[:1].repeat(500, axis=0))


# ---------------------------------------------------------------------------
# Input types
# ---------------------------------------------------------------------------

FORMULAS = ["Fe2O3", "NaCl", "Ca(OH)2"]


@pytest.fixture(scope="module")
def expected_rows():
    return reference_fractions(FORMULAS)


@pytest.mark.parametrize(
    "make",
    [
        list,
        tuple,
        lambda f: np.array(f),
        lambda f: np.array(f, dtype=object),
        lambda f: pd.Series(f, index=[10, 11, 12]),
        lambda f: pd.Series(f, dtype="string"),
        lambda f: np.array(f, dtype=object).reshape(-1, 1),
        lambda f: [[x] for x in f],
        lambda f: pd.DataFrame({"formula": f}),
        lambda f: (x for x in f),
    ],
    ids=["list", "tuple", "str-array", "object-array", "series", "string-series",
         "2d-array", "nested-list", "dataframe", "generator"],
)
def test_input_containers(make, expected_rows):
    np.testing.assert_array_equal(ElementFractionTransformer().fit_transform(make(FORMULAS)),
                                  expected_rows)


def test_dataframe_with_formula_column(expected_rows):
    frame = pd.DataFrame({"id": [1, 2, 3], "comp": FORMULAS, "y": [0.1, 0.2, 0.3]})
    transformer = ElementFractionTransformer(formula_column="comp").fit(frame)
    np.testing.assert_array_equal(transformer.transform(frame), expected_rows)
    assert transformer.n_features_in_ == 3
    assert list(transformer.feature_names_in_) == ["id", "comp", "y"]


def test_compositions_and_dicts(expected_rows):
    values = [pymatgen_core.Composition("Fe2O3"), {"Na": 1, "Cl": 1.0},
              pymatgen_core.Composition({"Ca": 1, "O": 2, "H": 2})]
    np.testing.assert_array_equal(element_fractions(values), expected_rows)
    mixed = ["Fe2O3", {"Na": 1, "Cl": 1}, pymatgen_core.Composition("Ca(OH)2")]
    np.testing.assert_array_equal(element_fractions(mixed), expected_rows)


def test_species_composition_uses_elements():
    comp = pymatgen_core.Composition({"Fe2+": 1, "O2-": 1})
    row = element_fractions([comp])[0]
    assert row[ELEMENT_INDEX["Fe"]] == row[ELEMENT_INDEX["O"]] == np.float32(0.5)


def test_dicts_do_not_import_pymatgen():
    import subprocess
    import sys

    code = (
        "import sys; from skmatnet import element_fractions; "
        "element_fractions(['Fe2O3', {'Na': 1, 'Cl': 1}]); "
        "assert not any(m.startswith('pymatgen') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

BAD = {
    "malformed-open": ("Fe2(O3", "expected ')'"),
    "malformed-close": ("Fe2O3)", "unmatched ')'"),
    "mismatched-bracket": ("K3[Fe(CN)6)", "expected ']'"),
    "empty-group": ("Fe()2", "empty group"),
    "lowercase": ("fe2o3", "unexpected 'f'"),
    "symbol-typo": ("Xx2O3", "unknown element symbol 'Xx'"),
    "three-letters": ("Uuo", "unknown element symbol 'Uuo'"),
    "two-dots": ("Fe1.2.3O", "malformed number '1.2.3'"),
    "bad-char": ("Fe2O3!", "unexpected '!'"),
    "no-denominator": ("Mg1/Ta", "fraction without denominator"),
    "zero-denominator": ("Mg1/0", "division by zero"),
    "empty": ("", "empty formula"),
    "blank": ("   ", "empty formula"),
    "none": (None, "missing value"),
    "nan": (float("nan"), "missing value"),
    "pd-na": (pd.NA, "missing value"),
    "int": (5, "got int"),
    "bytes": (b"Fe2O3", "got bytes"),
    "list": (["Fe", 2], "got list"),
    "zero-total": ("Fe0O0", "total amount is zero"),
    "negative": ("Fe-2O3", "negative amount"),
    "dict-negative": ({"Fe": -1, "O": 2}, "negative amount -1 for Fe"),
    "dict-zero": ({"Fe": 0}, "total amount is zero"),
    "dict-unknown": ({"Qq": 1}, "unknown element symbol 'Qq'"),
    "dict-not-number": ({"Fe": "two"}, "not a number"),
    "dict-inf": ({"Fe": math.inf}, "not finite"),
}
AFTER_PU = PERIODIC_TABLE[PERIODIC_TABLE.index("Pu") + 1:]
OUTSIDE_86 = ["He", "Ne", "Ar", "Po", "At", "Rn", "Fr", "Ra", *AFTER_PU]


@pytest.mark.parametrize("value, reason", BAD.values(), ids=BAD.keys())
def test_bad_value_is_named_with_row_and_reason(value, reason):
    formulas = ["NaCl", "Fe2O3", value]
    with pytest.raises(FormulaError) as info:
        element_fractions(formulas)
    message = str(info.value)
    assert "1 of 3 rows could not be featurized" in message
    assert f"row 2: {value!r}"[:40] in message
    assert reason in message
    assert info.value.problems == [(2, value, info.value.problems[0][2])]
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("symbol", OUTSIDE_86)
def test_elements_outside_the_86_are_rejected(symbol):
    with pytest.raises(FormulaError, match=f"element '{symbol}' is not one of the 86"):
        element_fractions([f"{symbol}2O"])
    with pytest.raises(FormulaError, match=f"element '{symbol}' is not one of the 86"):
        element_fractions([{symbol: 1}])


def test_all_bad_rows_reported_together():
    formulas = ["NaCl"] + [f"Xx{i}" for i in range(1, 9)] + ["He", None]
    with pytest.raises(FormulaError) as info:
        element_fractions(formulas)
    message = str(info.value)
    assert "10 of 11 rows could not be featurized" in message
    assert "row 1: 'Xx1'" in message and "row 5: 'Xx5'" in message
    assert "row 6:" not in message
    assert "... and 5 more rows" in message
    assert [row for row, _, _ in info.value.problems] == list(range(1, 11))


def test_repeated_bad_formula_reports_every_row():
    with pytest.raises(FormulaError) as info:
        element_fractions(["Xx", "NaCl", "Xx"])
    assert [row for row, _, _ in info.value.problems] == [0, 2]


def test_errors_nan_gives_nan_rows():
    formulas = ["NaCl", "Xx2", None, "Fe2O3", ""]
    Xt = ElementFractionTransformer(errors="nan").fit_transform(formulas)
    bad = np.isnan(Xt).any(axis=1)
    assert bad.tolist() == [False, True, True, False, True]
    assert np.isnan(Xt[bad]).all()
    np.testing.assert_array_equal(Xt[~bad], reference_fractions(["NaCl", "Fe2O3"]))


def test_invalid_parameters_and_containers():
    with pytest.raises(ValueError, match=r"'errors' parameter of ElementFractionTransformer must "
                                         r"be a str among \{'(raise|nan)', '(raise|nan)'\}"):
        ElementFractionTransformer(errors="ignore").fit(["NaCl"])
    with pytest.raises(TypeError, match="single string"):
        ElementFractionTransformer().fit_transform("NaCl")
    with pytest.raises(ValueError, match="shape"):
        element_fractions(np.array([["NaCl", "KCl"], ["Fe", "O"]]).reshape(2, 2, 1))
    with pytest.raises(ValueError, match="set formula_column"):
        ElementFractionTransformer().fit(pd.DataFrame({"a": ["NaCl"], "b": ["KCl"]}))
    with pytest.raises(ValueError, match="formula_column 'comp' is not a column"):
        ElementFractionTransformer(formula_column="comp").fit(pd.DataFrame({"f": ["NaCl"]}))


def test_empty_input_gives_empty_matrix():
    assert element_fractions([]).shape == (0, 86)


# ---------------------------------------------------------------------------
# scikit-learn behaviour
# ---------------------------------------------------------------------------


def test_feature_names_and_pandas_output():
    transformer = ElementFractionTransformer().set_output(transform="pandas")
    frame = pd.DataFrame({"formula": FORMULAS}, index=["a", "b", "c"])
    out = transformer.fit_transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(ELEMENTS)
    assert list(out.index) == ["a", "b", "c"]
    assert out.loc["a", "O"] == np.float32(0.6)
    assert list(transformer.get_feature_names_out()) == list(ELEMENTS)
    assert transformer.n_features_in_ == 1
    assert list(transformer.feature_names_in_) == ["formula"]


def test_feature_names_checked_like_sklearn():
    transformer = ElementFractionTransformer().fit(pd.DataFrame({"formula": FORMULAS}))
    with pytest.raises(ValueError, match="feature names"):
        transformer.transform(pd.DataFrame({"comp": FORMULAS}))
    fitted_on_list = ElementFractionTransformer().fit(FORMULAS)
    assert fitted_on_list.n_features_in_ == 1
    assert not hasattr(fitted_on_list, "feature_names_in_")


def test_stateless_transform_without_fit(expected_rows):
    np.testing.assert_array_equal(ElementFractionTransformer().transform(FORMULAS), expected_rows)


def test_pipeline_clone_and_params(data_dir):
    frame = pd.read_csv(data_dir / "jarvis" / "formation_energy_test.csv")
    pipe = Pipeline([("ef", ElementFractionTransformer()), ("ridge", Ridge(alpha=1e-3))])
    pipe.fit(frame["pretty_comp"], frame["formation_energy_peratom"])
    assert pipe.score(frame["pretty_comp"], frame["formation_energy_peratom"]) > 0.3
    copy = clone(pipe)
    assert copy.get_params()["ef__errors"] == "raise"
    assert not hasattr(copy.named_steps["ridge"], "coef_")
    assert list(pipe[:-1].get_feature_names_out()) == list(ELEMENTS)
