"""Classification benchmarks: label targets, the classifier baselines, ROC-AUC tables.

Real rows: metal or not from the JARVIS optB88vdW band gaps (a dataset's
``is_metal`` target or a threshold on the gap), tiny networks, small budgets.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from bench_settings import TINY
from shared_data import needs_data
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from skmatnet import BRNetClassifier, load_dataset
from skmatnet.benchmark import (
    TABLE_COLUMNS,
    BenchmarkError,
    ClassificationTask,
    FoldEnsembleClassifier,
    load_benchmark_data,
    load_fitted_model,
    run_benchmark,
)
from skmatnet.benchmark.report import baseline_verdict
from skmatnet.benchmark.tasks import class_scores
from skmatnet.cli import main

pytestmark = needs_data

GAPS = "jarvis_optb88vdw_bandgap"
MODELS = ["automl", "tradml", "brnet"]


@pytest.fixture(scope="module")
def metals(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "metals"
    return run_benchmark(GAPS, target="is_metal", models=MODELS, output_dir=out, max_rows=1500,
                         tradml_grid="quick", automl_evals=6, automl_trial_timeout=20.0,
                         **TINY)


# ---------------------------------------------------------------------------
# Which rows, which labels
# ---------------------------------------------------------------------------


def test_dataset_label_target_makes_a_classification_task():
    data = load_benchmark_data(GAPS, target="is_metal")
    expected = load_dataset(GAPS, target="is_metal")
    assert data.task == "classification" and data.y.dtype == bool
    np.testing.assert_array_equal(data.y, expected["target"].to_numpy(dtype=bool))
    assert data.source["class_counts"] == {"False": int((~data.y).sum()),
                                           "True": int(data.y.sum())}
    assert 0.6 < data.y.mean() < 0.8  # 71 % of JARVIS compositions are metals
    assert data.units == "" and data.target == "is_metal"


def test_threshold_labels_the_deduplicated_numbers():
    gaps = load_benchmark_data(GAPS)
    labelled = load_benchmark_data(GAPS, threshold=0.0)
    metal = load_benchmark_data(GAPS, target="is_metal")
    assert labelled.task == "classification" and gaps.task == "regression"
    np.testing.assert_array_equal(labelled.y, gaps.y > 0)
    np.testing.assert_array_equal(labelled.y, ~metal.y)  # a gap above 0: not a metal
    assert labelled.target.endswith("> 0")


def test_regression_rows_and_fingerprint_source_are_unchanged_by_tasks():
    data = load_benchmark_data(GAPS)
    assert data.task == "regression" and data.y.dtype == np.float64
    assert "task" not in data.source and "class_counts" not in data.source


@pytest.fixture
def labelled_csv(tmp_path):
    def write(labels, name="labels.csv", formulas=None):
        formulas = formulas or [f"Fe{i + 1}O{i + 2}" for i in range(len(labels))]
        path = tmp_path / name
        pd.DataFrame({"formula": formulas, "target": labels}).to_csv(path, index=False)
        return path
    return write


def test_csv_text_labels_are_classification_and_deduped_by_majority(labelled_csv):
    labels = ["metal", "insulator"] * 15
    formulas = [f"Fe{i + 1}O{i + 2}" for i in range(30)]
    # FeO2 three times: row 0 (Fe1O2) a metal, rows 1 and 3 (Fe2O4) insulators
    formulas[1] = formulas[3] = "Fe2O4"
    frame = load_benchmark_data(labelled_csv(labels, formulas=formulas))
    assert frame.task == "classification" and set(frame.y) == {"metal", "insulator"}
    assert len(frame) == 28
    row = int(np.flatnonzero(frame.formulas == "Fe2O4")[0])
    assert frame.y[row] == "insulator"


def test_csv_typo_in_a_numeric_column_names_its_row(labelled_csv):
    values = [str(v) for v in np.linspace(0, 2, 30)]
    values[7] = "2.1eV"
    with pytest.raises(BenchmarkError, match=r"is not numeric \(row 7: '2.1eV'\)"):
        load_benchmark_data(labelled_csv(values))


def test_csv_continuous_target_for_classification_asks_for_a_threshold(labelled_csv):
    path = labelled_csv(np.linspace(0, 2, 30))
    with pytest.raises(BenchmarkError, match=r"continuous .*--threshold"):
        load_benchmark_data(path, task="classification")
    data = load_benchmark_data(path, threshold=1.0)
    assert data.y.sum() == 15 and data.task == "classification"


def test_csv_integer_labels_with_task_classification(labelled_csv):
    data = load_benchmark_data(labelled_csv([0, 1, 2] * 10), task="classification")
    assert data.y.dtype.kind == "i" and set(data.y.tolist()) == {0, 1, 2}
    assert load_benchmark_data(labelled_csv([0, 1, 2] * 10)).task == "regression"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"task": "regression", "threshold": 0.0}, "a threshold makes labels"),
    ({"target": "is_metal"}, "names a dataset's alternative target"),
    ({"task": "regresion"}, "task must be one of"),
    ({"threshold": float("nan")}, "threshold must be a finite number"),
])
def test_bad_task_options_are_named(labelled_csv, kwargs, message):
    with pytest.raises(BenchmarkError, match=message):
        load_benchmark_data(labelled_csv(np.linspace(0, 2, 30)), **kwargs)


def test_one_class_and_labels_for_regression_are_refused(labelled_csv):
    with pytest.raises(BenchmarkError, match="at least two classes"):
        load_benchmark_data(labelled_csv(["metal"] * 30))
    with pytest.raises(BenchmarkError, match="holds true/false labels"):
        load_benchmark_data(GAPS, target="is_metal", task="regression")
    with pytest.raises(BenchmarkError, match="target must be None or 'is_metal'"):
        load_benchmark_data("jarvis_formation_energy", target="is_metal")


# ---------------------------------------------------------------------------
# Scores and metrics
# ---------------------------------------------------------------------------


def test_models_without_probabilities_are_ranked_by_their_decision_function():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=200) > 0, "b", "a")
    task = ClassificationTask(y)
    svc = SVC().fit(X[:150], y[:150])
    outputs = class_scores(svc, X[150:], task.classes)
    assert outputs.proba is None
    np.testing.assert_allclose(outputs.ranking(), svc.decision_function(X[150:]))
    metrics = task.metrics(y[150:], outputs)
    assert np.isnan(metrics["test_log_loss"]) and metrics["test_roc_auc"] > 0.9
    # a probabilistic model gets a log-loss, and its columns follow the task's classes
    logistic = LogisticRegression().fit(X[:150], y[:150])
    outputs = class_scores(logistic, X[150:], task.classes)
    np.testing.assert_allclose(outputs.proba, logistic.predict_proba(X[150:]), atol=1e-12)
    assert task.metrics(y[150:], outputs)["test_log_loss"] < 0.5


def test_fold_probabilities_are_averaged_and_padded_for_missing_classes():
    task = ClassificationTask(np.array(["a", "b", "c"]))
    rng = np.random.RandomState(1)
    X = rng.normal(size=(90, 2))
    y = np.repeat(["a", "b", "c"], 30)
    full = LogisticRegression().fit(X, y)
    two = LogisticRegression().fit(X[:60], y[:60])  # never saw "c"
    outs = [class_scores(m, X, task.classes) for m in (full, two)]
    assert np.all(outs[1].proba[:, 2] == 0)
    mean, spread = task.average(outs)
    np.testing.assert_allclose(mean.proba, (outs[0].proba + outs[1].proba) / 2)
    np.testing.assert_allclose(mean.proba.sum(axis=1), 1.0)
    assert spread.shape == (90,) and (spread >= 0).all()
    np.testing.assert_array_equal(mean.labels, task.classes[mean.proba.argmax(axis=1)])


# ---------------------------------------------------------------------------
# End to end
# ---------------------------------------------------------------------------


def test_metal_benchmark_table_has_classification_metrics(metals):
    table = pd.read_csv(metals.output_dir / "results.csv")
    assert list(table.columns) == list(ClassificationTask.table_columns)
    assert list(table.columns) != TABLE_COLUMNS
    assert table["model"].tolist() == MODELS
    # 71 % metals: chance is 0.5 ROC-AUC and ~0.71 accuracy; every model ranks far better
    assert (table["test_roc_auc"] > 0.75).all(), table
    assert (table["test_accuracy"] > 0.7).all() and (table["test_f1"] > 0.7).all()
    assert (table["test_log_loss"] > 0).all() and (table["val_roc_auc"] > 0.75).all()
    markdown = (metals.output_dir / "results.md").read_text()
    assert "| test ROC-AUC | accuracy | F1 | log-loss |" in markdown
    assert "positive class True" in markdown and "paper MAE" not in markdown
    verdict = baseline_verdict(table, task=metals.task)
    assert verdict.startswith("Best baseline: ") and "(test ROC-AUC)" in verdict
    assert metals.task.binary and list(metals.task.classes) == [False, True]


def test_metal_benchmark_metrics_match_its_prediction_file(metals):
    from sklearn.metrics import accuracy_score, roc_auc_score

    table = pd.read_csv(metals.output_dir / "results.csv").set_index("model")
    for name in MODELS:
        frame = pd.read_csv(metals.output_dir / "predictions" / f"{name}.csv")
        truth = frame["y_true"].astype(bool)
        assert roc_auc_score(truth, frame["proba_True"]) == pytest.approx(
            table.loc[name, "test_roc_auc"], abs=1e-9)
        assert accuracy_score(truth, frame["y_pred"].astype(bool)) == pytest.approx(
            table.loc[name, "test_accuracy"], abs=1e-9)
        np.testing.assert_allclose(frame["proba_True"] + frame["proba_False"], 1.0, atol=1e-6)


def test_metal_benchmark_roc_plot_and_bubble_chart(metals):
    for name in ("roc.png", "bubble.png"):
        png = (metals.output_dir / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert not list(metals.output_dir.glob("parity_*.png"))


def test_metal_benchmark_saved_models_classify_formulas(metals):
    network = load_fitted_model(metals.output_dir, "brnet")
    assert isinstance(network, Pipeline)
    assert isinstance(network.named_steps["model"], BRNetClassifier)
    proba = network.predict_proba(["Cu", "NaCl", "Fe2O3"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert network.predict(["Cu"]).dtype == bool
    for name in ("automl", "tradml"):
        baseline = load_fitted_model(metals.output_dir, name)
        assert set(baseline.predict(["Cu", "NaCl"])) <= {True, False}


def test_metal_benchmark_automl_searched_classifiers(metals):
    record = json.loads((metals.output_dir / "done" / "automl.json").read_text())
    trials = record["details"]["trials"]
    assert len(trials) == 6 and all("classifier" in t for t in trials)
    ok = [t for t in trials if t["status"] == "ok"]
    assert ok and all(0 <= t["valid_roc_auc"] <= 1 for t in ok)
    assert record["fingerprint"]["config"]["task"] == "classification"


def test_metal_benchmark_resumes(metals, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(metals.output_dir, out)
    again = run_benchmark(GAPS, target="is_metal", models=MODELS, output_dir=out,
                          max_rows=1500, tradml_grid="quick", automl_evals=6,
                          automl_trial_timeout=20.0, resume=True, **TINY)
    assert again.resumed == MODELS
    pd.testing.assert_frame_equal(again.table.reset_index(drop=True),
                                  metals.table.reset_index(drop=True))


def test_tatis_classification_averages_fold_probabilities(tmp_path):
    result = run_benchmark(GAPS, threshold=0.0, models=["tradml", "brnet"], protocol="tatis",
                           n_folds=2, output_dir=tmp_path / "tatis", max_rows=800,
                           tradml_grid="quick", **TINY)
    table = result.table.set_index("model")
    assert list(table.index) == ["tradml", "tradml-ensemble", "brnet", "brnet-ensemble"]
    assert table.loc["brnet-ensemble", "variant"] == "mean probabilities of 2 fold models"
    assert "highest validation ROC-AUC" in table.loc["brnet", "variant"]
    frame = pd.read_csv(tmp_path / "tatis" / "predictions" / "brnet.csv")
    np.testing.assert_allclose(frame["proba_True_ensemble"],
                               (frame["proba_True_fold1"] + frame["proba_True_fold2"]) / 2,
                               atol=1e-6)
    ensemble = load_fitted_model(tmp_path / "tatis", "brnet")
    assert isinstance(ensemble, FoldEnsembleClassifier)
    formulas = frame["formula"].tolist()
    np.testing.assert_allclose(ensemble.predict_proba(formulas)[:, 1],
                               frame["proba_True_ensemble"], atol=1e-5)
    assert set(ensemble.predict(formulas[:20])) <= {True, False}


def test_cli_threshold_runs_a_classification_benchmark(tmp_path, capsys):
    code = main(["benchmark", GAPS, "--threshold", "0", "--models", "tradml", "--max-rows",
                 "600", "--tradml-grid", "quick", "--output", str(tmp_path / "cli"),
                 "--no-plots", "--quiet"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "test ROC-AUC" in out.out and "log-loss" in out.out
    code = main(["benchmark", GAPS, "--threshold", "0", "--task", "regression",
                 "--models", "tradml", "--output", str(tmp_path / "bad")])
    assert code != 0 and "a threshold makes labels" in capsys.readouterr().err
