"""BRNet train/val/test split and element-count stratified K-fold, on real JARVIS data."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from shared_data import SHARED, needs_data
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, check_cv, cross_val_score
from sklearn.pipeline import Pipeline

from skmatnet import ElementFractionTransformer, element_fractions
from skmatnet.datasets import load_dataset
from skmatnet.model_selection import (
    ElementCountStratifiedKFold,
    merge_rare_strata,
    n_elements,
    train_val_test_split,
)

REPO_ROOT = Path(__file__).resolve().parents[1]




@pytest.fixture(scope="module")
def jarvis() -> pd.DataFrame:
    if SHARED is None:
        pytest.skip("real data not found: set SKMATNET_DATA to a copy of shared/data")
    return load_dataset("jarvis_formation_energy", data_home=SHARED, download=False)


def _proportions(counts: np.ndarray) -> np.ndarray:
    return np.bincount(counts, minlength=10) / len(counts)


# ---------------------------------------------------------------------------
# n_elements and merge_rare_strata
# ---------------------------------------------------------------------------


def test_n_elements_inputs():
    formulas = ["Fe2O3", "O3Fe2", "Cu", "BaTiO3", "Ca(OH)2", "K3[Fe(CN)6]"]
    expected = [2, 2, 1, 3, 3, 4]
    assert n_elements(formulas).tolist() == expected
    assert n_elements(np.array(formulas)).tolist() == expected
    assert n_elements(pd.Series(formulas, index=list("abcdef"))).tolist() == expected
    assert n_elements(pd.DataFrame({"formula": formulas, "target": 0.0})).tolist() == expected
    assert n_elements(np.array(formulas, dtype=object)[:, None]).tolist() == expected
    assert n_elements([{"Fe": 2, "O": 3}, {"Na": 1}]).tolist() == [2, 1]
    fractions = element_fractions(formulas)
    assert n_elements(fractions).dtype == np.int64
    assert n_elements(fractions).tolist() == expected
    assert n_elements(pd.DataFrame(fractions)).tolist() == expected
    assert n_elements(sparse.csr_matrix(fractions)).tolist() == expected
    assert n_elements(fractions.tolist()).tolist() == expected
    assert n_elements(np.array([[0.5, np.nan, 0.5]])).tolist() == [2]


def test_n_elements_errors():
    with pytest.raises(ValueError, match="2-D"):
        n_elements(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="formula column"):
        n_elements(pd.DataFrame({"a": ["NaCl"], "b": ["Cu"]}))
    with pytest.raises(ValueError, match="Xx"):
        n_elements(["NaCl", "Xx"])


@pytest.mark.parametrize(
    ("labels", "min_count", "expected"),
    [
        ([2, 2, 2, 3, 3, 3, 4, 5], 3, [2, 2, 2, 3, 3, 3, 3, 3]),
        # Chained: 7 and 6 are both too small, so they end up in 5.
        ([5, 5, 6, 7, 5], 3, [5, 5, 5, 5, 5]),
        # The lowest stratum joins the next higher one.
        ([1, 2, 2, 2, 3, 3, 3], 2, [2, 2, 2, 2, 3, 3, 3]),
        # Too few rows in all: one stratum.
        ([1, 2, 3], 5, [1, 1, 1]),
        ([4, 4, 4, 4], 2, [4, 4, 4, 4]),
        (["b", "a", "a", "c", "c"], 2, ["a", "a", "a", "c", "c"]),
        ([], 3, []),
    ],
)
def test_merge_rare_strata(labels, min_count, expected):
    assert merge_rare_strata(labels, min_count).tolist() == expected


def test_merge_rare_strata_keeps_all_strata_large_enough():
    rng = np.random.default_rng(0)
    labels = np.minimum(rng.geometric(0.4, size=1000), 30)
    merged = merge_rare_strata(labels, 25)
    _, counts = np.unique(merged, return_counts=True)
    assert counts.min() >= 25
    assert set(np.unique(merged)) <= set(np.unique(labels))
    # Only rare strata move, and only downwards (except the lowest).
    moved = merged != labels
    assert (merged[moved] < labels[moved]).all()


# ---------------------------------------------------------------------------
# train_val_test_split on real JARVIS data (BRNet protocol)
# ---------------------------------------------------------------------------


@needs_data
def test_brnet_split_sizes_and_disjointness(jarvis):
    formulas, target = jarvis["formula"], jarvis["target"].to_numpy()
    n = len(jarvis)
    f_train, f_val, f_test, y_train, y_val, y_test = train_val_test_split(formulas, target)
    sizes = [len(f_train), len(f_val), len(f_test)]
    assert sizes == [21_659, 2_407, 2_675]  # 10 % test off 26,741, then 10 % of the rest
    for size, fraction in zip(sizes, (0.81, 0.09, 0.10), strict=True):
        assert abs(size - fraction * n) <= 2
    assert [len(y_train), len(y_val), len(y_test)] == sizes
    # Pandas objects keep their index: parts are disjoint and cover every row.
    index = np.concatenate([f_train.index, f_val.index, f_test.index])
    assert np.array_equal(np.sort(index), np.arange(n))
    # Arrays are split alike.
    for part_f, part_y in [(f_train, y_train), (f_val, y_val), (f_test, y_test)]:
        np.testing.assert_array_equal(target[part_f.index], part_y)


@needs_data
def test_brnet_split_is_stratified(jarvis):
    counts = n_elements(jarvis["formula"])
    whole = _proportions(counts)
    parts = train_val_test_split(jarvis["formula"])
    for part in parts:
        part_props = _proportions(counts[part.index])
        np.testing.assert_allclose(part_props, whole, atol=0.002)
    # Unstratified splits drift further on the smaller parts.
    loose = train_val_test_split(jarvis["formula"], stratify=None, random_state=0)
    drift = max(np.abs(_proportions(counts[p.index]) - whole).max() for p in loose)
    assert drift > 0.002


@needs_data
def test_split_deterministic_and_seeded(jarvis):
    formulas = jarvis["formula"]
    a = train_val_test_split(formulas)
    b = train_val_test_split(formulas, random_state=1234567)
    c = train_val_test_split(formulas, random_state=7)
    for part_a, part_b in zip(a, b, strict=True):
        assert part_a.index.equals(part_b.index)
    assert not a[2].index.equals(c[2].index)
    assert not a[0].index.equals(c[0].index)


@needs_data
def test_split_stratify_options_agree(jarvis):
    formulas = jarvis["formula"].to_numpy()
    fractions = element_fractions(formulas)
    by_formula = train_val_test_split(np.arange(len(formulas)), stratify=n_elements(formulas))
    by_matrix = train_val_test_split(fractions, np.arange(len(formulas)))[3:]
    by_name = train_val_test_split(formulas, np.arange(len(formulas)))[3:]
    for x, y, z in zip(by_formula, by_matrix, by_name, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


@needs_data
def test_split_on_mp_with_rare_strata():
    # The Materials Project has 19 eight- and 2 nine-element compounds.
    data = load_dataset("mp_formation_energy", data_home=SHARED, download=False)
    counts = n_elements(data["formula"])
    assert np.bincount(counts)[8:].tolist() == [19, 2]
    train, val, test = train_val_test_split(data["formula"])
    assert len(train) + len(val) + len(test) == len(data)
    for part in (train, val, test):
        np.testing.assert_allclose(
            _proportions(counts[part.index]), _proportions(counts), atol=0.002
        )


def test_split_types():
    formulas = ["Fe2O3", "NaCl", "Cu", "BaTiO3", "LiCoO2"] * 20
    y = np.arange(100.0)
    parts = train_val_test_split(formulas, y, random_state=0)
    assert [type(p) for p in parts] == [list] * 3 + [np.ndarray] * 3
    assert [len(p) for p in parts] == [81, 9, 10] * 2
    frame = pd.DataFrame({"formula": formulas, "y": y}, index=np.arange(100) + 1000)
    f_train, f_val, f_test = train_val_test_split(frame)
    assert isinstance(f_train, pd.DataFrame)
    assert set(f_train.index) | set(f_val.index) | set(f_test.index) == set(frame.index)
    x_train, _, _ = train_val_test_split(sparse.csr_matrix(element_fractions(formulas)))
    assert sparse.issparse(x_train) and x_train.shape == (81, 86)


def test_split_tiny_set_with_singleton_strata():
    # One 7-element and one 4-element compound among binaries and ternaries.
    formulas = ["NaCl", "KBr", "CuO", "ZnS"] * 5 + ["BaTiO3", "LiCoO2"] * 4
    formulas += ["LiNaKRbCsMgCa", "LiMnFePO4"]
    parts = train_val_test_split(formulas, np.arange(len(formulas)))
    assert sum(len(p) for p in parts[3:]) == len(formulas)
    assert sorted(np.concatenate(parts[3:]).tolist()) == list(range(len(formulas)))
    # A single row per stratum everywhere, too.
    few = ["NaCl", "BaTiO3", "LiMnFePO4", "LiNaKRbCsMgCa", "Cu"]
    assert sum(map(len, train_val_test_split(few, sizes=(0.6, 0.2, 0.2)))) == 5


def test_split_sizes_variants():
    formulas = ["Fe2O3", "NaCl", "Cu", "BaTiO3", "LiCoO2"] * 20
    assert [len(p) for p in train_val_test_split(formulas, sizes=(70, 15, 15))] == [70, 15, 15]
    assert [len(p) for p in train_val_test_split(formulas, sizes=(0.7, 0.15, 0.15))] == [
        70,
        15,
        15,
    ]
    assert [len(p) for p in train_val_test_split(formulas, sizes=(0.9, 0.0, 0.1))] == [90, 0, 10]
    for bad in [(0.8, 0.1), (0.5, 0.2, 0.2), (0.0, 0.5, 0.5), (-0.1, 0.6, 0.5), (50, 25, 20)]:
        with pytest.raises(ValueError, match="sizes"):
            train_val_test_split(formulas, sizes=bad)


def test_split_argument_errors():
    formulas = ["NaCl", "Cu", "BaTiO3"] * 10
    with pytest.raises(ValueError, match="at least one array"):
        train_val_test_split()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        train_val_test_split(formulas, np.arange(5))
    with pytest.raises(ValueError, match="stratify"):
        train_val_test_split(formulas, stratify="elements")
    with pytest.raises(ValueError, match="labels"):
        train_val_test_split(formulas, stratify=[1, 2])
    with pytest.raises(ValueError, match="shuffle=True"):
        train_val_test_split(formulas, shuffle=False)


def test_split_without_shuffle_is_in_order():
    formulas = [f"Na{i}Cl" for i in range(1, 101)]
    train, val, test = train_val_test_split(formulas, stratify=None, shuffle=False)
    assert train + val + test == formulas
    assert [len(train), len(val), len(test)] == [81, 9, 10]


def test_split_custom_labels():
    labels = np.array(["a", "b"] * 50)
    train, _, test = train_val_test_split(np.arange(100), stratify=labels)
    assert (labels[test] == "a").sum() == 5
    assert (labels[train] == "a").sum() in (40, 41)


# ---------------------------------------------------------------------------
# ElementCountStratifiedKFold
# ---------------------------------------------------------------------------


@needs_data
def test_kfold_covers_every_row_once_and_is_stratified(jarvis):
    formulas = jarvis["formula"]
    counts = n_elements(formulas)
    cv = ElementCountStratifiedKFold(n_splits=10, random_state=0)
    assert cv.get_n_splits() == 10 and cv.get_n_splits(formulas) == 10
    seen = np.zeros(len(formulas), dtype=int)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folds = list(cv.split(formulas))
    assert len(folds) == 10
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(formulas)
        seen[test] += 1
        np.testing.assert_allclose(_proportions(counts[test]), _proportions(counts), atol=0.002)
    assert (seen == 1).all()


@needs_data
def test_kfold_deterministic_and_input_agnostic(jarvis):
    formulas = jarvis["formula"]
    fractions = element_fractions(formulas)
    first = list(ElementCountStratifiedKFold(5, random_state=3).split(formulas))
    again = list(ElementCountStratifiedKFold(5, random_state=3).split(list(formulas)))
    matrix = list(ElementCountStratifiedKFold(5, random_state=3).split(fractions, None))
    other = list(ElementCountStratifiedKFold(5, random_state=4).split(formulas))
    for (a, b), (c, d), (e, f) in zip(first, again, matrix, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
        np.testing.assert_array_equal(a, e)
        np.testing.assert_array_equal(b, f)
    assert not np.array_equal(first[0][1], other[0][1])


@needs_data
def test_kfold_cross_val_score_pipeline(jarvis):
    formulas, y = jarvis["formula"], jarvis["target"].to_numpy()
    model = Pipeline([("features", ElementFractionTransformer()), ("ridge", Ridge())])
    cv = ElementCountStratifiedKFold(5, random_state=0)
    assert check_cv(cv) is cv
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = cross_val_score(model, formulas, y, cv=cv, scoring="neg_mean_absolute_error")
    assert scores.shape == (5,)
    assert (-scores < 0.6).all() and (-scores > 0.2).all()  # Ridge on fractions: ~0.43 eV/atom


def test_kfold_grid_search_small():
    formulas = ["NaCl", "KBr", "CuO", "ZnS", "BaTiO3", "LiCoO2", "Cu", "Fe"] * 6
    formulas += ["LiNaKRbCsMgCa"]  # a 1-member stratum, merged before splitting
    y = np.linspace(-1, 1, len(formulas))
    search = GridSearchCV(
        Pipeline([("features", ElementFractionTransformer()), ("ridge", Ridge())]),
        {"ridge__alpha": [0.1, 1.0]},
        cv=ElementCountStratifiedKFold(3, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        search.fit(formulas, y)
    assert search.best_params_["ridge__alpha"] in (0.1, 1.0)
    assert "n_splits=3" in repr(ElementCountStratifiedKFold(3))


def test_kfold_too_few_rows():
    with pytest.raises(ValueError, match="n_splits"):
        list(ElementCountStratifiedKFold(5).split(["NaCl", "Cu", "BaTiO3"]))
