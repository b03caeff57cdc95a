"""Screening: enumeration (complete, unique, fractions built exactly), selection, output files,
and the same results on a real Dask LocalCluster. Models are fitted on real JARVIS rows."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from shared_data import needs_data
from sklearn.pipeline import Pipeline
from small_estimators import small

from skmatnet import (
    ELEMENTS,
    BRNetClassifier,
    BRNetRegressor,
    ElementFractionTransformer,
    MatNetEnsembleRegressor,
    element_fractions,
    load_dataset,
)
from skmatnet.screening import CompositionSpace, _combination_block, screen


def reduced(counts) -> tuple:
    divisor = math.gcd(*counts)
    return tuple(c // divisor for c in counts)


# ---------------------------------------------------------------------------
# Enumeration
# ---------------------------------------------------------------------------


def brute_force(elements, max_atoms, sizes):
    """Every composition of ``elements`` with ``sizes`` components, at most ``max_atoms`` atoms
    per formula unit, as {frozenset of (element, reduced amount)}: the independent reference."""
    found = set()
    for n in sizes:
        for system in itertools.combinations(elements, n):
            for counts in itertools.product(range(1, max_atoms + 1), repeat=n):
                if sum(counts) <= max_atoms:
                    found.add(frozenset(zip(system, reduced(counts), strict=True)))
    return found


@pytest.mark.parametrize("elements, max_atoms, sizes", [
    (["Li", "Fe", "Mn", "O"], 9, None),
    (["Na", "Cl"], 12, None),
    (["Li", "Fe", "Mn", "O", "F"], 7, (1, 3)),
])
def test_enumeration_is_complete_and_unique(elements, max_atoms, sizes):
    space = CompositionSpace(elements, max_atoms=max_atoms, n_components=sizes)
    formulas = list(space.formulas())
    assert len(formulas) == len(space)
    fractions = element_fractions(formulas)
    # Each candidate is a distinct reduced composition...
    keys = {frozenset((ELEMENTS[j], round(float(x), 6)) for j, x in
                      zip(np.flatnonzero(row), row[row > 0], strict=True)) for row in fractions}
    assert len(keys) == len(formulas)
    # ...and all of them are there.
    low, high = (2, len(elements)) if sizes is None else sizes
    expected = brute_force(elements, max_atoms, range(low, high + 1))
    assert len(expected) == len(space)
    parsed = [dict(zip(ELEMENTS, row, strict=True)) for row in fractions]
    for reference in list(expected)[:: max(1, len(expected) // 200)]:
        total = sum(k for _, k in reference)
        assert any(all(abs(p[e] - k / total) < 1e-6 for e, k in reference) for p in parsed)


def test_fractions_are_built_exactly_as_the_featurizer_would():
    space = CompositionSpace("Li,Mn,Co,Ni,O", max_atoms=14)
    chunks = list(space.chunks(chunk_size=700))
    assert len(chunks) > 3
    direct = np.concatenate([c.fractions() for c in chunks])
    assert direct.dtype == np.float32
    # Bit-identical to parsing the formula strings.
    assert np.array_equal(direct, element_fractions(list(space.formulas())))
    # Chunk boundaries change nothing; ids number the candidates in order.
    whole = list(space.chunks(chunk_size=10**7))  # one chunk per system size
    assert len(whole) == 4
    assert np.array_equal(direct, np.concatenate([c.fractions() for c in whole]))
    assert np.array_equal(np.concatenate([c.ids for c in chunks]), np.arange(len(space)))


def test_grid_gives_fractions_on_the_grid_in_reduced_formulas():
    space = CompositionSpace(systems=["Li-O", "Fe-O"], grid=6)
    formulas = list(space.formulas())
    assert len(formulas) == 2 * 5  # 1:5 ... 5:1 of each binary
    assert "LiO" in formulas and "Li2O" in formulas and "Li3O" not in formulas  # 3:3 == 1:1
    fractions = element_fractions(formulas)
    assert np.allclose(fractions * 6, np.round(fractions * 6), atol=1e-5)
    assert len({tuple(r) for r in fractions.round(6)}) == len(formulas)


def test_systems_with_subsystems_equal_the_elements_space():
    a = CompositionSpace("Li,Mn,O", max_atoms=8)
    b = CompositionSpace(systems=["O-Mn-Li", "Li-Mn-O"], max_atoms=8, include_subsystems=True)
    assert len(a) == len(b)
    key = lambda fs: sorted(map(tuple, element_fractions(list(fs)).round(7)))  # noqa: E731
    assert key(a.formulas()) == key(b.formulas())
    only = CompositionSpace(systems=["Li-Mn-O"], max_atoms=8)
    assert all(set(name) for name in only.formulas())
    assert len(only) == len(a) - len(CompositionSpace("Li,Mn,O", max_atoms=8, n_components=2))


def test_combinations_are_unranked_in_itertools_order():
    for pool, k in [(10, 3), (7, 1), (12, 5), (86, 2)]:
        reference = np.array(list(itertools.combinations(range(pool), k)))
        for start, stop in [(0, len(reference)), (3, 17), (len(reference) - 5, len(reference))]:
            assert np.array_equal(_combination_block(pool, k, start, stop),
                                  reference[start:stop])


def test_all_ternaries_are_counted_without_enumerating_them():
    space = CompositionSpace(ELEMENTS, n_components=3, max_atoms=12)
    assert len(space) == math.comb(86, 3) * 196
    assert "20,058,640 candidates" in repr(space)
    assert ELEMENTS[-3:] == ("U", "Np", "Pu")
    *_, last = space.blocks()  # the last chunk, made without the ones before it
    chunk = space.chunk(last)
    assert last.offset + len(chunk) == len(space)
    assert chunk.system_names()[-1] == "U-Np-Pu" and chunk.formulas()[-1] == "U10NpPu"


@pytest.mark.parametrize("kwargs, message", [
    ({"elements": "Li,Xx,O", "max_atoms": 4}, "'Xx' is not an element symbol"),
    ({"elements": "Li,He", "max_atoms": 4}, "'He' is not one of the 86 elements"),
    ({"elements": "Li,O", "systems": ["Li-O"], "max_atoms": 4}, "one of elements=, systems="),
    ({"elements": "Li,O"}, "give max_atoms"),
    ({"elements": "Li,O", "max_atoms": 4, "grid": 4}, "give max_atoms"),
    ({"elements": "Li,O", "max_atoms": 0}, "max_atoms must be a positive int"),
    ({"systems": ["Li-Li-O"], "max_atoms": 4}, "names an element twice"),
    ({"elements": "Li,O", "max_atoms": 4, "n_components": (3, 2)}, "1 <= min <= max"),
])
def test_bad_spaces_are_named(kwargs, message):
    elements = kwargs.pop("elements", None)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CompositionSpace(elements, **kwargs)


# ---------------------------------------------------------------------------
# Predicting and keeping
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jarvis():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rng = np.random.default_rng(0)
    rows = rng.choice(len(formulas), 600, replace=False)
    return list(np.asarray(formulas)[rows]), np.asarray(y, dtype=np.float32)[rows]


@pytest.fixture(scope="module")
def regressor(jarvis):
    formulas, y = jarvis
    return small(BRNetRegressor, max_epochs=3, random_state=0).fit(element_fractions(formulas), y)


@pytest.fixture(scope="module")
def space():
    return CompositionSpace(systems=["Li-Mn-O", "Li-Fe-O"], max_atoms=10,
                            include_subsystems=True)


def reference(model, space):
    formulas = list(space.formulas())
    return pd.DataFrame({"id": np.arange(len(formulas)), "formula": formulas,
                         "prediction": model.predict(element_fractions(formulas)).ravel()})


@needs_data
def test_bottom_and_top_k_are_the_best_of_all_predictions(regressor, space):
    full = reference(regressor, space)
    result = screen(regressor, space, bottom=15, chunk_size=40)
    assert result.n_candidates == len(space) and result.n_kept == 15
    expected = full.sort_values(["prediction", "id"]).head(15)
    assert result.frame["formula"].tolist() == expected["formula"].tolist()
    assert np.allclose(result.frame["prediction"], expected["prediction"], atol=1e-5)
    # The CPU prediction batch is the screen's only while it runs.
    assert regressor.iterator_valid__batch_size == 4096
    assert screen(regressor, space, bottom=15, batch_size=7).frame["formula"].tolist() == \
        result.frame["formula"].tolist()
    assert regressor.iterator_valid__batch_size == 4096
    top = screen(regressor, space, top=5).frame
    assert top["formula"].tolist() == full.sort_values("prediction", ascending=False)[
        "formula"].head(5).tolist()
    assert set(top["system"]) <= {"Li-Mn-O", "Li-Fe-O", "Li-Mn", "Li-O", "Mn-O", "Li-Fe",
                                  "Fe-O"}


@needs_data
def test_a_formula_pipeline_screens_as_its_network(jarvis, regressor, space):
    formulas, y = jarvis
    pipeline = Pipeline([("ef", ElementFractionTransformer()),
                         ("net", small(BRNetRegressor, max_epochs=3, random_state=0))])
    pipeline.fit(formulas, y)
    a = screen(pipeline, space, bottom=10).frame
    b = screen(pipeline[-1], space, bottom=10).frame
    pd.testing.assert_frame_equal(a, b)


@needs_data
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_thresholds_stream_every_match_to_the_file(regressor, space, tmp_path, suffix):
    full = reference(regressor, space)
    cut = float(full["prediction"].median())
    path = tmp_path / f"stable{suffix}"
    result = screen(regressor, space, below=cut, output=path, chunk_size=30)
    assert result.frame is None and result.path == path
    written = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    expected = full[full["prediction"] < cut]
    assert result.n_kept == len(written) == len(expected)
    assert written["formula"].tolist() == expected["formula"].tolist()  # enumeration order
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind
    band = screen(regressor, space, above=cut - 0.2, below=cut).frame
    assert ((band["prediction"] > cut - 0.2) & (band["prediction"] < cut)).all()


@needs_data
def test_an_interrupted_screen_leaves_no_file(regressor, space, tmp_path):
    path = tmp_path / "top.parquet"

    def stop(done, total):
        if done > 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        screen(regressor, space, below=10.0, output=path, chunk_size=30, progress=stop)
    assert list(tmp_path.iterdir()) == []


@needs_data
def test_ensembles_add_their_std_and_classifiers_their_probability(jarvis, space):
    formulas, y = jarvis
    X = element_fractions(formulas)
    ensemble = MatNetEnsembleRegressor(small(BRNetRegressor, max_epochs=2), n_estimators=2,
                                       random_state=0).fit(X, y)
    frame = screen(ensemble, space, bottom=8).frame
    assert list(frame.columns) == ["id", "formula", "system", "prediction", "std"]
    mean, std = ensemble.predict(element_fractions(frame["formula"].tolist()), return_std=True)
    assert np.allclose(frame["prediction"], mean, atol=1e-5)
    assert np.allclose(frame["std"], std, atol=1e-5) and (frame["std"] > 0).all()
    assert "std" not in screen(ensemble, space, bottom=8, return_std=False).frame

    classifier = small(BRNetClassifier, max_epochs=2, random_state=0).fit(X, y < -0.5)
    frame = screen(classifier, space, top=8).frame
    assert list(frame.columns) == ["id", "formula", "system", "probability_True", "label"]
    proba = classifier.predict_proba(element_fractions(frame["formula"].tolist()))[:, 1]
    assert np.allclose(frame["probability_True"], proba, atol=1e-5)
    assert frame["probability_True"].is_monotonic_decreasing


@needs_data
def test_an_ensemble_of_formula_pipelines_is_given_formulas(jarvis, space):
    # What `skmatnet train --ensemble` saves: each member featurizes for itself.
    formulas, y = jarvis
    pipeline = Pipeline([("ef", ElementFractionTransformer()),
                         ("net", small(BRNetRegressor, max_epochs=2))])
    ensemble = MatNetEnsembleRegressor(pipeline, n_estimators=2, random_state=0)
    ensemble.fit(formulas, y)
    frame = screen(ensemble, space, bottom=6).frame
    mean, std = ensemble.predict(frame["formula"].tolist(), return_std=True)
    assert np.allclose(frame["prediction"], mean, atol=1e-5)
    assert np.allclose(frame["std"], std, atol=1e-5)
    everything = screen(ensemble, space).frame
    assert frame["formula"].tolist() == everything.sort_values(["prediction", "id"])[
        "formula"].head(6).tolist()


@needs_data
def test_bad_requests_are_named(regressor, space, tmp_path):
    with pytest.raises(ValueError, match="top or bottom, not both"):
        screen(regressor, space, top=3, bottom=3)
    with pytest.raises(ValueError, match=r"must end in \.parquet, \.pq or \.csv"):
        screen(regressor, space, top=3, output=tmp_path / "top.xlsx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        screen(regressor, space, top=3, output=tmp_path / "missing" / "top.csv")
    with pytest.raises(ValueError, match="gives no standard deviation"):
        screen(regressor, space, top=3, return_std=True)
    from sklearn.linear_model import Ridge

    wrong = Ridge().fit(np.random.default_rng(0).random((20, 5)), np.arange(20.0))
    with pytest.raises(ValueError, match="takes 5 features, not the 86 element fractions"):
        screen(wrong, space, top=3)
    with pytest.raises(TypeError, match="CompositionSpace"):
        screen(regressor, ["LiMnO2"], top=3)


@needs_data
def test_a_classic_model_on_fractions_screens_too(jarvis, space):
    from sklearn.neighbors import KNeighborsRegressor

    formulas, y = jarvis
    knn = KNeighborsRegressor(5).fit(element_fractions(formulas), y)
    frame = screen(knn, space, bottom=5).frame
    assert np.allclose(frame["prediction"],
                       knn.predict(element_fractions(frame["formula"].tolist())))


# ---------------------------------------------------------------------------
# On Dask
# ---------------------------------------------------------------------------


@needs_data
def test_screening_on_a_local_cluster_equals_the_local_run(regressor, space, tmp_path):
    pytest.importorskip("distributed")
    from skmatnet._dask import connect_dask

    local_top = screen(regressor, space, bottom=12, chunk_size=25)
    local_file = tmp_path / "local.parquet"
    screen(regressor, space, below=-0.5, output=local_file, chunk_size=25)
    with connect_dask("local:2") as client:
        assert len(client.scheduler_info()["workers"]) == 2
        on_dask = screen(regressor, space, bottom=12, chunk_size=25, scheduler=client)
        dask_file = tmp_path / "dask.parquet"
        streamed = screen(regressor, space, below=-0.5, output=dask_file, chunk_size=25,
                          scheduler=client, chunks_per_task=1)
    assert on_dask.n_candidates == len(space)
    pd.testing.assert_frame_equal(on_dask.frame, local_top.frame, check_exact=False, atol=1e-6)
    pd.testing.assert_frame_equal(pd.read_parquet(dask_file), pd.read_parquet(local_file),
                                  check_exact=False, atol=1e-6)
    assert streamed.n_kept == len(pd.read_parquet(local_file))
