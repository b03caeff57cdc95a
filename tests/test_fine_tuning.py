"""Fine-tuning (init_from, freeze_layers, reset_output) and warm-start continuations.

Pretrained on real Materials Project formation energies, fine-tuned on real JARVIS
ones: the cross-database transfer of the docs, at test size.
"""

from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
import torch
from shared_data import needs_data
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline
from skorch.callbacks import Callback, LRScheduler

from skmatnet import (
    BRNetClassifier,
    BRNetRegressor,
    ElementFractionTransformer,
    IRNetRegressor,
    load_dataset,
    load_model,
    save_model,
)
from skmatnet._pretrained import layer_groups
from skmatnet.estimators import TrainingDivergedError

pytestmark = needs_data

#: A quarter-width BRNet: seconds per fit on a few thousand rows.
SMALL = {"width": 0.125, "batch_size": 128, "device": "cpu", "random_state": 0}


def _rows(name, n, seed):
    formulas, y = load_dataset(name, return_X_y=True)
    rows = np.random.default_rng(seed).choice(len(y), size=n, replace=False)
    return ElementFractionTransformer().fit_transform(formulas[rows]).astype(np.float32), y[rows]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    X, y = _rows("mp_formation_energy", 8000, 0)
    model = BRNetRegressor(**SMALL, max_epochs=8).fit(X, y)
    path = save_model(model, tmp_path_factory.mktemp("pretrained") / "mp.skmatnet")
    return model, path


@pytest.fixture(scope="module")
def jarvis():
    X, y = _rows("jarvis_formation_energy", 2300, 1)
    return (X[:300], y[:300]), (X[300:], y[300:])


def _mae(model, X, y):
    return float(np.mean(np.abs(model.predict(X) - y)))


def test_fine_tuning_beats_training_from_scratch_on_small_data(pretrained, jarvis):
    _, path = pretrained
    (X, y), (X_test, y_test) = jarvis
    scratch = BRNetRegressor(**SMALL, max_epochs=30).fit(X, y)
    tuned = BRNetRegressor(**SMALL, max_epochs=30, lr=1e-3, init_from=str(path)).fit(X, y)
    scratch_mae, tuned_mae = _mae(scratch, X_test, y_test), _mae(tuned, X_test, y_test)
    # 300 JARVIS rows: the MP-pretrained network's error is well below the fresh one's
    assert tuned_mae < 0.75 * scratch_mae, (tuned_mae, scratch_mae)


def test_init_from_copies_weights_and_freezes_leading_layers(pretrained, jarvis):
    source, path = pretrained
    (X, y), _ = jarvis
    tuned = BRNetRegressor(**SMALL, max_epochs=3, init_from=str(path), freeze_layers=2).fit(X, y)
    groups, original = layer_groups(tuned.module_), layer_groups(source.module_)
    for frozen, before in zip(groups[:2], original[:2], strict=True):
        for a, b in zip(frozen, before, strict=True):
            for p, q in zip(a.parameters(), b.parameters(), strict=True):
                assert not p.requires_grad and torch.equal(p, q)
    trained = list(groups[2][0].parameters())
    assert all(p.requires_grad for p in trained)
    assert not torch.equal(trained[0], next(original[2][0].parameters()))
    # The output layer is copied (same shape), or trained afresh with reset_output.
    fresh = BRNetRegressor(**SMALL, max_epochs=1, lr=1e-12, init_from=source,
                           reset_output=True).fit(X, y)
    kept = BRNetRegressor(**SMALL, max_epochs=1, lr=1e-12, init_from=source).fit(X, y)
    out = source.module_.output.weight
    assert torch.allclose(kept.module_.output.weight, out)
    assert not torch.allclose(fresh.module_.output.weight, out)


def test_a_regressor_fine_tunes_into_a_classifier(pretrained, jarvis):
    _, path = pretrained
    (X, y), (X_test, y_test) = jarvis
    stable, stable_test = y < -0.5, y_test < -0.5  # 53 % / 47 %
    classifier = BRNetClassifier(**SMALL, max_epochs=15, lr=1e-3, init_from=str(path))
    classifier.fit(X, stable)
    assert classifier.module_.output.out_features == 2  # a fresh two-class output layer
    scratch = BRNetClassifier(**SMALL, max_epochs=15, lr=1e-3).fit(X, stable)
    # measured: 0.835 accuracy against 0.751 from scratch
    assert classifier.score(X_test, stable_test) > scratch.score(X_test, stable_test) + 0.04


def test_incompatible_pretrained_models_are_refused(pretrained, jarvis):
    source, path = pretrained
    (X, y), _ = jarvis
    with pytest.raises(ValueError, match=r"holds a BRNet network, but IRNetRegressor builds IRNet"):
        IRNetRegressor(**SMALL, max_epochs=1, init_from=str(path)).fit(X, y)
    with pytest.raises(ValueError, match="trained on 86 input features, but X has 80"):
        BRNetRegressor(**SMALL, max_epochs=1, init_from=str(path)).fit(X[:, :80], y)
    with pytest.raises(ValueError, match=r"another shape: layer \S+ is \(\d+, 86\) there"):
        BRNetRegressor(**{**SMALL, "width": 0.25}, max_epochs=1, init_from=path).fit(X, y)
    with pytest.raises(ValueError, match="freeze_layers=99, but the BRNet network has"):
        BRNetRegressor(**SMALL, max_epochs=1, init_from=path, freeze_layers=99).fit(X, y)
    with pytest.raises(ValueError, match="needs init_from"):
        BRNetRegressor(**SMALL, max_epochs=1, freeze_layers=1).fit(X, y)
    with pytest.raises(ValueError, match=r"unfitted BRNetRegressor\. scikit-learn's clone"):
        clone(BRNetRegressor(**SMALL, max_epochs=1, init_from=source)).fit(X, y)
    other = Pipeline([("f", ElementFractionTransformer()), ("m", LinearRegression())])
    with pytest.raises(TypeError, match="init_from must be the path of a saved skmatnet model"):
        BRNetRegressor(**SMALL, max_epochs=1, init_from=other).fit(X, y)
    with pytest.raises(ValueError, match="'init_from' parameter of BRNetRegressor must be"):
        BRNetRegressor(**SMALL, max_epochs=1, init_from=3).fit(X, y)


def test_init_from_a_path_works_in_pipeline_grid_search_and_save_model(pretrained, tmp_path):
    _, path = pretrained
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    formulas, y = formulas[:400], y[:400]
    pipe = Pipeline([("ef", ElementFractionTransformer()),
                     ("net", BRNetRegressor(**SMALL, max_epochs=4, init_from=str(path)))])
    search = GridSearchCV(pipe, {"net__freeze_layers": [0, 2]}, cv=KFold(2),
                          scoring="neg_mean_absolute_error").fit(formulas, y)
    assert set(search.cv_results_["param_net__freeze_layers"]) == {0, 2}
    saved = save_model(search.best_estimator_, tmp_path / "tuned.skmatnet")
    loaded = load_model(saved)
    assert loaded.named_steps["net"].init_from == str(path)
    np.testing.assert_allclose(loaded.predict(formulas[:20]),
                               search.best_estimator_.predict(formulas[:20]), rtol=1e-6)
    buffer = io.BytesIO()
    joblib.dump(search.best_estimator_, buffer)
    buffer.seek(0)
    np.testing.assert_allclose(joblib.load(buffer).predict(formulas[:20]),
                               search.best_estimator_.predict(formulas[:20]), rtol=1e-6)
    assert clone(pipe).named_steps["net"].init_from == str(path)
    # an in-memory source is not stored (its weights are the model's now)
    direct = BRNetRegressor(**SMALL, max_epochs=1, init_from=pretrained[0])
    direct.fit(ElementFractionTransformer().fit_transform(formulas), y)
    assert load_model(save_model(direct, tmp_path / "direct.skmatnet")).init_from is None


class Record(Callback):
    """Marks every epoch it sees in the history."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("recorded", 1)


def _cosine(epochs):
    return ("cosine", LRScheduler(policy=torch.optim.lr_scheduler.CosineAnnealingLR,
                                  T_max=epochs, step_every="epoch"))


def test_warm_start_fit_uses_the_new_rate_schedule_and_callbacks(jarvis):
    (X, y), _ = jarvis
    net = BRNetRegressor(**SMALL, max_epochs=5, lr=2e-3, lr_schedule=None,
                         callbacks=[_cosine(5)]).fit(X, y)
    np.testing.assert_allclose(net.history_[:, "event_lr"][0], 2e-3)
    net.set_params(warm_start=True, lr=3e-4, callbacks=[_cosine(5), ("record", Record())])
    net.fit(X, y)
    rates = np.array(net.history_[5:, "event_lr"])
    # The new cosine from the new rate: torch's stored initial_lr (2e-3) no longer leaks in,
    # and the schedule starts at this fit's first epoch, not at epoch 6 of the history.
    expected = 3e-4 * 0.5 * (1 + np.cos(np.pi * np.arange(5) / 5))
    np.testing.assert_allclose(rates, expected, rtol=1e-6)
    assert net.history_[-1, "recorded"] == 1  # the new callbacks run
    # partial_fit continues (rates and scheduler count), with today's callbacks too
    net.set_params(callbacks=[("record", Record())])
    net.partial_fit(X, y)
    assert len(net.history_) == 15 and net.history_[-1, "recorded"] == 1
    assert net.optimizer_.param_groups[0]["initial_lr"] == 3e-4


def test_an_exploding_fine_tune_is_divergence(pretrained, jarvis):
    _, path = pretrained
    (X, y), _ = jarvis
    # A rate far too high for fine-tuning: the loss explodes in the first epoch without
    # becoming inf or NaN (measured: 3.7e7 from 0.53). It is caught against the loss of
    # the pretrained weights, as there is no earlier epoch to compare with.
    with pytest.raises(TrainingDivergedError,
                       match=r"in epoch 1 \(\S+ times the \S+ it started from: it exploded\)"):
        BRNetRegressor(**SMALL, max_epochs=6, lr=0.3, lr_schedule=None, warmup=0.0,
                       init_from=str(path)).fit(X, y)
