"""Bad input through the whole pipeline, on real JARVIS rows: the error says what and where.

Each case injects one bad value (or shape, or type) into 300 real rows and
asserts the exception type and that the message names the problem and its
position (row, column, value). ``CASES`` is grouped by kind; the table in
``docs/trust.md`` is checked against it (``test_docs_table_counts_the_cases``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline
from small_estimators import ESTIMATORS

from skmatnet import (
    BRNetRegressor,
    DatasetError,
    ElementFractionTransformer,
    FormulaError,
    load_dataset,
)
from skmatnet import datasets as datasets_module

DOCS = Path(__file__).resolve().parents[1] / "docs"
N_ROWS = 300


def new_net(cls=BRNetRegressor, **overrides):
    return cls(**{**cls._get_test_params(), "max_epochs": 2, **overrides})


def new_pipeline(**ef_params):
    return Pipeline([("ef", ElementFractionTransformer(**ef_params)), ("net", new_net())])


@pytest.fixture(scope="module")
def ctx():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), size=N_ROWS, replace=False)
    formulas, y = formulas.to_numpy(dtype=object)[rows], y[rows]
    X = ElementFractionTransformer().fit_transform(formulas)
    return SimpleNamespace(
        formulas=formulas, y=y, X=X,
        pipe=new_pipeline().fit(formulas, y),
        net=new_net().fit(X, y),
    )


def replaced(values, row, value):
    """A copy of ``values`` with ``values[row] = value`` (object dtype for formulas)."""
    out = np.array(values, dtype=object if values.dtype == object else values.dtype, copy=True)
    out[row] = value
    return out


def x_with(ctx, row, col, value, dtype=np.float32):
    X = ctx.X.astype(dtype, copy=True)
    X[row, col] = value
    return X


def y_with(ctx, row, value, dtype=np.float64):
    y = ctx.y.astype(dtype, copy=True)
    y[row] = value
    return y


@dataclass
class Case:
    kind: str
    id: str
    call: Callable
    error: type
    needles: tuple  # substrings (or re.Pattern) the message must contain

    def check(self, ctx):
        with pytest.raises(self.error) as info:
            self.call(ctx)
        message = str(info.value)
        for needle in self.needles:
            if isinstance(needle, re.Pattern):
                assert needle.search(message), (needle.pattern, message)
            else:
                assert needle in message, (needle, message)
        return info.value


CASES: list[Case] = []


def case(kind, id, error, *needles):
    def register(call):
        CASES.append(Case(kind, id, call, error, needles))
        return call
    return register


# ---------------------------------------------------------------------------
# Formulas, through Pipeline(ElementFractionTransformer -> BRNetRegressor)
# ---------------------------------------------------------------------------

MALFORMED = {
    "unclosed-paren": ("Fe2(O3", "expected ')'"),
    "extra-close": ("Fe2O3)", "unmatched ')'"),
    "mismatched-bracket": ("K3[Fe(CN)6)", "expected ']'"),
    "empty-group": ("Fe()2", "empty group"),
    "lowercase": ("fe2o3", "unexpected 'f'"),
    "two-dots": ("Fe1.2.3O", "malformed number '1.2.3'"),
    "junk-char": ("Fe2O3!", "unexpected '!'"),
    "no-denominator": ("Mg1/Ta", "fraction without denominator"),
    "zero-denominator": ("Mg1/0", "division by zero"),
    "negative": ("Fe-2O3", "negative amount"),
    "leading-digit": ("2Fe", "unexpected '2'"),
    "zero-total": ("Fe0O0", "total amount is zero"),
    "unicode-digit": ("Fe\u00b2O3", "unexpected '\u00b2'"),
    "newline-number": ("Fe2\n3O", "unexpected '3'"),
    "too-deep": ("(" * 40 + "Fe" + ")" * 40, "nested more than 32 deep"),
    "overflow": ("Fe" + "9" * 400, "not finite"),
}
ELEMENTS_OUTSIDE = {
    "Uue": ("Uue2", "unknown element symbol 'Uue'"),
    "Xx": ("Xx2O3", "unknown element symbol 'Xx'"),
    "Uuo": ("UuoO2", "unknown element symbol 'Uuo'"),
    "Og": ("OgO2", "element 'Og' is not one of the 86 elements"),
    "He": ("HeO", "element 'He' is not one of the 86 elements"),
    "Po": ("PoO2", "element 'Po' is not one of the 86 elements"),
    "Fr": ("FrCl", "element 'Fr' is not one of the 86 elements"),
    "Am": ("Am2O3", "element 'Am' is not one of the 86 elements"),
    "Cf": ("CfCl3", "element 'Cf' is not one of the 86 elements"),
    "dict-Og": ({"Og": 1, "O": 2}, "element 'Og' is not one of the 86 elements"),
}
EMPTY_VALUES = {
    "empty-string": ("", "empty formula"),
    "blank": ("  \t", "empty formula"),
    "None": (None, "missing value"),
    "nan": (float("nan"), "missing value"),
    "pd.NA": (pd.NA, "missing value"),
}
WRONG_TYPES = {
    "int": (5, "got int"),
    "float": (3.5, "got float"),
    "bool": (True, "got bool"),
    "bytes": (b"Fe2O3", "got bytes"),
    "list": (["Fe", 2], "got list"),
    "object": (object(), "got object"),
    "dict-bad-amount": ({"Fe": "two"}, "amount of Fe is not a number"),
}


def _formula_cases(kind, table, rows=(7, 123, 299)):
    for i, (name, (value, reason)) in enumerate(table.items()):
        row = rows[i % len(rows)]
        needles = (f"row {row}: {value!r}"[:40], reason, f"1 of {N_ROWS} rows")
        stage = "fit" if i % 2 == 0 else "predict"

        def call(ctx, row=row, value=value, stage=stage):
            bad = replaced(ctx.formulas, row, value)
            if stage == "fit":
                new_pipeline().fit(bad, ctx.y)
            else:
                ctx.pipe.predict(bad)

        CASES.append(Case(kind, f"{name}-{stage}", call, FormulaError, needles))


_formula_cases("malformed formula", MALFORMED)
_formula_cases("unknown or out-of-range element", ELEMENTS_OUTSIDE)
_formula_cases("empty or missing formula", EMPTY_VALUES)
_formula_cases("wrong type in the formula column", WRONG_TYPES)


@case("empty or missing formula", "several-bad-rows", FormulaError,
      "3 of 300 rows", "row 0: ''", "row 150: None", "row 299: 'Og2'")
def _several(ctx):
    bad = replaced(replaced(replaced(ctx.formulas, 0, ""), 150, None), 299, "Og2")
    new_pipeline().fit(bad, ctx.y)


# -- the container of formulas


@case("wrong container for formulas", "None", TypeError, "expected a sequence of formulas",
      "got NoneType")
def _none(ctx):
    new_pipeline().fit(None, ctx.y)


@case("wrong container for formulas", "int", TypeError, "got int")
def _int(ctx):
    ctx.pipe.predict(42)


@case("wrong container for formulas", "single-string", TypeError, "single string",
      "['Fe2O3']")
def _single_string(ctx):
    ctx.pipe.predict("Fe2O3")


@case("wrong container for formulas", "3-d", ValueError, "shape (300, 1, 1)")
def _three_d(ctx):
    new_pipeline().fit(ctx.formulas.reshape(-1, 1, 1), ctx.y)


@case("DataFrame without the formula column", "named-column-missing", ValueError,
      "formula_column 'formula' is not a column of X", "['comp', 'spacegroup']")
def _missing_column(ctx):
    frame = pd.DataFrame({"comp": ctx.formulas, "spacegroup": 1})
    new_pipeline(formula_column="formula").fit(frame, ctx.y)


@case("DataFrame without the formula column", "column-not-named", ValueError,
      "X has 2 columns", "set formula_column")
def _unnamed_column(ctx):
    frame = pd.DataFrame({"comp": ctx.formulas, "spacegroup": 1})
    new_pipeline().fit(frame, ctx.y)


@case("DataFrame without the formula column", "renamed-at-predict", ValueError,
      "feature names")
def _renamed(ctx):
    pipe = new_pipeline(formula_column="formula")
    pipe.fit(pd.DataFrame({"formula": ctx.formulas}), ctx.y)
    pipe.predict(pd.DataFrame({"composition": ctx.formulas}))


@case("DataFrame without the formula column", "integer-position-out-of-range", ValueError,
      "X has 2 columns, but ElementFractionTransformer was fitted with 1")
def _position(ctx):
    ctx.pipe.predict(np.column_stack([ctx.formulas, ctx.formulas]))


# ---------------------------------------------------------------------------
# Empty input
# ---------------------------------------------------------------------------


@case("empty input (0 rows)", "pipeline-fit", ValueError, "0 sample(s)", "BRNetRegressor")
def _empty_pipe(ctx):
    new_pipeline().fit([], [])


@case("empty input (0 rows)", "pipeline-predict", ValueError, "0 sample(s)")
def _empty_pipe_predict(ctx):
    ctx.pipe.predict(np.array([], dtype=object))


@case("empty input (0 rows)", "estimator-fit", ValueError, "0 sample(s) (shape=(0, 86))")
def _empty_net(ctx):
    new_net().fit(ctx.X[:0], ctx.y[:0])


@case("empty input (0 rows)", "estimator-predict", ValueError, "0 sample(s)")
def _empty_net_predict(ctx):
    ctx.net.predict(ctx.X[:0])


@case("empty input (0 rows)", "no-features", ValueError, "0 feature(s)")
def _no_features(ctx):
    new_net().fit(ctx.X[:, :0], ctx.y)


# ---------------------------------------------------------------------------
# Numeric X given to the estimator
# ---------------------------------------------------------------------------

X_NAN = "Rows of NaN come from ElementFractionTransformer(errors='nan')"


@case("NaN or infinity in X", "nan-fit", ValueError,
      "Input X contains NaN in 1 of 300 rows (1 value)", "row 17, column 5: nan", X_NAN)
def _x_nan(ctx):
    new_net().fit(x_with(ctx, 17, 5, np.nan), ctx.y)


@case("NaN or infinity in X", "inf-fit", ValueError, "Input X contains infinity",
      "row 250, column 85: inf")
def _x_inf(ctx):
    new_net().fit(x_with(ctx, 250, 85, np.inf), ctx.y)


@case("NaN or infinity in X", "minus-inf-predict", ValueError, "row 0, column 0: -inf")
def _x_minus_inf(ctx):
    ctx.net.predict(x_with(ctx, 0, 0, -np.inf))


@case("NaN or infinity in X", "float32-overflow", ValueError, "row 42, column 6: inf",
      "float32 range")
def _x_overflow(ctx):
    new_net().fit(x_with(ctx, 42, 6, 1e39, dtype=np.float64), ctx.y)


@case("NaN or infinity in X", "nan-predict", ValueError, "Input X contains NaN",
      "row 99, column 3: nan")
def _x_nan_predict(ctx):
    ctx.net.predict(x_with(ctx, 99, 3, np.nan))


@case("NaN or infinity in X", "nan-rows-from-errors-nan", ValueError,
      "Input X contains NaN in 2 of 300 rows (172 values)", "row 10: all 86 columns",
      "row 200: all 86 columns", X_NAN)
def _x_nan_rows(ctx):
    formulas = replaced(replaced(ctx.formulas, 10, "Xx2"), 200, "")
    pipe = Pipeline([("ef", ElementFractionTransformer(errors="nan")), ("net", new_net())])
    pipe.fit(formulas, ctx.y)


@case("NaN or infinity in X", "dataframe-column-names", ValueError,
      "row 5 (index 'JVASP-5'), column 7 ('F'): nan")
def _x_frame(ctx):
    frame = (ElementFractionTransformer().set_output(transform="pandas")
             .fit_transform(ctx.formulas))
    frame.index = [f"JVASP-{i}" for i in range(N_ROWS)]
    frame.iloc[5, 7] = np.nan
    new_net().fit(frame, ctx.y)


@case("NaN or infinity in X", "many-rows", ValueError, "in 20 of 300 rows",
      "row 0, column 1: nan", "... and 15 more rows")
def _x_many(ctx):
    X = ctx.X.copy()
    X[::15, 1] = np.nan
    new_net().fit(X, ctx.y)


@case("NaN or infinity in X", "X_val", ValueError, "Input X_val contains NaN",
      "row 3, column 2: nan")
def _x_val_nan(ctx):
    X_val = x_with(ctx, 3, 2, np.nan)[:50]
    new_net().fit(ctx.X, ctx.y, X_val=X_val, y_val=ctx.y[:50])


@case("non-numeric X given to the estimator", "formulas", ValueError,
      "X must be numeric, but row 0, column 0 holds", "ElementFractionTransformer")
def _x_formulas(ctx):
    new_net().fit(ctx.formulas.reshape(-1, 1), ctx.y)


@case("non-numeric X given to the estimator", "one-string-cell", ValueError,
      "row 12, column 40 holds 'n/a' (str)")
def _x_string(ctx):
    X = ctx.X.astype(object)
    X[12, 40] = "n/a"
    new_net().fit(X, ctx.y)


@case("non-numeric X given to the estimator", "dict-cell", TypeError,
      "row 1, column 2 holds {'a': 1} (dict)")
def _x_dict(ctx):
    X = ctx.X.astype(object)
    X[1, 2] = {"a": 1}
    ctx.net.predict(X)


@case("non-numeric X given to the estimator", "complex", ValueError,
      "X: Complex data not supported")
def _x_complex(ctx):
    new_net().fit(ctx.X + 1j, ctx.y)


@case("wrong shape or type of X given to the estimator", "1-d", ValueError,
      "X must be 2-D (n_samples, n_features), got a 1-D array of shape (300,)",
      "Reshape your data")
def _x_1d(ctx):
    new_net().fit(ctx.X[:, 0], ctx.y)


@case("wrong shape or type of X given to the estimator", "3-d", ValueError,
      "X must be 2-D (n_samples, n_features), got an array of shape (300, 86, 1)")
def _x_3d(ctx):
    new_net().fit(ctx.X[:, :, None], ctx.y)


@case("wrong shape or type of X given to the estimator", "None", TypeError,
      "X must be an array-like of shape (n_samples, n_features), got None")
def _x_none(ctx):
    new_net().fit(None, ctx.y)


@case("wrong shape or type of X given to the estimator", "None-predict", TypeError,
      "got None")
def _x_none_predict(ctx):
    ctx.net.predict(None)


@case("wrong shape or type of X given to the estimator", "scalar", ValueError,
      "got a scalar 3.0 (float)")
def _x_scalar(ctx):
    ctx.net.predict(3.0)


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

Y_NAN = "Drop the rows without a target value"


@case("NaN or infinity in y", "nan", ValueError,
      "Input y contains NaN in 1 of 300 rows (1 value)", "row 42: nan", Y_NAN)
def _y_nan(ctx):
    new_net().fit(ctx.X, y_with(ctx, 42, np.nan))


@case("NaN or infinity in y", "inf", ValueError, "Input y contains infinity", "row 0: inf")
def _y_inf(ctx):
    new_net().fit(ctx.X, y_with(ctx, 0, np.inf))


@case("NaN or infinity in y", "minus-inf-pipeline", ValueError, "row 299: -inf")
def _y_minus_inf(ctx):
    new_pipeline().fit(ctx.formulas, y_with(ctx, 299, -np.inf))


@case("NaN or infinity in y", "float32-overflow", ValueError, "row 8: inf", "float32 range")
def _y_overflow(ctx):
    new_net().fit(ctx.X, y_with(ctx, 8, 1e39))


@case("NaN or infinity in y", "2-d-column", ValueError, "row 4, column 1: nan",
      "Input y contains NaN")
def _y_2d(ctx):
    Y = np.column_stack([ctx.y, ctx.y])
    Y[4, 1] = np.nan
    new_net().fit(ctx.X, Y)


@case("NaN or infinity in y", "series-index", ValueError, "row 6 (index 'JVASP-6'): nan")
def _y_series(ctx):
    y = pd.Series(y_with(ctx, 6, np.nan), index=[f"JVASP-{i}" for i in range(N_ROWS)])
    new_pipeline().fit(ctx.formulas, y)


@case("NaN or infinity in y", "nullable-NA", ValueError, "Input y contains NaN", "row 11: nan")
def _y_nullable(ctx):
    y = pd.Series(ctx.y, dtype="Float64")
    y[11] = pd.NA
    new_net().fit(ctx.X, y)


@case("NaN or infinity in y", "y_val", ValueError, "Input y_val contains NaN", "row 2: nan")
def _y_val_nan(ctx):
    new_net().fit(ctx.X, ctx.y, X_val=ctx.X[:50], y_val=y_with(ctx, 2, np.nan)[:50])


@case("y of the wrong length", "one-short", ValueError,
      "inconsistent numbers of samples: X has 300 rows but y has 299")
def _y_short(ctx):
    new_net().fit(ctx.X, ctx.y[:-1])


@case("y of the wrong length", "one-long-pipeline", ValueError,
      "X has 300 rows but y has 301")
def _y_long(ctx):
    new_pipeline().fit(ctx.formulas, np.append(ctx.y, 0.0))


@case("y of the wrong length", "y_val", ValueError, "X_val has 50 rows but y_val has 49")
def _y_val_short(ctx):
    new_net().fit(ctx.X, ctx.y, X_val=ctx.X[:50], y_val=ctx.y[:49])


@case("y of the wrong length", "X_val-without-y_val", ValueError,
      "X_val and y_val must be given together")
def _y_val_missing(ctx):
    new_net().fit(ctx.X, ctx.y, X_val=ctx.X[:50])


@case("y of the wrong shape", "3-d", ValueError,
      "y must be 1-D (n_samples,) or 2-D (n_samples, n_outputs), got an array of shape "
      "(300, 1, 1)")
def _y_3d(ctx):
    new_net().fit(ctx.X, ctx.y.reshape(-1, 1, 1))


@case("y of the wrong shape", "no-columns", ValueError, "y has no columns (shape (300, 0))")
def _y_no_columns(ctx):
    new_net().fit(ctx.X, ctx.y.reshape(-1, 1)[:, :0])


@case("y of the wrong shape", "None", ValueError, "requires y to be passed")
def _y_none(ctx):
    new_net().fit(ctx.X, None)


@case("y of the wrong shape", "scalar", TypeError, "y must be an array-like", "got 1.5 (float)")
def _y_scalar(ctx):
    new_net().fit(ctx.X, 1.5)


@case("y of the wrong shape", "targets-change-in-partial-fit", ValueError,
      "y has 2 targets, but BRNetRegressor was fitted with 1")
def _y_targets(ctx):
    net = new_net(max_epochs=1).fit(ctx.X, ctx.y)
    net.partial_fit(ctx.X, np.column_stack([ctx.y, ctx.y]))


@case("non-numeric y", "words", ValueError,
      "y must be numeric, but row 0 holds 'stable' (str)", "pd.to_numeric")
def _y_words(ctx):
    new_net().fit(ctx.X, np.where(ctx.y < 0, "stable", "unstable"))


@case("non-numeric y", "one-string", ValueError, "row 57 holds 'n/a' (str)")
def _y_one_string(ctx):
    y = ctx.y.astype(object)
    y[57] = "n/a"
    new_pipeline().fit(ctx.formulas, y)


@case("non-numeric y", "numbers-as-text", ValueError, "row 0 holds '")
def _y_text_numbers(ctx):
    new_net().fit(ctx.X, ctx.y.astype(str))


@case("non-numeric y", "csv-column-read-as-text", ValueError,
      "row 3 (index 'JVASP-3') holds '-' (str)")
def _y_csv(ctx):
    y = pd.Series(ctx.y.astype(object), index=[f"JVASP-{i}" for i in range(N_ROWS)])
    y.iloc[3] = "-"
    new_net().fit(ctx.X, y)


@case("non-numeric y", "None-in-object", ValueError, "row 9 holds None (NoneType)")
def _y_none_cell(ctx):
    y = ctx.y.astype(object)
    y[9] = None
    new_net().fit(ctx.X, y)


@case("non-numeric y", "complex", ValueError, "y: Complex data not supported")
def _y_complex(ctx):
    new_net().fit(ctx.X, ctx.y + 1j)


@case("non-numeric y", "datetimes", ValueError, "y must be numeric, but row 0 holds")
def _y_dates(ctx):
    new_net().fit(ctx.X, pd.date_range("2020-01-01", periods=N_ROWS).to_numpy())


# ---------------------------------------------------------------------------
# Predicting with other features than in fit; predicting before fit
# ---------------------------------------------------------------------------


@case("different number of features at predict", "85-columns", ValueError,
      "X has 85 features, but BRNetRegressor is expecting 86 features as input")
def _fewer(ctx):
    ctx.net.predict(ctx.X[:, :85])


@case("different number of features at predict", "87-columns", ValueError,
      "X has 87 features, but BRNetRegressor is expecting 86")
def _more(ctx):
    ctx.net.predict(np.column_stack([ctx.X, ctx.X[:, 0]]))


@case("different number of features at predict", "X_val", ValueError,
      "X_val: X has 80 features, but BRNetRegressor is expecting 86")
def _x_val_features(ctx):
    new_net().fit(ctx.X, ctx.y, X_val=ctx.X[:50, :80], y_val=ctx.y[:50])


@case("different number of features at predict", "partial-fit", ValueError,
      "X has 10 features, but BRNetRegressor is expecting 86")
def _partial_fit_features(ctx):
    new_net(max_epochs=1).fit(ctx.X, ctx.y).partial_fit(ctx.X[:, :10], ctx.y)


for _cls in ESTIMATORS:
    CASES.append(Case(
        "predict before fit", _cls.__name__,
        lambda ctx, cls=_cls: new_net(cls).predict(ctx.X), NotFittedError,
        (f"This {_cls.__name__} instance is not fitted yet",),
    ))


@case("predict before fit", "pipeline", NotFittedError, "Pipeline instance is not fitted yet")
def _pipe_unfitted(ctx):
    new_pipeline().predict(ctx.formulas)


# ---------------------------------------------------------------------------
# Dataset files
# ---------------------------------------------------------------------------


def _register(monkeypatch, home: Path, name: str, text: str):
    """A one-file dataset whose registry entry matches ``text``'s checksum."""
    import hashlib

    path = home / "toy" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    file = datasets_module.DataFile(
        f"toy/{name}.csv", "https://example.invalid/toy.csv",
        hashlib.sha256(text.encode()).hexdigest(), len(text.encode()), text.count("\n") - 1,
    )
    info = datasets_module.DatasetInfo(
        name="toy", description="", files=(file,), formula_column="formula",
        target_column="target", target="t", units="u", license="", source="", citation="",
        n_compositions=1,
    )
    monkeypatch.setitem(datasets_module._REGISTRY, "toy", info)
    return path


@pytest.mark.parametrize("problem", ["missing", "truncated", "corrupt", "no-columns"])
def test_dataset_file_errors_are_one_line(problem, data_dir, tmp_path, monkeypatch):
    """Loaders answer with a typed error naming the file, in one line (for the CLI)."""
    monkeypatch.delenv("SKMATNET_DATA", raising=False)
    home = tmp_path / "home"
    if problem == "no-columns":
        path = _register(monkeypatch, home, "a", "composition,energy\nNaCl,1.0\n")
        with pytest.raises(DatasetError) as info:
            load_dataset("toy", data_home=home, download=False)
        assert "expected columns 'formula' and 'target'" in str(info.value)
        assert "['composition', 'energy']" in str(info.value)
    else:
        path = home / "jarvis" / "formation_energy_test.csv"
        path.parent.mkdir(parents=True)
        source = (data_dir / "jarvis" / "formation_energy_test.csv").read_bytes()
        (home / "jarvis" / "formation_energy_train.csv").write_bytes(
            (data_dir / "jarvis" / "formation_energy_train.csv").read_bytes())
        expected = {"missing": datasets_module.DataNotFoundError,
                    "truncated": datasets_module.ChecksumError,
                    "corrupt": datasets_module.ChecksumError}[problem]
        if problem == "truncated":
            path.write_bytes(source[: len(source) // 2])
        elif problem == "corrupt":
            path.write_bytes(source.replace(b"-0.", b"-1.", 1))
        monkeypatch.setenv("SKMATNET_CACHE", str(tmp_path / "cache"))
        with pytest.raises(expected) as info:
            load_dataset("jarvis_formation_energy", data_home=home, download=False)
        assert "checksum mismatch" in str(info.value) or "download=False" in str(info.value)
        assert isinstance(info.value, DatasetError)
    message = str(info.value)
    assert str(path) in message or "formation_energy_test.csv" in message
    assert "\n" not in message


# ---------------------------------------------------------------------------
# Running the cases; the documentation's table
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", CASES, ids=[f"{c.kind}:{c.id}" for c in CASES])
def test_bad_input_is_named(bad, ctx):
    error = bad.check(ctx)
    if isinstance(error, FormulaError):
        assert error.problems and all(len(p) == 3 for p in error.problems)


def test_valid_input_still_fits_and_predicts(ctx):
    """The checks do not reject good data: float64, lists, DataFrames, Series, 2-D y."""
    prediction = ctx.pipe.predict(list(ctx.formulas))
    assert prediction.shape == (N_ROWS,) and np.isfinite(prediction).all()
    frame = pd.DataFrame(ctx.X.astype(np.float64))
    y = pd.Series(ctx.y, index=np.arange(N_ROWS) + 1000)
    net = new_net(max_epochs=1).fit(frame, y)
    np.testing.assert_array_equal(net.predict(frame), net.predict(ctx.X))
    two = new_net(max_epochs=1).fit(ctx.X, np.column_stack([ctx.y, ctx.y > 0]))
    assert two.predict(ctx.X).shape == (N_ROWS, 2)
    ints = new_net(max_epochs=1).fit(ctx.X, np.round(ctx.y).astype(int).astype(object))
    assert ints.n_outputs_ == 1


def case_counts() -> Counter:
    """Bad-input cases per kind: the counts written in docs/trust.md."""
    counts = Counter(c.kind for c in CASES)
    counts["dataset files (loaders)"] = 4  # test_dataset_file_errors_are_one_line
    return counts


def test_docs_table_counts_the_cases():
    text = (DOCS / "trust.md").read_text()
    table = dict(re.findall(r"^\| ([^|]+?) \| (\d+) \|", text, flags=re.MULTILINE))
    counts = case_counts()
    assert {kind: int(n) for kind, n in table.items() if kind in counts} == dict(counts), (
        "update the table in docs/trust.md: " + repr(dict(counts)))
    assert f"**{sum(counts.values())} cases**" in text
