"""The six regressors as scikit-learn citizens, on real data with small networks."""

from __future__ import annotations

import io
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks
from small_estimators import ESTIMATORS, EXPECTED_FAILURES, small

from skmatnet import (
    BNetRegressor,
    BRNetRegressor,
    ElementCountStratifiedKFold,
    ElementFractionTransformer,
    ElemNetRegressor,
    IRNetRegressor,
    load_dataset,
    train_val_test_split,
)
from skmatnet import nets as nets_module


@parametrize_with_checks(
    [small(cls) for cls in ESTIMATORS],
    expected_failed_checks=lambda est: EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [small(cls) for cls in ESTIMATORS]
                         + [ElementFractionTransformer()], ids=lambda e: type(e).__name__)
def test_parameters_are_validated_declaratively(estimator):
    # sklearn's own check: every constrained parameter, set to a bad type or value,
    # makes fit (and partial_fit) raise InvalidParameterError naming it.
    check_param_validation(type(estimator).__name__, estimator)


@pytest.fixture(scope="module")
def jarvis():
    frame = load_dataset("jarvis_formation_energy")
    return frame["formula"].to_numpy(dtype=object), frame["target"].to_numpy()


@pytest.fixture(scope="module")
def jarvis_small(jarvis):
    formulas, y = jarvis
    rng = np.random.default_rng(0)
    rows = rng.choice(len(y), size=1200, replace=False)
    return formulas[rows], y[rows]


def brnet_pipeline(**net_params):
    params = {**BRNetRegressor._get_test_params(), "max_epochs": 5, **net_params}
    return Pipeline([("ef", ElementFractionTransformer()), ("net", BRNetRegressor(**params))])


# ---------------------------------------------------------------------------
# Each network, through its estimator
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_estimator_fits_formulas(cls, jarvis_small):
    formulas, y = jarvis_small
    model = Pipeline([("ef", ElementFractionTransformer()), ("net", small(cls, max_epochs=2))])
    model.fit(formulas, y)
    prediction = model.predict(formulas)
    assert prediction.shape == (len(y),) and prediction.dtype == np.float64
    assert np.isfinite(prediction).all()
    net = model.named_steps["net"]
    assert net.n_features_in_ == 86 and net.n_outputs_ == 1 and net.n_epochs_ == 2
    assert not net.module_.training  # left in eval mode after fit/predict


def test_paper_recipe_is_one_switch_away():
    net = BRNetRegressor.from_recipe("paper")
    assert net.lr == 1e-4 and net.batch_size == 32 and net.max_epochs == 3000
    assert net.criterion is torch.nn.L1Loss and net.optimizer is torch.optim.Adam
    assert net.patience == 100 and ElemNetRegressor.from_recipe("paper").patience == 200
    assert IRNetRegressor.from_recipe("paper").patience == 200
    assert net.lr_schedule is None and net.width == 1.0
    assert net.iterator_train__shuffle is True
    assert net.get_params()["device"] == "auto"
    assert BNetRegressor().module is nets_module.BNet
    assert IRNetRegressor(module__variant="concat").get_params()["module__variant"] == "concat"


def test_paper_recipe_networks_have_published_sizes(jarvis_small):
    X = ElementFractionTransformer().fit_transform(jarvis_small[0][:40])
    y = jarvis_small[1][:40]
    expected = {BRNetRegressor: 4_548_385, BNetRegressor: 3_670_849,
                ElemNetRegressor: 4_631_361, IRNetRegressor: 5_433_697}
    for cls, count in expected.items():
        net = cls.from_recipe("paper", max_epochs=1, validation_fraction=None,
                              device="cpu").fit(X, y)
        assert nets_module.count_parameters(net.module_) == count, cls.__name__
        # the recommended recipe's default network is the half-width one
        half = cls(max_epochs=1, validation_fraction=None, device="cpu").fit(X, y)
        expected_half = nets_module.count_parameters(type(net.module_)(width_multiplier=0.5))
        assert nets_module.count_parameters(half.module_) == expected_half, cls.__name__


# ---------------------------------------------------------------------------
# Inputs and outputs
# ---------------------------------------------------------------------------


def test_accepts_dataframes_float64_and_2d_y(jarvis_small):
    formulas, y = jarvis_small
    frame = ElementFractionTransformer().set_output(transform="pandas").fit_transform(formulas)
    net = small(BRNetRegressor, max_epochs=2).fit(frame.astype(np.float64), y.reshape(-1, 1))
    assert list(net.feature_names_in_) == list(frame.columns)
    prediction = net.predict(frame)
    assert prediction.shape == (len(y), 1)
    with pytest.warns(UserWarning, match="feature names"):
        net.predict(frame.to_numpy())
    pipe = brnet_pipeline(max_epochs=2)
    pipe.named_steps["ef"].set_output(transform="pandas")
    assert pipe.fit(formulas, y).predict(formulas).shape == (len(y),)


def test_multi_output(jarvis_small):
    formulas, y = jarvis_small
    targets = np.column_stack([y, 2 * y, -y])
    model = brnet_pipeline(max_epochs=3).fit(formulas, targets)
    assert model.named_steps["net"].n_outputs_ == 3
    assert model.predict(formulas).shape == (len(y), 3)
    assert model.named_steps["net"].module_.output.out_features == 3



def test_extra_columns_beside_the_formula_through_a_column_transformer(jarvis_small):
    """A ColumnTransformer of the featurizer on the formula and a scaler on another column
    (here the element count, a real property of each formula) feeds 87 columns to a network:
    dense float64, or a DataFrame with the transformer's feature names."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    formulas, y = jarvis_small
    X = ElementFractionTransformer().fit_transform(formulas)
    frame = pd.DataFrame({"formula": formulas, "elements": (X > 0).sum(axis=1)})

    def columns(**kwargs):
        return ColumnTransformer([("ef", ElementFractionTransformer(), "formula"),
                                  ("extra", StandardScaler(), ["elements"])], **kwargs)

    features = columns().fit_transform(frame)
    assert isinstance(features, np.ndarray) and features.dtype == np.float64
    assert features.shape == (len(y), 87)
    model = Pipeline([("columns", columns()), ("net", small(BRNetRegressor, max_epochs=3))])
    model.fit(frame, y)
    assert model["net"].n_features_in_ == 87
    predicted = model.predict(frame)
    assert predicted.shape == (len(y),) and np.isfinite(predicted).all()
    assert mean_absolute_error(y, predicted) < mean_absolute_error(y, np.full_like(y, y.mean()))
    # the extra column is an input: changing it changes the predictions
    shifted = model.predict(frame.assign(elements=frame["elements"] + 3))
    assert np.abs(shifted - predicted).max() > 1e-3
    # the columns are picked by name: another column order predicts the same
    np.testing.assert_allclose(model.predict(frame[["elements", "formula"]]), predicted)

    named = Pipeline([("columns", columns().set_output(transform="pandas")),
                      ("net", small(BRNetRegressor, max_epochs=3))]).fit(frame, y)
    names = list(named["net"].feature_names_in_)
    assert names[0] == "ef__H" and names[-1] == "extra__elements" and len(names) == 87

    # a network of the 86 fractions cannot start a fit on 87 inputs
    formula_only = small(BRNetRegressor, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="trained on 86 input features, but X has 87"):
        small(BRNetRegressor, max_epochs=1, init_from=formula_only).fit(features, y)

    # a sparse output (one-hot columns) is refused with the way out
    onehot = ColumnTransformer([("ef", ElementFractionTransformer(), "formula"),
                                ("extra", OneHotEncoder(), ["elements"])], sparse_threshold=1.0)
    with pytest.raises(TypeError, match=r"sparse matrix.*sparse_threshold=0"):
        Pipeline([("columns", onehot), ("net", small(BRNetRegressor))]).fit(frame, y)
    dense = Pipeline([("columns", onehot.set_params(sparse_threshold=0)),
                      ("net", small(BRNetRegressor, max_epochs=1))]).fit(frame, y)
    assert dense["net"].n_features_in_ == 86 + frame["elements"].nunique()


def test_scikit_learn_prediction_error_display(jarvis_small):
    """PredictionErrorDisplay draws the parity chart of a fitted pipeline from formulas."""
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.metrics import PredictionErrorDisplay

    formulas, y = jarvis_small
    model = brnet_pipeline(max_epochs=3).fit(formulas[:1000], y[:1000])
    display = PredictionErrorDisplay.from_estimator(model, formulas[1000:], y[1000:],
                                                    kind="actual_vs_predicted", subsample=None)
    np.testing.assert_allclose(display.y_pred, model.predict(formulas[1000:]))
    np.testing.assert_array_equal(display.y_true, y[1000:])
    assert display.scatter_.get_offsets().shape == (200, 2)
    net_display = PredictionErrorDisplay.from_estimator(
        model["net"], ElementFractionTransformer().fit_transform(formulas[1000:]), y[1000:],
        subsample=None)
    np.testing.assert_allclose(net_display.y_pred, display.y_pred, rtol=1e-6)

def test_bad_input_is_named():
    X = np.random.default_rng(0).random((30, 86), dtype=np.float32)
    y = X.sum(axis=1)
    net = small(BRNetRegressor, max_epochs=1)
    with pytest.raises(NotFittedError):
        net.predict(X)
    bad = X.copy()
    bad[3, 5] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        net.fit(bad, y)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        net.fit(X, np.where(np.arange(30) == 7, np.nan, y))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        net.fit(X, y[:-1])
    net.fit(X, y)
    with pytest.raises(ValueError, match="X has 85 features"):
        net.predict(X[:, :85])
    with pytest.raises(ValueError, match="validation_fraction"):
        small(BRNetRegressor, validation_fraction=1.5).fit(X, y)
    with pytest.raises(ValueError, match="lr_schedule"):
        small(BRNetRegressor, lr_schedule="linear").fit(X, y)
    assert not hasattr(net, "predict_proba")


# ---------------------------------------------------------------------------
# Training recipe
# ---------------------------------------------------------------------------


def test_early_stopping_restores_best_epoch(jarvis_small):
    formulas, y = jarvis_small
    X = ElementFractionTransformer().fit_transform(formulas)
    X_train, X_val, y_train, y_val = X[:900], X[900:], y[:900], y[900:]
    net = small(BRNetRegressor, max_epochs=200, patience=3, lr=3e-2)
    net.fit(X_train, y_train, X_val=X_val, y_val=y_val)
    losses = np.array(net.history_[:, "valid_loss"])
    assert net.n_epochs_ < 200  # stopped early
    assert net.best_epoch_ == int(np.argmin(losses)) + 1 < net.n_epochs_
    restored = mean_absolute_error(y_val, net.predict(X_val))
    assert restored == pytest.approx(losses.min(), rel=1e-4)
    assert restored < losses[-1]


def test_random_validation_split_is_shuffled(jarvis_small):
    X = ElementFractionTransformer().fit_transform(jarvis_small[0])
    net = small(BRNetRegressor, max_epochs=1)
    _train, valid = net.get_split_datasets(X, jarvis_small[1].reshape(-1, 1).astype(np.float32))
    assert len(valid) == 120
    assert not np.array_equal(np.sort(valid.indices), np.arange(1080, 1200))


def test_plateau_schedule_lowers_the_rate(jarvis_small):
    X = ElementFractionTransformer().fit_transform(jarvis_small[0])
    y = jarvis_small[1]
    net = small(BRNetRegressor, max_epochs=6, lr=1e-2,
                lr_schedule={"patience": 0, "factor": 0.5, "threshold": 10.0})
    net.fit(X, y)
    assert net.optimizer_.param_groups[0]["lr"] < 1e-2
    constant = small(BRNetRegressor, max_epochs=3, lr=1e-2).fit(X, y)
    assert constant.optimizer_.param_groups[0]["lr"] == 1e-2


def test_seeded_fits_are_identical_and_global_rng_untouched(jarvis_small):
    X = ElementFractionTransformer().fit_transform(jarvis_small[0])
    y = jarvis_small[1]
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = small(IRNetRegressor, max_epochs=3).fit(X, y).predict(X)
    assert torch.rand(1) == before
    second = small(IRNetRegressor, max_epochs=3).fit(X, y).predict(X)
    np.testing.assert_array_equal(first, second)
    other = small(IRNetRegressor, max_epochs=3, random_state=1).fit(X, y).predict(X)
    assert not np.array_equal(first, other)


def test_verbose_prints_epochs_and_zero_is_silent(jarvis_small, capsys):
    X = ElementFractionTransformer().fit_transform(jarvis_small[0][:200])
    y = jarvis_small[1][:200]
    small(BRNetRegressor, max_epochs=2, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    small(BRNetRegressor, max_epochs=2, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out and "dur" in out


def test_device_auto_resolves_but_param_stays(jarvis_small):
    net = BRNetRegressor()
    assert net.get_params()["device"] == "auto"
    assert net.device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert clone(net).get_params()["device"] == "auto"


# ---------------------------------------------------------------------------
# scikit-learn workflows on real data
# ---------------------------------------------------------------------------


def test_grid_search_over_lr_and_width(jarvis_small):
    formulas, y = jarvis_small
    search = GridSearchCV(
        brnet_pipeline(max_epochs=3),
        {"net__lr": [1e-3, 1e-2], "net__module__stage_widths": [(16, 8, 4), (32, 16, 8)]},
        cv=ElementCountStratifiedKFold(n_splits=2, random_state=0),
        scoring="neg_mean_absolute_error",
    )
    search.fit(formulas, y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_.named_steps["net"]
    assert best.lr == search.best_params_["net__lr"]
    widths = search.best_params_["net__module__stage_widths"]
    expected = nets_module.BRNet(86, 1, stage_widths=widths, stage_layers=(2, 2, 1),
                                 branch_layers=(2, 2))
    assert nets_module.count_parameters(best.module_) == nets_module.count_parameters(expected)


def test_cross_val_score_with_stratified_splitter(jarvis_small):
    formulas, y = jarvis_small
    scores = cross_val_score(brnet_pipeline(max_epochs=3), formulas, y,
                             cv=ElementCountStratifiedKFold(n_splits=3, random_state=0))
    assert scores.shape == (3,) and np.isfinite(scores).all()


def test_joblib_round_trip_and_clone(jarvis_small, tmp_path):
    formulas, y = jarvis_small
    model = brnet_pipeline(max_epochs=3).fit(formulas, y)
    path = tmp_path / "brnet.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(formulas), model.predict(formulas))
    fresh = clone(model)
    assert fresh.get_params()["net__module__stage_widths"] == (16, 8, 4)
    assert not hasattr(fresh.named_steps["net"], "module_")
    refit = fresh.fit(formulas, y)
    np.testing.assert_array_equal(refit.predict(formulas), model.predict(formulas))


def test_cuda_pickle_loads_on_cpu(jarvis_small, monkeypatch):
    """A model pickled on a GPU: storages tagged cuda:0, device 'cuda' or 'auto'."""
    formulas, y = jarvis_small
    X = ElementFractionTransformer().fit_transform(formulas)
    for requested in ("auto", "cuda"):
        net = small(BRNetRegressor, max_epochs=2).fit(X, y)
        expected = net.predict(X)
        net.__dict__["device"] = requested
        buffer = io.BytesIO()
        with monkeypatch.context() as patch:
            patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
            pickle.dump(net, buffer)
        assert b"cuda:0" in buffer.getvalue()
        buffer.seek(0)
        with monkeypatch.context() as patch:
            patch.setattr(torch.cuda, "is_available", lambda: False)
            if requested == "cuda":
                with pytest.warns(UserWarning, match="cuda|CUDA"):
                    loaded = pickle.load(buffer)
                assert str(loaded.get_params()["device"]) == "cpu"
            else:
                loaded = pickle.load(buffer)
                assert loaded.get_params()["device"] == "auto"
            np.testing.assert_array_equal(loaded.predict(X), expected)
            assert next(loaded.module_.parameters()).device.type == "cpu"


# ---------------------------------------------------------------------------
# Learning: a small BRNet beats the baselines clearly on JARVIS formation energy
# ---------------------------------------------------------------------------


def test_small_brnet_beats_dummy_and_linear_on_jarvis(jarvis):
    formulas, y = jarvis
    (f_train, f_val, f_test, y_train, y_val, y_test) = train_val_test_split(formulas, y)
    featurizer = ElementFractionTransformer()
    X_train, X_val, X_test = (featurizer.fit_transform(f) for f in (f_train, f_val, f_test))
    net = BRNetRegressor(
        module__stage_widths=(128, 64, 32), module__stage_layers=(2, 2, 1),
        lr=1e-3, batch_size=128, max_epochs=25, patience=5, random_state=1234567, device="cpu",
    ).fit(X_train, y_train, X_val=X_val, y_val=y_val)
    mae = {
        "brnet": mean_absolute_error(y_test, net.predict(X_test)),
        "linear": mean_absolute_error(y_test, Ridge(alpha=1e-3).fit(X_train, y_train)
                                      .predict(X_test)),
        "dummy": mean_absolute_error(y_test, DummyRegressor().fit(X_train, y_train)
                                     .predict(X_test)),
    }
    print("\nJARVIS formation energy test MAE (eV/atom):",
          {k: round(float(v), 4) for k, v in mae.items()}, "epochs", net.n_epochs_)
    assert mae["brnet"] < 0.5 * mae["linear"], mae
    assert mae["brnet"] < 0.3 * mae["dummy"], mae


def test_a_kind_must_implement_check_y():
    # _check_y is abstract: a kind of estimator that forgets it cannot be built
    from skorch import NeuralNet

    from skmatnet._base import MatNetBase

    class NoTargets(MatNetBase, NeuralNet):
        pass

    with pytest.raises(TypeError, match="_check_y"):
        NoTargets(BRNetRegressor().module, criterion=torch.nn.L1Loss)
