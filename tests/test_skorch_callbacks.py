"""skorch's own callbacks on skmatnet estimators: scoring, progress, logging, schedules,
checkpoints.

Each test trains small networks (``small``) on a few hundred real JARVIS formation-energy
rows, with skorch's callbacks as a user would pass them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score
from skorch.callbacks import (
    BatchScoring,
    Callback,
    Checkpoint,
    EpochScoring,
    LoadInitState,
    LRScheduler,
    ProgressBar,
    TrainEndCheckpoint,
)
from skorch.history import History
from small_estimators import CLASSIFIERS, ESTIMATORS, small

from skmatnet import BRNetClassifier, BRNetRegressor, ElementFractionTransformer, load_dataset

EVERY_ESTIMATOR = [*ESTIMATORS, *CLASSIFIERS]
ONE_OF_EACH_KIND = [BRNetRegressor, BRNetClassifier]


def name_of(cls):
    return cls.__name__


@pytest.fixture(scope="module")
def jarvis():
    """400 rows, their formation energies (eV/atom) and a label of them (stable or not)."""
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(1).choice(len(y), size=400, replace=False)
    X = ElementFractionTransformer().fit_transform(formulas[rows]).astype(np.float32)
    y = y[rows]
    return X, y, np.where(y < -1.0, "stable", "less stable")


def targets(cls, jarvis):
    X, y, labels = jarvis
    return X, (labels if cls in CLASSIFIERS else y)


class ScoreByHand(Callback):
    """After the scorers, every epoch: ``score(y_true, estimator)`` on the validation rows,
    computed here from ``predict`` / ``predict_proba`` on plain arrays of them."""

    def __init__(self, y, score):
        self.y = y
        self.score = score

    def initialize(self):
        self.scores_ = []
        return self

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        rows = dataset_valid.indices  # a Subset of the fit's rows
        self.scores_.append(self.score(self.y[rows], net, dataset_valid.dataset.X[rows]))


def neg_mae(y_true, net, X):
    return -mean_absolute_error(y_true, net.predict(X))


def r2(y_true, net, X):
    return r2_score(y_true, net.predict(X))


def accuracy(y_true, net, X):
    return accuracy_score(y_true, net.predict(X))


def roc_auc(y_true, net, X):
    return roc_auc_score(y_true, net.predict_proba(X)[:, 1])  # classes_[1]: the greater label


# -- EpochScoring: the scores of predict, in the units of y --------------------


def scored_fit(cls, X, y, scorers, **params):
    """``cls`` fitted with EpochScoring callbacks and, for each, the same score by hand."""
    callbacks = []
    by_hand = {}
    for name, (scoring, score, caching) in scorers.items():
        by_hand[name] = ScoreByHand(y, score)
        callbacks += [(name, EpochScoring(scoring, lower_is_better=False, name=name,
                                          use_caching=caching)),
                      (f"{name}_by_hand", by_hand[name])]
    net = small(cls, max_epochs=4, validation_fraction=0.25, callbacks=callbacks, **params)
    net.fit(X, y)
    for name, hand in by_hand.items():
        np.testing.assert_allclose(net.history_[:, name], hand.scores_, rtol=2e-6,
                                   err_msg=name)
    return net


@pytest.mark.parametrize("cls", ESTIMATORS, ids=name_of)
def test_epoch_scoring_of_a_regressor_scores_predict_in_the_units_of_y(cls, jarvis):
    X, y, _ = jarvis
    scorers = {"mae": ("neg_mean_absolute_error", neg_mae, True), "r2": ("r2", r2, True)}
    net = scored_fit(cls, X, y, scorers)
    # The network learns standardised targets; the MAE is that of y, the validation loss.
    np.testing.assert_allclose(-np.array(net.history_[:, "mae"]), net.history_[:, "valid_loss"],
                               rtol=1e-5)


@pytest.mark.parametrize("caching", [True, False], ids=["cached", "predicting again"])
def test_epoch_scores_of_a_target_in_other_units_scale_with_it(caching, jarvis):
    X, y, _ = jarvis
    scorers = {"mae": ("neg_mean_absolute_error", neg_mae, caching),
               "r2": ("r2", r2, caching)}
    in_ev = scored_fit(BRNetRegressor, X, y, scorers)
    in_mev = scored_fit(BRNetRegressor, X, 1000 * y, scorers)
    np.testing.assert_allclose(in_mev.history_[:, "mae"], 1000 * np.array(in_ev.history_[:, "mae"]),
                               rtol=1e-4)
    np.testing.assert_allclose(in_mev.history_[:, "r2"], in_ev.history_[:, "r2"], rtol=1e-4)


@pytest.mark.parametrize("cls", CLASSIFIERS, ids=name_of)
def test_epoch_scoring_of_a_classifier_agrees_with_sklearn(cls, jarvis):
    X, _, labels = jarvis
    scored_fit(cls, X, labels, {"accuracy": ("accuracy", accuracy, True),
                                "roc_auc": ("roc_auc", roc_auc, True)})


@pytest.mark.parametrize("kind", ["int", "bool"])
def test_epoch_scoring_of_classifiers_with_other_labels(kind, jarvis):
    X, y, _ = jarvis
    labels = np.where(y < -1.0, 7, 2) if kind == "int" else y < -1.0
    scored_fit(BRNetClassifier, X, labels, {"accuracy": ("accuracy", accuracy, True),
                                            "roc_auc": ("roc_auc", roc_auc, True)})
    # Labels that are their own positions (False, True) score without the cache too.
    if kind == "bool":
        scored_fit(BRNetClassifier, X, labels, {"accuracy": ("accuracy", accuracy, False)})


def test_classifier_scorers_that_would_compare_labels_with_positions_are_refused(jarvis):
    X, _, labels = jarvis
    # Without the cache skorch scores predict on plain rows (labels) against the classes
    # it holds as positions: refused before training, as BatchScoring of predict is.
    for callback in (EpochScoring("accuracy", use_caching=False), BatchScoring("accuracy"),
                     EpochScoring(None, use_caching=False)):
        with pytest.raises(ValueError, match=r"positions in classes_ \(0 to 1\) with the "
                                             r"labels predict returns \('less stable', "):
            small(BRNetClassifier, max_epochs=1, callbacks=[callback]).fit(X, labels)
    # Scores of probabilities need no labels: they work either way.
    scored_fit(BRNetClassifier, X, labels, {"roc_auc": ("roc_auc", roc_auc, False)})


# -- ProgressBar, PrintLog ----------------------------------------------------


class CountedBar(ProgressBar):
    """skorch's progress bar, recording (batches done, batches announced) of each epoch."""

    def initialize(self):
        self.counts_ = []
        return super().initialize()

    def on_epoch_end(self, net, **kwargs):
        self.counts_.append((self.pbar_.n, self.pbar_.total))
        super().on_epoch_end(net, **kwargs)


@pytest.mark.parametrize("cls", EVERY_ESTIMATOR, ids=name_of)
def test_progress_bar_counts_the_batches_of_an_automatic_batch_size(cls, jarvis, capsys):
    X, y = targets(cls, jarvis)
    bar = CountedBar()
    net = small(cls, max_epochs=2, batch_size="auto", validation_fraction=0.2,
                callbacks=[bar]).fit(X, y)
    batches = [row["train_batch_count"] + row["valid_batch_count"] for row in net.history_]
    assert bar.counts_ == [(n, n) for n in batches]
    assert net.effective_params_["batch_size"] == 16  # the rules' choice for 320 rows
    assert net.get_params()["batch_size"] == "auto"  # outside the fit, the parameter
    assert "it/s" in capsys.readouterr().err


@pytest.mark.parametrize("cls", ONE_OF_EACH_KIND, ids=name_of)
def test_print_log_prints_skorchs_table_with_verbose(cls, jarvis, capsys):
    X, y = targets(cls, jarvis)
    small(cls, max_epochs=3, validation_fraction=0.2).fit(X, y)
    assert capsys.readouterr().out == ""  # verbose=0, the default
    net = small(cls, max_epochs=3, validation_fraction=0.2, verbose=1,
                callbacks__print_log__keys_ignored=["dur"]).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["epoch", "train_loss", "valid_loss"]
    rows = [line.split() for line in lines[2:2 + len(net.history_)]]
    assert [int(row[0]) for row in rows] == list(net.history_[:, "epoch"])


# -- LRScheduler --------------------------------------------------------------


@pytest.mark.parametrize("cls", EVERY_ESTIMATOR, ids=name_of)
def test_lr_scheduler_with_a_torch_schedule(cls, jarvis):
    X, y = targets(cls, jarvis)
    halving = LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    net = small(cls, max_epochs=3, lr_schedule=None, callbacks=[halving]).fit(X, y)
    lr = net.get_params()["lr"]
    np.testing.assert_allclose(net.history_[:, "event_lr"], [lr, lr / 2, lr / 4])
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(lr / 8)


def test_lr_scheduler_starts_from_the_automatic_rate(jarvis):
    X, y, _ = jarvis
    halving = LRScheduler(torch.optim.lr_scheduler.StepLR, step_size=1, gamma=0.5)
    net = small(BRNetRegressor, max_epochs=2, lr="auto", lr_schedule=None,
                callbacks=[halving]).fit(X, y)
    lr = net.effective_params_["lr"]
    np.testing.assert_allclose(net.history_[:, "event_lr"], [lr, lr / 2])


# -- Checkpoint, LoadInitState, TrainEndCheckpoint ----------------------------


class WeightsAtStart(Callback):
    """The network's weights when training starts (after LoadInitState, listed before)."""

    def on_train_begin(self, net, **kwargs):
        self.weights_ = {k: v.clone() for k, v in net.module_.state_dict().items()}


@pytest.mark.parametrize("cls", EVERY_ESTIMATOR, ids=name_of)
def test_checkpoint_and_load_init_state_resume_training(cls, jarvis, tmp_path):
    X, y = targets(cls, jarvis)
    settings = dict(max_epochs=2, validation_fraction=0.2)
    first = small(cls, callbacks=[Checkpoint(dirname=str(tmp_path))], **settings).fit(X, y)
    # Written at each new best validation loss: the weights and history of that epoch.
    saved = torch.load(tmp_path / "params.pt", weights_only=True)
    epochs = len(History.from_file(str(tmp_path / "history.json")))
    assert epochs == first.best_epoch_

    checkpoint, start = Checkpoint(dirname=str(tmp_path)), WeightsAtStart()
    resumed = small(cls, callbacks=[checkpoint, LoadInitState(checkpoint), start], **settings)
    resumed.fit(X, y)
    assert saved.keys() == start.weights_.keys()
    assert all(torch.equal(saved[k], start.weights_[k]) for k in saved)
    assert list(resumed.history_[:, "epoch"]) == list(range(1, epochs + 3))
    np.testing.assert_array_equal(resumed.history_[:epochs, "train_loss"],
                                  first.history_[:epochs, "train_loss"])
    assert resumed.n_epochs_ == epochs + 2 and resumed.stop_reason_ == "max_epochs"
    assert np.isfinite(resumed.predict_proba(X) if cls in CLASSIFIERS
                       else resumed.predict(X)).all()


@pytest.mark.parametrize("cls", EVERY_ESTIMATOR, ids=name_of)
def test_train_end_checkpoint_holds_the_fitted_model(cls, jarvis, tmp_path):
    X, y = targets(cls, jarvis)
    end = TrainEndCheckpoint(dirname=str(tmp_path))
    fitted = small(cls, max_epochs=3, validation_fraction=0.2, callbacks=[end]).fit(X, y)
    # Written after early stopping restored the best epoch: the fitted model itself.
    other = small(cls, max_epochs=1, random_state=5).fit(X, y)
    other.load_params(checkpoint=end.checkpoint_)  # skorch's way to read one
    np.testing.assert_array_equal(other.predict(X), fitted.predict(X))
    assert other.history_.to_list() == fitted.history_.to_list()

    # ... and LoadInitState continues from it.
    again = TrainEndCheckpoint(dirname=str(tmp_path))
    start = WeightsAtStart()
    resumed = small(cls, max_epochs=1, validation_fraction=0.2,
                    callbacks=[again, LoadInitState(again), start]).fit(X, y)
    weights = fitted.module_.state_dict()
    assert all(torch.equal(weights[k], start.weights_[k]) for k in weights)
    assert list(resumed.history_[:, "epoch"]) == [1, 2, 3, 4]
