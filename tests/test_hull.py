"""Energy above the hull (equal to pymatgen's PhaseDiagram on real MP systems), its reference
errors, acquisition scores, the spread batch, and screen/suggest with references, locally and
on a Dask LocalCluster."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from shared_data import needs_data
from small_estimators import small

from skmatnet import (
    BRNetClassifier,
    BRNetRegressor,
    MatNetEnsembleRegressor,
    element_fractions,
    load_dataset,
)
from skmatnet.screening import (
    RANK_BY,
    CompositionSpace,
    HullReference,
    expected_improvement,
    lower_confidence_bound,
    probability_below_hull,
    screen,
    select_batch,
    suggest,
)

pymatgen = pytest.importorskip("pymatgen.analysis.phase_diagram",
                               reason="pymatgen (a dev extra) is the reference implementation")


@pytest.fixture(scope="module")
def mp_hull():
    return HullReference("mp_formation_energy")


def pymatgen_e_above_hull(hull, system, formulas, energies):
    from pymatgen.analysis.phase_diagram import PDEntry
    from pymatgen.core import Composition

    diagram = hull.phase_diagram(system)
    return np.array([diagram.get_e_above_hull(
        PDEntry(Composition(f), e * Composition(f).num_atoms), allow_negative=True)
        for f, e in zip(formulas, energies, strict=True)])


# ---------------------------------------------------------------------------
# The hull against pymatgen
# ---------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("system", ["Li-O", "Fe-O", "Li-Mn-O", "Ba-Ti-O", "Li-Fe-P-O",
                                    "Al-Cu-Mg-Zn"])
def test_e_above_hull_equals_pymatgen_on_real_mp_systems(mp_hull, system):
    elements = set(system.split("-"))
    table = mp_hull.table
    known = table[table["system"].map(lambda s: set(s.split("-")) <= elements)]
    rng = np.random.default_rng(len(known))
    # The known compositions at perturbed energies, and random candidates of the system.
    candidates = CompositionSpace(systems=[system], max_atoms=9)
    formulas = known["formula"].tolist() + list(candidates.formulas())
    energies = rng.normal(-1.0, 0.8, len(formulas))
    mine = mp_hull.e_above_hull(formulas, energies)
    reference = pymatgen_e_above_hull(mp_hull, system, formulas, energies)
    np.testing.assert_allclose(mine, reference, atol=1e-9, rtol=0)
    # The screening path (fractions from the chunk's integer amounts) gives the same hull.
    chunk = next(candidates.chunks())
    np.testing.assert_allclose(mp_hull.chunk_hull_energy(chunk.systems, chunk.patterns),
                               mp_hull.hull_energy(chunk.formulas()), atol=1e-12, rtol=0)
    # Fraction rows (float64) too.
    fractions = element_fractions(formulas[:40]).astype(np.float64)
    np.testing.assert_allclose(mp_hull.hull_energy(fractions),
                               mp_hull.hull_energy(formulas[:40]), atol=1e-6, rtol=0)
    # The references themselves: on or above their hull, some on it.
    own = mp_hull.e_above_hull(known["formula"].tolist(), known["energy"])
    assert own.min() > -1e-9 and (own < 1e-9).sum() >= len(elements)


@needs_data
def test_a_pickled_reference_gives_the_same_hulls(mp_hull):
    # What Dask workers receive: every system's references, in their order, and no cache.
    mp_hull.hull_energy(["LiMnO2"])
    copy = pickle.loads(pickle.dumps(mp_hull))
    assert not copy._cache and list(copy._groups) == list(mp_hull._groups)
    formulas = list(CompositionSpace(systems=["Li-Fe-P-O", "Al-Cu-Mg-Zn"], max_atoms=7,
                                     include_subsystems=True).formulas())
    energies = np.random.default_rng(0).normal(-1.0, 0.8, len(formulas))
    np.testing.assert_array_equal(copy.e_above_hull(formulas, energies),
                                  mp_hull.e_above_hull(formulas, energies))
    np.testing.assert_array_equal(copy.is_known(formulas), mp_hull.is_known(formulas))
    pd.testing.assert_frame_equal(copy.table, mp_hull.table)


def test_a_system_with_only_its_elements_has_their_plane():
    hull = HullReference(pd.DataFrame({"formula": ["NaCl", "Cu"], "energy": [-2.0, -0.1]}))
    # Fe-O has no references: its hull is zero, the energy above it the energy itself.
    np.testing.assert_allclose(hull.e_above_hull(["FeO", "Fe2O3"], [-1.0, 0.3]), [-1.0, 0.3])
    # An elemental reference below zero lowers its corner (as in pymatgen).
    np.testing.assert_allclose(hull.hull_energy(["Cu", "CuO", "Cu3O"]), [-0.1, -0.05, -0.075])
    assert hull.hull_energy(["NaCl", "Na3Cl"]).tolist() == [-2.0, -1.0]
    assert hull.is_known(["Na2Cl2", "NaCl2", "Cu"]).tolist() == [True, False, True]
    # A point above the elements' line is not on the hull.
    above = HullReference(pd.DataFrame({"formula": ["LiO"], "energy": [0.4]}))
    assert above.hull_energy(["LiO"]).tolist() == [0.0]


def test_duplicates_keep_the_lowest_energy():
    frame = pd.DataFrame({"formula": ["LiO", "Li2O2", "Li2O", "LiO"],
                          "energy": [-1.0, -1.5, -2.0, -0.5]})
    hull = HullReference(frame)
    assert hull.n_duplicates == 2
    assert hull.table["formula"].tolist() == ["Li2O2", "Li2O"]
    assert hull.table["energy"].tolist() == [-1.5, -2.0]
    np.testing.assert_allclose(hull.e_above_hull(["LiO"], [-1.5]), [0.0], atol=1e-12)


def test_references_from_a_csv_file(tmp_path):
    path = tmp_path / "known.csv"
    path.write_text("formula,e_form,source\nLi2O,-2.0,x\nLiO,-1.0,y\n")
    hull = HullReference(path)
    assert len(hull.table) == 2 and "known.csv" in repr(hull)
    np.testing.assert_allclose(hull.e_above_hull(["LiO"], [-1.0]), [0.5])


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"formula": ["LiO", "HeLi"], "energy": [-1.0, -0.5]}),
     r"row 1: 'HeLi': element 'He' is not one of the 86 elements"),
    (pd.DataFrame({"formula": ["LiO", "Xx2O"], "energy": [-1.0, -0.5]}),
     r"row 1: 'Xx2O': unknown element symbol 'Xx'"),
    (pd.DataFrame({"formula": ["LiO", "Li2O", "FeO"], "energy": [-1.0, np.nan, None]}),
     r"row 1 \('Li2O'\) has no finite energy \(got nan\); 2 such rows"),
    (pd.DataFrame({"formula": ["LiO"], "energy": ["low"]}),
     r"row 0 \('LiO'\) has no finite energy \(got 'low'\)"),
    (pd.DataFrame({"formula": ["LiO", None], "energy": [-1.0, -0.5]}),
     r"row 1: the formula is missing"),
    (pd.DataFrame({"name": ["LiO"], "energy": [-1.0]}), r"no 'formula' column"),
    (pd.DataFrame({"formula": ["LiO"], "a": [-1.0], "b": [2.0]}),
     r"which column is the formation energy"),
])
def test_bad_references_name_the_row_and_value(frame, message):
    with pytest.raises(ValueError, match=message):
        HullReference(frame)


def test_bad_reference_files_name_the_line(tmp_path):
    path = tmp_path / "known.csv"
    path.write_text("formula,energy\nLi2O,-2.0\nLiO,\n")
    with pytest.raises(ValueError, match=r"known.csv: line 3 \('LiO'\) has no finite energy"):
        HullReference(path)
    with pytest.raises(FileNotFoundError, match="neither a file nor a dataset name"):
        HullReference(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="dataset name, a CSV path or a DataFrame"):
        HullReference(42)


# ---------------------------------------------------------------------------
# Acquisition and the spread batch
# ---------------------------------------------------------------------------


def test_acquisition_scores_against_their_definitions():
    rng = np.random.default_rng(0)
    mean = np.array([-0.2, 0.0, 0.1, 0.3, 0.05])
    std = np.array([0.1, 0.2, 0.05, 0.3, 0.0])
    draws = rng.normal(mean[:4], std[:4], size=(400_000, 4))
    np.testing.assert_allclose(expected_improvement(mean, std)[:4],
                               np.maximum(0.0, -draws).mean(axis=0), atol=2e-3)
    np.testing.assert_allclose(probability_below_hull(mean, std)[:4],
                               (draws <= 0).mean(axis=0), atol=3e-3)
    assert expected_improvement(mean, std)[4] == 0.0
    assert probability_below_hull([-0.1, 0.1], [0.0, 0.0]).tolist() == [1.0, 0.0]
    np.testing.assert_allclose(lower_confidence_bound(mean, std, kappa=2), mean - 2 * std)
    np.testing.assert_allclose(expected_improvement([0.0], [0.0], best=0.3), [0.3])


def test_select_batch_spreads_over_systems_and_compositions():
    formulas = ["LiMnO2", "Li2Mn2O5", "LiMn2O4", "Li2MnO3", "LiFeO2", "Li5FeO4", "NaCl"]
    frame = pd.DataFrame({"id": range(7), "formula": formulas,
                          "system": ["Li-Mn-O"] * 4 + ["Li-Fe-O"] * 2 + ["Na-Cl"],
                          "score": [-0.5, -0.49, -0.4, -0.3, -0.2, -0.1, 0.4]})
    batch = select_batch(frame, 4, score="score", lower_is_better=True, max_per_system=2,
                         min_distance=0.1)
    # Li2Mn2O5 is 0.071 from LiMnO2; then Li-Mn-O is full.
    assert batch["formula"].tolist() == ["LiMnO2", "LiMn2O4", "LiFeO2", "Li5FeO4"]
    assert batch["pick"].tolist() == [1, 2, 3, 4] and not batch["relaxed"].any()
    greedy = select_batch(frame, 3, score="score", lower_is_better=True, max_per_system=None,
                          min_distance=0)
    assert greedy["formula"].tolist() == formulas[:3]
    # Too few pass: filled with the best skipped ones.
    full = select_batch(frame, 7, score="score", lower_is_better=True, max_per_system=1,
                        min_distance=0)
    assert len(full) == 7 and full["relaxed"].sum() == 4
    assert full["formula"].tolist()[:3] == ["LiMnO2", "LiFeO2", "NaCl"]
    higher = select_batch(frame, 1, score="score", lower_is_better=False)
    assert higher["formula"].tolist() == ["NaCl"]
    # Equal scores (probabilities that round to 1): the lower energy above the hull first.
    tied = frame.assign(probability_below_hull=[1.0] * 6 + [0.2],
                        e_above_hull=[-0.1, -0.3, -0.5, -0.2, -0.4, -0.6, 0.3])
    picks = select_batch(tied, 3, score="probability_below_hull", max_per_system=None,
                         min_distance=0)
    assert picks["formula"].tolist() == ["Li5FeO4", "LiMn2O4", "LiFeO2"]
    with pytest.raises(ValueError, match="no 'missing' column"):
        select_batch(frame, 2, score="missing")
    with pytest.raises(ValueError, match="n must be a positive int"):
        select_batch(frame, 0, score="score")


# ---------------------------------------------------------------------------
# screen and suggest with references
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mp_rows():
    formulas, y = load_dataset("mp_formation_energy", return_X_y=True)
    rows = np.random.default_rng(0).choice(len(formulas), 800, replace=False)
    return list(np.asarray(formulas)[rows]), np.asarray(y, dtype=np.float32)[rows]


@pytest.fixture(scope="module")
def ensemble(mp_rows):
    formulas, y = mp_rows
    return MatNetEnsembleRegressor(small(BRNetRegressor, max_epochs=2), n_estimators=2,
                                   random_state=0).fit(element_fractions(formulas), y)


@pytest.fixture(scope="module")
def space():
    return CompositionSpace(systems=["Li-Mn-O", "Li-Fe-O", "Ba-Ti-O"], max_atoms=9,
                            include_subsystems=True)


@needs_data
def test_screen_adds_the_energy_above_the_hull_and_ranks_by_it(ensemble, space, mp_hull):
    everything = screen(ensemble, space, references=mp_hull).frame
    assert list(everything.columns) == ["id", "formula", "system", "prediction", "std",
                                        "e_above_hull", "probability_below_hull"]
    expected = everything["prediction"] - mp_hull.hull_energy(everything["formula"].tolist())
    np.testing.assert_allclose(everything["e_above_hull"], expected, atol=1e-9)
    np.testing.assert_allclose(everything["probability_below_hull"],
                               probability_below_hull(expected, everything["std"]))
    best = screen(ensemble, space, references=mp_hull, rank_by="e_above_hull", bottom=12,
                  chunk_size=40).frame
    assert best["id"].tolist() == everything.sort_values(["e_above_hull", "id"])[
        "id"].head(12).tolist()
    lcb = screen(ensemble, space, references=mp_hull, rank_by="lower_confidence_bound",
                 kappa=2.0, below=0.0).frame
    np.testing.assert_allclose(lcb["lower_confidence_bound"],
                               lcb["e_above_hull"] - 2 * lcb["std"])
    assert (lcb["lower_confidence_bound"] < 0).all()
    assert len(lcb) == int((everything["e_above_hull"] - 2 * everything["std"] < 0).sum())
    ei = screen(ensemble, space, references=mp_hull, rank_by="expected_improvement",
                top=5).frame
    assert ei["expected_improvement"].is_monotonic_decreasing
    # A probability that rounds to 1 ties; the lower energy above the hull goes first,
    # chunk by chunk as in one piece.
    likely = screen(ensemble, space, references=mp_hull, rank_by="probability_below_hull",
                    top=20, chunk_size=40).frame
    expected_order = everything.assign(minus=-everything["probability_below_hull"]).sort_values(
        ["minus", "e_above_hull", "id"])
    assert likely["id"].tolist() == expected_order["id"].head(20).tolist()
    # A dataset name or a DataFrame works as references; a single network gets
    # e_above_hull only.
    single = ensemble.estimators_[0]
    frame = screen(single, space, references=mp_hull.table, rank_by="e_above_hull",
                   bottom=3).frame
    assert list(frame.columns) == ["id", "formula", "system", "prediction", "e_above_hull"]


@needs_data
def test_bad_rankings_are_named(ensemble, space, mp_hull, mp_rows):
    with pytest.raises(ValueError, match="rank_by must be one of"):
        screen(ensemble, space, references=mp_hull, rank_by="stability", bottom=3)
    with pytest.raises(ValueError, match="needs references"):
        screen(ensemble, space, rank_by="e_above_hull", bottom=3)
    with pytest.raises(ValueError, match="needs the standard deviation of an ensemble"):
        screen(ensemble.estimators_[0], space, references=mp_hull,
               rank_by="lower_confidence_bound", bottom=3)
    formulas, y = mp_rows
    classifier = small(BRNetClassifier, max_epochs=1, random_state=0).fit(
        element_fractions(formulas), y < -1)
    with pytest.raises(ValueError, match="not a classifier"):
        screen(classifier, space, references=mp_hull, top=3)


@needs_data
def test_suggest_picks_a_spread_batch_of_unknown_compositions(ensemble, space, mp_hull,
                                                              tmp_path):
    result = suggest(ensemble, space, mp_hull, n=8, max_per_system=2, min_distance=0.05,
                     output=tmp_path / "next.csv")
    batch = result.frame
    assert len(batch) == 8 and result.n_candidates == len(space)
    assert not mp_hull.is_known(batch["formula"].tolist()).any()
    assert batch["system"].value_counts().max() <= 2
    fractions = element_fractions(batch["formula"].tolist()).astype(float)
    distances = 0.5 * np.abs(fractions[:, None] - fractions[None]).sum(axis=2)
    assert distances[np.triu_indices(8, 1)].min() >= 0.05
    assert batch["lower_confidence_bound"].is_monotonic_increasing
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "next.csv")[["formula"]],
                                  batch[["formula"]])
    ei = suggest(ensemble, space, mp_hull, n=3, acquisition="expected_improvement").frame
    assert ei["expected_improvement"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="acquisition must be one of"):
        suggest(ensemble, space, mp_hull, acquisition="greedy")
    with pytest.raises(TypeError, match="sets bottom itself"):
        suggest(ensemble, space, mp_hull, bottom=3)


def test_rank_by_names_are_the_screen_columns():
    assert RANK_BY[0] == "prediction" and "e_above_hull" in RANK_BY


@needs_data
def test_hull_screening_on_a_local_cluster_equals_the_local_run(ensemble, space, mp_hull,
                                                                tmp_path):
    pytest.importorskip("distributed")
    from skmatnet._dask import connect_dask

    options = {"references": mp_hull, "rank_by": "e_above_hull", "chunk_size": 25}
    local_top = screen(ensemble, space, bottom=12, **options)
    local_file = tmp_path / "local.parquet"
    screen(ensemble, space, below=0.0, output=local_file, **options)
    with connect_dask("local:2") as client:
        on_dask = screen(ensemble, space, bottom=12, scheduler=client, **options)
        dask_file = tmp_path / "dask.parquet"
        screen(ensemble, space, below=0.0, output=dask_file, scheduler=client, **options)
        suggested = suggest(ensemble, space, mp_hull, n=5, scheduler=client, chunk_size=25)
    pd.testing.assert_frame_equal(on_dask.frame, local_top.frame, check_exact=False, atol=1e-6)
    pd.testing.assert_frame_equal(pd.read_parquet(dask_file), pd.read_parquet(local_file),
                                  check_exact=False, atol=1e-6)
    pd.testing.assert_frame_equal(
        suggested.frame, suggest(ensemble, space, mp_hull, n=5, chunk_size=25).frame,
        check_exact=False, atol=1e-6)
