"""Deep ensembles (skmatnet.ensemble) and the calibration metrics (skmatnet.metrics).

The metrics are checked against values worked out by hand; the ensembles train
small BRNets on real JARVIS formation energies.
"""

from __future__ import annotations

import io
import math

import joblib
import numpy as np
import pytest
from shared_data import needs_data
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmatnet import (
    BRNetRegressor,
    ElementFractionTransformer,
    MatNetEnsembleRegressor,
    load_dataset,
    load_model,
    metrics,
    save_model,
)
from skmatnet.benchmark import FoldEnsembleRegressor
from skmatnet.ensemble import fit_std_scale

pytestmark = needs_data
SMALL = BRNetRegressor(width=0.125, max_epochs=12, batch_size=128, device="cpu")

# -- scikit-learn's checks ----------------------------------------------------

CHECKED = MatNetEnsembleRegressor(
    BRNetRegressor(**{**BRNetRegressor._get_test_params(), "max_epochs": 5}), n_estimators=2,
    random_state=0)


@parametrize_with_checks([CHECKED], expected_failed_checks=lambda est: {
    "check_methods_subset_invariance": "the members are networks: float32 matrix products "
    "differ in the last bit (~1e-7 relative) between batch sizes, as for the regressors "
    "(tests/small_estimators.py); the check demands rtol=1e-7",
})
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- metrics, against hand values --------------------------------------------


def test_interval_coverage_counts_rows_inside_the_gaussian_interval():
    y, mean, std = np.zeros(4), np.array([0.0, 0.9, 1.5, 3.0]), np.ones(4)
    assert metrics.interval_coverage(y, mean, std, level=0.6827) == 0.5  # |err| <= 1.0
    assert metrics.interval_coverage(y, mean, std, level=0.95) == 0.75  # |err| <= 1.96
    with pytest.raises(ValueError, match="level must be in"):
        metrics.interval_coverage(y, mean, std, level=95)


def test_gaussian_nll_by_hand():
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    assert metrics.gaussian_nll([0.0], [0.0], [1.0]) == pytest.approx(half_log_2pi)
    # error 1, std 2: log(2) + 1 / (2 * 4)
    assert metrics.gaussian_nll([1.0], [0.0], [2.0]) == pytest.approx(
        half_log_2pi + math.log(2) + 0.125)


def test_miscalibration_area_by_hand():
    # No error at all, std 1: every interval holds every row, observed share 1 from the first
    # level on; with 100 steps the trapezoids give (1 - 1/100) / 2.
    assert metrics.miscalibration_area(np.zeros(50), np.zeros(50), np.ones(50)) == \
        pytest.approx(0.495)
    # Gaussian errors with their true std: nearly calibrated.
    rng = np.random.default_rng(0)
    std = rng.uniform(0.5, 2.0, 20000)
    y = rng.normal(0.0, std)
    assert metrics.miscalibration_area(y, np.zeros_like(y), std) < 0.01
    assert metrics.miscalibration_area(y, np.zeros_like(y), std / 3) > 0.2


def test_spearman_and_std_scale_by_hand():
    err, std = np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2, 0.3])
    assert metrics.error_std_spearman(err, np.zeros(3), std) == pytest.approx(1.0)
    assert metrics.error_std_spearman(err, np.zeros(3), std[::-1]) == pytest.approx(-1.0)



def test_std_scale_recovers_a_known_factor_despite_near_zero_spreads():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.5, 2.0, 5000)
    y = rng.normal(0.0, 3.0 * std)  # the stated spread is three times too small
    assert fit_std_scale(y, np.zeros_like(y), std) == pytest.approx(3.0, rel=0.05)
    # 2% of the rows where the members agree almost exactly: a likelihood (RMS) fit would be
    # dominated by them (factor ~1e6 here); the area fit is not
    std[:100] = 1e-7
    z = y / std
    assert math.sqrt(np.mean(z**2)) > 1e5
    assert fit_std_scale(y, np.zeros_like(y), std) == pytest.approx(3.0, rel=0.1)
    assert fit_std_scale(np.ones(5), np.ones(5), np.ones(5)) == 1.0  # no error: no scaling


@pytest.mark.parametrize(("args", "message"), [
    (([0, 1], [0], [1]), "same length"),
    (([0.0], [np.nan], [1.0]), "y_mean has a non-finite value at row 0"),
    (([0.0, 1.0], [0.0, 1.0], [1.0, 0.0]), "y_std must be positive; row 1"),
])
def test_metrics_name_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        metrics.gaussian_nll(*args)


# -- ensembles on real data ----------------------------------------------------


@pytest.fixture(scope="module")
def jarvis():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), size=2600, replace=False)
    X = ElementFractionTransformer().fit_transform(formulas[rows])
    return formulas[rows], X, y[rows]


@pytest.fixture(scope="module")
def calibrated(jarvis):
    _, X, y = jarvis
    model = MatNetEnsembleRegressor(SMALL, n_estimators=3, calibrate=True, random_state=0)
    return model.fit(X[:1600], y[:1600], X_val=X[1600:2000], y_val=y[1600:2000])


def test_ensemble_predicts_the_members_mean_and_spread(calibrated, jarvis):
    _, X, y = jarvis
    X_test, y_test = X[2000:], y[2000:]
    members = np.stack([m.predict(X_test) for m in calibrated.estimators_])
    assert len({m.random_state for m in calibrated.estimators_}) == 3
    mean, std = calibrated.predict(X_test, return_std=True)
    np.testing.assert_allclose(mean, members.mean(axis=0))
    np.testing.assert_allclose(std, members.std(axis=0) * calibrated.std_scale_)
    member_maes = sorted(np.mean(np.abs(m - y_test)) for m in members)
    assert np.mean(np.abs(mean - y_test)) < member_maes[1]  # below the median member


def test_calibration_brings_coverage_to_the_stated_level(calibrated, jarvis):
    _, X, y = jarvis
    X_test, y_test = X[2000:], y[2000:]
    mean, std = calibrated.predict(X_test, return_std=True)
    raw = std / calibrated.std_scale_
    assert calibrated.std_scale_ > 1  # members agree more than their errors say
    for level in (0.6827, 0.95):
        before = metrics.interval_coverage(y_test, mean, raw, level)
        after = metrics.interval_coverage(y_test, mean, std, level)
        assert abs(after - level) < abs(before - level), (level, before, after)
    assert metrics.error_std_spearman(y_test, mean, std) > 0


def test_conformal_intervals_hold_on_the_held_out_and_new_rows(calibrated, jarvis):
    _, X, y = jarvis
    X_val, y_val, X_test, y_test = X[1600:2000], y[1600:2000], X[2000:], y[2000:]
    mean, std = calibrated.predict(X_val, return_std=True)
    # the scale: the rescaled spread plus the held-out rows' mean absolute error
    mae = np.mean(np.abs(y_val - mean))
    assert calibrated.interval_scale_ == (1.0, pytest.approx(mae, rel=1e-6))
    scale = std + mae
    np.testing.assert_allclose(calibrated.calibration_scores_,
                               np.sort(np.abs(y_val - mean) / scale), rtol=1e-6)
    for coverage in (0.8, 0.95):
        rank = math.ceil(401 * coverage)  # of the 400 held-out rows
        lower, upper = calibrated.predict_interval(X_val, coverage=coverage).T
        np.testing.assert_allclose(upper - mean, mean - lower, rtol=1e-6)
        inside = (lower <= y_val) & (y_val <= upper)
        assert inside.sum() == rank  # exactly the rows scoring up to the rank-th score
        lower, upper = calibrated.predict_interval(X_test, coverage=coverage).T
        held = np.mean((lower <= y_test) & (y_test <= upper))
        assert held > coverage - 0.05, (coverage, held)  # 600 new rows: sampling noise only
    # wider intervals where the members disagree more
    _, std_test = calibrated.predict(X_test, return_std=True)
    widths = np.diff(calibrated.predict_interval(X_test), axis=1).ravel()
    ratio = widths / (std_test + mae)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)


def test_intervals_without_calibration_or_held_out_rows(jarvis):
    _, X, y = jarvis
    plain = MatNetEnsembleRegressor(Ridge(), n_estimators=3, members="bootstrap",
                                    random_state=0).fit(X[:300], y[:300])
    assert plain.calibration_scores_ is None and plain.interval_scale_ is None
    mean, std = plain.predict(X[300:310], return_std=True)
    np.testing.assert_allclose(plain.predict_interval(X[300:310], coverage=0.9),
                               np.column_stack([mean - 1.6448536 * std, mean + 1.6448536 * std]),
                               atol=1e-6)
    few = MatNetEnsembleRegressor(Ridge(), n_estimators=3, members="bootstrap", calibrate=True,
                                  random_state=0)
    few.fit(X[:300], y[:300], X_val=X[300:310], y_val=y[300:310])
    assert len(few.calibration_scores_) == 10
    with pytest.warns(UserWarning, match="10 held-out rows are too few for 95% intervals"):
        bounds = few.predict_interval(X[310:320], coverage=0.95)
    assert np.isinf(bounds).all()
    assert np.isfinite(few.predict_interval(X[310:320], coverage=0.9)).all()  # rank 10 of 10
    for bad in (0, 1, 1.5, "0.9"):
        with pytest.raises(ValueError, match="coverage must be a number in"):
            few.predict_interval(X[:2], coverage=bad)


def test_bootstrap_and_cv_members(jarvis):
    _, X, y = jarvis
    boot = MatNetEnsembleRegressor(SMALL, n_estimators=2, members="bootstrap",
                                   random_state=0).fit(X[:800], y[:800])
    assert boot.std_scale_ == 1.0
    folds = MatNetEnsembleRegressor(SMALL, cv=3, calibrate=True, random_state=0)
    folds.fit(X[:900], y[:900])
    assert len(folds.estimators_) == 3
    # each member early-stopped on its own fold of 300 rows, not a random 10% split
    for member, (_, held) in zip(folds.estimators_, KFold(3).split(X[:900]), strict=True):
        best = min(member.history_[:, "valid_loss"])
        assert best == pytest.approx(np.mean(np.abs(member.predict(X[held]) - y[held])),
                                     rel=1e-4)
    assert np.isfinite(folds.std_scale_) and folds.std_scale_ > 1
    # every row is out of fold once; one width for all (the spread at a training row is
    # not the spread at a new one)
    assert folds.interval_scale_ == (0.0, 1.0)
    errors = np.concatenate([y[:900][held] - member.predict(X[:900][held]) for member, (_, held)
                             in zip(folds.estimators_, KFold(3).split(X[:900]), strict=True)])
    np.testing.assert_allclose(folds.calibration_scores_, np.sort(np.abs(errors)), rtol=1e-5)
    widths = np.diff(folds.predict_interval(X[900:950], coverage=0.9), axis=1)
    np.testing.assert_allclose(widths, 2 * folds.calibration_scores_[math.ceil(901 * 0.9) - 1],
                               rtol=1e-6)


def test_ensemble_in_pipeline_grid_search_and_parallel(jarvis):
    formulas, X, y = jarvis
    pipe = Pipeline([("ef", ElementFractionTransformer()),
                     ("ens", MatNetEnsembleRegressor(SMALL, n_estimators=2, random_state=0))])
    pipe.fit(formulas[:500], y[:500])
    mean, std = pipe.predict(["Fe2O3", "NaCl"], return_std=True)
    assert mean.shape == std.shape == (2,) and (std > 0).all()
    search = GridSearchCV(clone(pipe), {"ens__n_estimators": [1, 2]}, cv=KFold(2),
                          scoring="neg_mean_absolute_error").fit(formulas[:400], y[:400])
    assert len(search.best_estimator_.named_steps["ens"].estimators_) in (1, 2)
    serial = MatNetEnsembleRegressor(SMALL, n_estimators=2, random_state=3).fit(X[:400], y[:400])
    parallel = MatNetEnsembleRegressor(SMALL, n_estimators=2, random_state=3, n_jobs=2)
    parallel.fit(X[:400], y[:400])
    np.testing.assert_allclose(parallel.predict(X[:50]), serial.predict(X[:50]), rtol=1e-5)


def test_bad_uses_are_named(jarvis):
    _, X, y = jarvis
    with pytest.raises(ValueError, match="calibrate=True needs held-out rows"):
        MatNetEnsembleRegressor(SMALL, calibrate=True).fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="gives no uncertainty; MatNetEnsembleRegressor"):
        clone(SMALL).set_params(max_epochs=1).fit(X[:100], y[:100]).predict(X[:5],
                                                                            return_std=True)
    with pytest.raises(ValueError, match="X_val and y_val must be given together"):
        MatNetEnsembleRegressor(SMALL).fit(X[:100], y[:100], X_val=X[:10])
    with pytest.raises(ValueError, match="different numbers of rows"):
        MatNetEnsembleRegressor(SMALL).fit(X[:100], y[:90])


def test_ensemble_round_trips_through_save_model_and_joblib(calibrated, jarvis, tmp_path):
    _, X, _ = jarvis
    expected = calibrated.predict(X[:40], return_std=True)
    loaded = load_model(save_model(calibrated, tmp_path / "ensemble.skmatnet"))
    assert isinstance(loaded, MatNetEnsembleRegressor)
    assert loaded.std_scale_ == calibrated.std_scale_
    np.testing.assert_array_equal(loaded.calibration_scores_, calibrated.calibration_scores_)
    assert loaded.interval_scale_ == calibrated.interval_scale_
    np.testing.assert_allclose(loaded.predict_interval(X[:40]),
                               calibrated.predict_interval(X[:40]), rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(X[:40], return_std=True), expected, rtol=1e-6)
    assert loaded.get_params()["n_estimators"] == 3
    buffer = io.BytesIO()
    joblib.dump(calibrated, buffer)
    buffer.seek(0)
    np.testing.assert_allclose(joblib.load(buffer).predict(X[:40], return_std=True), expected)
    with pytest.raises(ValueError, match="cannot save ensemble member 0: cannot save a Ridge"):
        save_model(MatNetEnsembleRegressor(Ridge(), n_estimators=2).fit(X[:50], np.ones(50)),
                   tmp_path / "ridge.skmatnet")


def test_benchmark_fold_ensemble_is_the_same_class(jarvis):
    _, X, y = jarvis
    members = [Ridge().fit(X[:100], y[:100]), Ridge().fit(X[100:200], y[100:200])]
    folds = FoldEnsembleRegressor(members, selected=1)
    assert isinstance(folds, MatNetEnsembleRegressor)
    mean, std = folds.predict(X[:5], return_std=True)
    stacked = np.stack([m.predict(X[:5]) for m in members])
    np.testing.assert_allclose(mean, stacked.mean(axis=0))
    np.testing.assert_allclose(std, stacked.std(axis=0))
