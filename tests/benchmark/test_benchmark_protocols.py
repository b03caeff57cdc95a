"""The benchmark's protocols (skmatnet.benchmark.protocols): brnet, tatis and published splits."""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import needs_data

from skmatnet.benchmark import BenchmarkError, get_protocol, make_split
from skmatnet.model_selection import n_elements

pytestmark = needs_data


def _shares(labels: np.ndarray) -> np.ndarray:
    return np.bincount(labels, minlength=10) / len(labels)


def test_brnet_split_parts_are_disjoint_stratified_and_seeded(jarvis):
    split = make_split(jarvis, "brnet")
    parts = [split.train, split.val, split.test]
    assert sum(map(len, parts)) == len(jarvis)
    assert len(np.unique(np.concatenate(parts))) == len(jarvis)  # no row in two parts
    n = len(jarvis)
    for part, share in zip(parts, (0.81, 0.09, 0.10), strict=True):
        assert abs(len(part) / n - share) < 0.002
    counts = n_elements(jarvis.X)
    whole = _shares(counts)
    for part in parts:
        assert np.abs(_shares(counts[part]) - whole).max() < 0.005
    again = make_split(jarvis, "brnet")
    np.testing.assert_array_equal(again.test, split.test)
    other = make_split(jarvis, "brnet", seed=1)
    assert not np.array_equal(other.test, split.test)
    (label, train, val), = split.fits()
    assert label == "" and train is split.train and val is split.val


def test_tatis_split_folds_partition_the_training_part(jarvis):
    split = make_split(jarvis, "tatis", n_folds=10)
    n = len(jarvis)
    assert len(np.intersect1d(split.train, split.test)) == 0
    assert len(split.train) + len(split.test) == n
    assert abs(len(split.test) / n - 0.10) < 0.002
    assert len(split.val) == 0 and split.n_folds == 10
    validation = np.concatenate([va for _, va in split.folds])
    assert len(validation) == len(split.train)
    np.testing.assert_array_equal(np.sort(validation), split.train)  # disjoint, cover the 90 %
    counts = n_elements(jarvis.X)
    whole = _shares(counts[split.train])
    for train, val in split.folds:
        assert len(np.intersect1d(train, val)) == 0
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), split.train)
        assert np.abs(_shares(counts[val]) - whole).max() < 0.01
        assert len(np.intersect1d(val, split.test)) == 0


def test_protocols_are_objects_that_split_and_describe_themselves(jarvis):
    from skmatnet.benchmark import PROTOCOLS, get_protocol

    assert PROTOCOLS == ("brnet", "tatis", "published")
    brnet, tatis = get_protocol("brnet"), get_protocol("tatis")
    split = brnet.split(jarvis, seed=1234567, n_folds=None)
    np.testing.assert_array_equal(split.test, make_split(jarvis, "brnet").test)
    assert "81:9:10" in brnet.describe(split) and not brnet.notes
    folds = tatis.split(jarvis, seed=1234567, n_folds=3)
    assert "3-fold" in tatis.describe(folds) and len(folds.fits()) == 3
    assert "selection on the test data" in tatis.notes[0]
    with pytest.raises(BenchmarkError, match="unknown protocol 'kfold'"):
        get_protocol("kfold")


def test_published_split_is_the_datasets_own_split_column():
    from skmatnet.benchmark import load_benchmark_data
    from skmatnet.datasets import load_dataset

    data = load_benchmark_data("oqmd_bandgap", max_rows=3000)
    split = make_split(data, "published")
    # CrabNet's 70/15/15 file split, row for row (the subsample keeps each row's part).
    for part, rows in (("train", split.train), ("val", split.val), ("test", split.test)):
        assert set(data.parts[rows]) == {part}
    assert len(split.train) + len(split.val) + len(split.test) == len(data)
    frame = load_dataset("oqmd_bandgap")
    test_formulas = set(frame.loc[frame["split"] == "test", "formula"])
    assert set(data.formulas[split.test]) <= test_formulas
    # The seed only matters where a validation part has to be carved: not here.
    np.testing.assert_array_equal(make_split(data, "published", seed=1).val, split.val)
    assert "published split" in get_protocol("published").describe(split)


def test_published_split_without_validation_part_carves_it_from_training(jarvis):
    split = make_split(jarvis, "published")
    test = np.flatnonzero(jarvis.parts == "test")
    np.testing.assert_array_equal(split.test, test)  # the published test rows, untouched
    training = np.flatnonzero(jarvis.parts == "train")
    np.testing.assert_array_equal(np.sort(np.concatenate([split.train, split.val])), training)
    assert abs(len(split.val) / len(training) - 0.10) < 0.002
    assert not np.array_equal(make_split(jarvis, "published", seed=1).val, split.val)


def test_published_protocol_refuses_data_without_a_split():
    from skmatnet.benchmark import load_benchmark_data

    mp = load_benchmark_data("mp_formation_energy", max_rows=200)
    with pytest.raises(BenchmarkError, match="mp_formation_energy has no published split"):
        make_split(mp, "published")
