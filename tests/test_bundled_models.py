"""The pretrained models shipped inside the package, on the rows they were measured on.

``tests/test_pretrained.py`` tests the machinery on tiny models in a temporary folder;
this file tests the real bundled files: every model the manifest lists loads, its card
names what it predicts, its test figure is what its card and the manifest say (recomputed
on the test part of its split), it predicts known compounds sensibly, and it fine-tunes by
name in a pipeline, in ``GridSearchCV`` and from the command line.
"""

from __future__ import annotations

import numpy as np
import pytest
from shared_data import needs_data
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, read_model_card
from skmatnet.benchmark import load_benchmark_data, make_split
from skmatnet.benchmark.protocols import Split
from skmatnet.cli import main
from skmatnet.pretrained import list_models, load_pretrained, model_path

pytestmark = needs_data

#: Every bundled model: (dataset, target, split of its card).
BUNDLED = {
    "mp_formation_energy": ("mp_formation_energy", None, "brnet"),
    "jarvis_formation_energy": ("jarvis_formation_energy", None, "brnet"),
    "jarvis_optb88vdw_bandgap": ("jarvis_optb88vdw_bandgap", None, "brnet"),
    "oqmd_bandgap": ("oqmd_bandgap", None, "published"),
    "oqmd_formation_enthalpy": ("oqmd_formation_enthalpy", None, "validation_third"),
    "jarvis_is_metal": ("jarvis_optb88vdw_bandgap", "is_metal", "brnet"),
    "oqmd_is_metal": ("oqmd_bandgap", "is_metal", "published"),
}


def _test_rows(name):
    """The formulas and targets of the test part the bundled model was scored on."""
    dataset, target, protocol = BUNDLED[name]
    data = load_benchmark_data(dataset, target=target)
    if protocol == "validation_third":  # only OQMD's validation and test thirds are here
        split = Split("validation_third", np.array([]), np.array([]),
                      np.flatnonzero(data.parts == "test"))
    else:
        split = make_split(data, protocol)
    return data.formulas[split.test], data.y[split.test]


def test_the_manifest_lists_every_bundled_model():
    table = list_models()
    assert sorted(table["name"]) == sorted(BUNDLED)
    assert table["size_mb"].sum() <= 30  # the package's budget for weights
    for name in BUNDLED:
        card = read_model_card(model_path(name))
        for key in ("target", "units", "dataset", "dataset_sha256", "split", "rows",
                    "test_metrics", "citation", "license", "command"):
            assert card[key], (name, key)
        assert card["dataset"] == BUNDLED[name][0]


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_the_test_figure_is_what_the_card_says(name):
    formulas, y = _test_rows(name)
    model = load_pretrained(name)
    card = model.model_card_ if hasattr(model, "model_card_") else read_model_card(
        model_path(name))
    manifest = list_models().set_index("name").loc[name]
    if BUNDLED[name][1] == "is_metal":
        proba = model.predict_proba(formulas)[:, list(model.classes_).index(True)]
        measured, key = roc_auc_score(y, proba), "roc_auc"
    else:
        measured, key = np.mean(np.abs(np.ravel(model.predict(formulas)) - y)), "mae"
    assert measured == pytest.approx(card["test_metrics"][key], abs=2e-5)
    assert manifest[f"test_{key}"] == pytest.approx(card["test_metrics"][key])


def test_known_compounds():
    energy = load_pretrained("mp_formation_energy").predict(["NaCl", "Al2O3", "Cu", "Au"])
    assert -2.5 < energy[0] < -1.7 and energy[1] < -3.0  # MP: -2.08 and -3.42 eV/atom
    assert abs(energy[2]) < 0.1 and abs(energy[3]) < 0.1  # elements: zero by definition
    gap = load_pretrained("jarvis_optb88vdw_bandgap").predict(["NaCl", "Cu", "MgO"])
    assert gap[0] > 3 and gap[1] < 0.3 and gap[2] > 3
    metal = load_pretrained("oqmd_is_metal").predict_proba(["Cu", "NaCl"])[:, 1]
    assert metal[0] > 0.8 and metal[1] < 0.2


def test_fine_tuning_by_name_in_a_pipeline_and_a_grid_search():
    data = load_benchmark_data("jarvis_formation_energy", max_rows=400)
    pipe = Pipeline([("fractions", ElementFractionTransformer()),
                     ("net", BRNetRegressor(init_from="mp_formation_energy", max_epochs=3,
                                            random_state=0))])
    search = GridSearchCV(pipe, {"net__lr": [1e-4, 3e-4]}, cv=KFold(2),
                          scoring="neg_mean_absolute_error")
    search.fit(data.formulas[:300], data.y[:300])
    tuned = search.best_estimator_[-1]
    assert tuned.init_from == "mp_formation_energy"
    assert tuned.effective_params_["width"] == 0.5  # the bundled network's width
    # three epochs from the MP weights already beat a constant on unseen rows
    error = np.mean(np.abs(search.predict(data.formulas[300:]) - data.y[300:]))
    assert error < np.mean(np.abs(data.y[300:] - np.median(data.y[:300])))


def test_the_command_line_takes_a_bundled_name(tmp_path, capsys):
    formulas = tmp_path / "formulas.txt"
    formulas.write_text("NaCl\nFe2O3\n")
    out = tmp_path / "predicted.csv"
    assert main(["predict", "mp_formation_energy", str(formulas), "-o", str(out)]) == 0
    text = out.read_text()
    assert "(eV/atom)" in text.splitlines()[0] and "NaCl" in text
    capsys.readouterr()
    assert main(["info", "oqmd_bandgap"]) == 0
    assert "dataset: oqmd_bandgap" in capsys.readouterr().out
    assert main(["models"]) == 0
    table = capsys.readouterr().out
    assert all(name in table for name in BUNDLED)


def test_the_docs_table_matches_the_manifest():
    from pathlib import Path

    page = (Path(__file__).parents[1] / "docs" / "pretrained.md").read_text()
    table = page.split("<!-- bundled models: start -->")[1].split("<!-- bundled models: end -->")[0]
    for entry in list_models().itertuples():
        line = next(row for row in table.splitlines() if f"`{entry.name}`" in row)
        metric = "roc_auc" if entry.kind == "classifier" else "mae"
        assert f"{metric} {getattr(entry, 'test_' + metric):.4f}" in line


def test_jarvis_formation_energy_intervals_hold_on_its_test_part():
    """The bundled JARVIS ensemble was calibrated on its validation part; its test part is
    drawn like it (one random split), so its conformal intervals must hold there."""
    model = load_pretrained("jarvis_formation_energy")
    assert len(model[-1].calibration_scores_) == 2407  # the validation part
    formulas, y = _test_rows("jarvis_formation_energy")
    X = model[:-1].transform(formulas)
    for coverage in (0.8, 0.9, 0.95):
        lower, upper = model[-1].predict_interval(X, coverage=coverage).T
        held = np.mean((lower <= y) & (y <= upper))
        assert abs(held - coverage) < 0.03, (coverage, held)  # 2,675 rows: sampling noise
