"""Training behaviour: the fast data path, faults during fit, checkpoints, precision.

Every test trains small networks on real JARVIS formation-energy rows.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from small_estimators import ESTIMATORS, small

from skmatnet import (
    BRNetRegressor,
    ElementFractionTransformer,
    load_dataset,
)
from skmatnet.estimators import CheckpointError, TrainingDivergedError
from skmatnet.exceptions import DivergenceRestoredWarning, FitInterruptedWarning


@pytest.fixture(scope="module")
def jarvis_rows():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(1).choice(len(y), size=700, replace=False)
    X = ElementFractionTransformer().fit_transform(formulas[rows])
    return X.astype(np.float32), y[rows]


# -- the fast data path ------------------------------------------------------


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_fast_path_matches_skorch_standard_path(cls, jarvis_rows):
    X, y = jarvis_rows
    # 700 rows, 10% validation: 630 training rows, not a multiple of 16, so the
    # last batch is partial; dropout and shuffling draw from the same seed.
    settings = dict(max_epochs=4, batch_size=16, validation_fraction=0.1, patience=None)
    fast = small(cls, fast_path=True, **settings).fit(X, y)
    standard = small(cls, fast_path=False, **settings).fit(X, y)
    for name in ("train_loss", "valid_loss"):
        np.testing.assert_allclose(fast.history_[:, name], standard.history_[:, name],
                                   rtol=1e-5)
    np.testing.assert_allclose(fast.predict(X), standard.predict(X), rtol=1e-5, atol=1e-6)
    # One loss entry per epoch on the fast path, one per batch on skorch's.
    def logged(net):
        return sum("train_loss" in batch for batch in net.history_[-1]["batches"])

    assert logged(fast) == 1
    assert logged(standard) == fast.history_[-1]["train_batch_count"] == 40


def test_last_partial_batch_is_trained_on(jarvis_rows):
    X, y = jarvis_rows
    seen = []

    class Rows(Callback):
        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            if training:
                seen.append(len(batch[0]))

    small(BRNetRegressor, max_epochs=1, batch_size=64, validation_fraction=None,
          callbacks=[Rows()]).fit(X, y)
    assert sum(seen) == len(X)
    assert seen[-1] == len(X) % 64


def test_predict_is_batched_without_autograd_and_leaves_rng_alone(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=1).fit(X, y)
    state = torch.get_rng_state()
    full = net.predict(X)
    assert torch.equal(state, torch.get_rng_state())
    net.set_params(iterator_valid__batch_size=7)
    np.testing.assert_allclose(net.predict(X), full, rtol=1e-5, atol=1e-6)
    assert full.dtype == np.float64 and full.shape == (len(X),)


def test_two_seeded_cpu_fits_are_identical_for_every_network(jarvis_rows):
    X, y = jarvis_rows
    for cls in ESTIMATORS:
        first = small(cls, max_epochs=2).fit(X, y).predict(X)
        second = small(cls, max_epochs=2).fit(X, y).predict(X)
        np.testing.assert_array_equal(first, second, err_msg=cls.__name__)


# -- faults during training --------------------------------------------------


class PoisonWeights(Callback):
    """Sets one weight to NaN at the start of ``epoch``, as an exploding update would."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            with torch.no_grad():
                next(net.module_.parameters()).view(-1)[0] = float("nan")


@pytest.mark.parametrize("validation_fraction", [0.1, None])
def test_nan_loss_raises_and_leaves_the_last_good_weights(jarvis_rows, validation_fraction):
    X, y = jarvis_rows
    settings = dict(max_epochs=6, validation_fraction=validation_fraction, patience=None)
    net = small(BRNetRegressor, callbacks=[PoisonWeights(3)], **settings)
    with pytest.raises(TrainingDivergedError, match=r"train_loss became nan in epoch 3"):
        net.fit(X, y)
    assert net.stop_reason_ == "diverged"
    predictions = net.predict(X)
    assert np.isfinite(predictions).all()
    if validation_fraction is None:
        # The last good epoch is the second one: the model equals a 2-epoch fit.
        reference = small(BRNetRegressor, **{**settings, "max_epochs": 2}).fit(X, y)
        np.testing.assert_array_equal(predictions, reference.predict(X))


class InflateWeights(Callback):
    """Multiplies the output layer by 1e6 at the start of ``epoch``: a finite explosion."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            with torch.no_grad():
                net.module_.output.weight.mul_(1e6)


def test_a_finite_exploding_loss_is_divergence_too(jarvis_rows):
    X, y = jarvis_rows
    settings = dict(max_epochs=6, validation_fraction=None, patience=None)
    net = small(BRNetRegressor, callbacks=[InflateWeights(3)], **settings)
    with pytest.raises(TrainingDivergedError,
                       match=r"train_loss became \S+ in epoch 3 \(\S+ times the \S+ it started "
                             r"from: it exploded\); training stopped and the weights of epoch 2"):
        net.fit(X, y)
    assert np.isfinite(net.history_[-1, "train_loss"])  # finite, yet caught
    reference = small(BRNetRegressor, **{**settings, "max_epochs": 2}).fit(X, y)
    np.testing.assert_array_equal(net.predict(X), reference.predict(X))
    # An ordinary fit, whose loss only falls, is left alone.
    assert small(BRNetRegressor, **settings).fit(X, y).stop_reason_ == "max_epochs"
    # Continuing a fit, the reference is the earlier fit's loss: an explosion in the
    # first epoch of the continuation is caught too.
    net = small(BRNetRegressor, callbacks=[InflateWeights(7)], **settings).fit(X, y)
    net.set_params(warm_start=True)
    with pytest.raises(TrainingDivergedError, match=r"in epoch 7 .* it exploded"):
        net.fit(X, y)


def test_nan_loss_with_restore_warns_and_returns_a_usable_model(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=6, callbacks=[PoisonWeights(3)],
                on_divergence="restore")
    with pytest.warns(DivergenceRestoredWarning,
                      match="became nan in epoch 3; training stopped and the weights of epoch"):
        net.fit(X, y)
    assert net.stop_reason_ == "diverged"
    assert np.isfinite(net.predict(X)).all()


def test_divergence_in_the_first_epoch_raises_even_with_restore(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=3, callbacks=[PoisonWeights(1)],
                on_divergence="restore", validation_fraction=None)
    with pytest.raises(TrainingDivergedError, match="no epoch finished before it"):
        net.fit(X, y)


class CtrlC(Callback):
    """Raises KeyboardInterrupt in the middle of ``epoch``, like a user pressing Ctrl-C."""

    def __init__(self, epoch, batch=3):
        self.epoch, self.batch = epoch, batch
        self.count = 0

    def on_batch_end(self, net, training=False, **kwargs):
        if training and len(net.history) == self.epoch:
            self.count += 1
            if self.count == self.batch:
                raise KeyboardInterrupt


def test_ctrl_c_keeps_the_best_weights_and_a_usable_model(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=10, patience=None, callbacks=[CtrlC(4)])
    with pytest.warns(FitInterruptedWarning, match=r"interrupted \(KeyboardInterrupt\) after 3 "
                                         r"complete epoch\(s\); the weights of epoch"):
        with pytest.raises(KeyboardInterrupt):
            net.fit(X, y)
    assert net.stop_reason_ == "interrupted"
    assert net.n_epochs_ == 3  # the unfinished fourth epoch is not in the history
    best = int(np.argmin(net.history_[:, "valid_loss"])) + 1
    assert net.kept_epoch_ == best
    # The kept weights are exactly those of the best epoch of an uninterrupted run.
    reference = small(BRNetRegressor, max_epochs=best, patience=None).fit(X, y)
    np.testing.assert_array_equal(net.predict(X), reference.predict(X))


def test_ctrl_c_without_validation_keeps_the_last_complete_epoch(jarvis_rows):
    X, y = jarvis_rows
    settings = dict(validation_fraction=None, patience=None)
    net = small(BRNetRegressor, max_epochs=10, callbacks=[CtrlC(3)], **settings)
    with pytest.warns(FitInterruptedWarning, match="weights of epoch 2 were kept"):
        with pytest.raises(KeyboardInterrupt):
            net.fit(X, y)
    reference = small(BRNetRegressor, max_epochs=2, **settings).fit(X, y)
    np.testing.assert_array_equal(net.predict(X), reference.predict(X))


def test_max_time_stops_after_the_epoch_that_exceeds_it(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=50, max_time=1e-6).fit(X, y)
    assert net.stop_reason_ == "max_time" and net.n_epochs_ == 1
    assert small(BRNetRegressor, max_epochs=2).fit(X, y).stop_reason_ == "max_epochs"


def test_early_stopping_reports_its_reason(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=200, patience=2, lr=0.5).fit(X, y)
    assert net.stop_reason_ == "early_stopping"
    assert net.n_epochs_ < 200


@pytest.mark.parametrize("epochs, averaged", [(6, 0), (8, 4)])
def test_the_average_is_kept_only_where_validation_finds_it_no_worse(jarvis_rows, epochs,
                                                                       averaged):
    # a constant rate of 3e-3: after 6 epochs the average of epochs 4-6 validates worse
    # than the best epoch (5), after 8 the average of epochs 5-8 better
    X, y = jarvis_rows
    settings = dict(max_epochs=epochs, lr=3e-3, lr_schedule="constant", random_state=0)
    fits = [small(BRNetRegressor, average_weights=share, **settings).fit(
        X[:500], y[:500], X_val=X[500:], y_val=y[500:]) for share in (0.5, None)]
    kept, best = fits
    assert kept.history_[-1, "averaged_epochs"] == averaged
    val_mae = [float(np.mean(np.abs(fit.predict(X[500:]) - y[500:]))) for fit in fits]
    assert val_mae[1] == pytest.approx(min(best.history_[:, "valid_loss"]), rel=1e-5)
    if averaged:
        assert val_mae[0] < val_mae[1]
        # the average's validation loss is recorded, in the target's units
        assert kept.history_[-1, "averaged_valid_loss"] == pytest.approx(val_mae[0], rel=1e-5)
    else:  # the same training, and the best epoch's weights
        np.testing.assert_array_equal(kept.predict(X), best.predict(X))
        assert kept.history_[-1, "averaged_valid_loss"] > val_mae[1]
    # `skmatnet train` reports the validation loss of the weights kept, either way
    from skmatnet.cli.train import _validation_loss

    assert _validation_loss(kept) == pytest.approx(val_mae[0], rel=1e-5)


# -- checkpoints -------------------------------------------------------------


class Crash(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise RuntimeError("simulated crash")


@pytest.mark.parametrize("settings", [
    {"lr_schedule": None, "patience": 3},
    {"lr_schedule": "plateau", "patience": 3},
    # no validation, so the average is kept: the checkpoint of epoch 4 holds it as begun
    {"lr_schedule": "cosine", "average_weights": 0.5, "validation_fraction": None},
], ids=["constant", "plateau", "averaged"])
def test_resume_from_checkpoint_equals_an_uninterrupted_fit(jarvis_rows, tmp_path, settings):
    X, y = jarvis_rows
    settings = dict(max_epochs=7, checkpoint_every=2, **settings)
    whole = small(BRNetRegressor, checkpoint_dir=tmp_path / "a", **settings).fit(X, y)

    crashed = small(BRNetRegressor, checkpoint_dir=tmp_path / "b", callbacks=[Crash(5)],
                    **settings)
    with pytest.raises(RuntimeError, match="simulated crash"):
        crashed.fit(X, y)
    validated = "validation_fraction" not in settings
    assert (tmp_path / "b" / "last.pt").exists()
    assert (tmp_path / "b" / "best.pt").exists() == validated

    resumed = small(BRNetRegressor, checkpoint_dir=tmp_path / "b", **settings)
    resumed.fit(X, y, resume=True)
    np.testing.assert_array_equal(resumed.predict(X), whole.predict(X))
    loss = "valid_loss" if validated else "train_loss"
    np.testing.assert_array_equal(resumed.history_[:, loss], whole.history_[:, loss])
    assert resumed.n_epochs_ == whole.n_epochs_
    assert resumed.stop_reason_ == whole.stop_reason_
    if "average_weights" in settings:
        assert resumed.history_[-1, "averaged_epochs"] == 4  # epochs 4-7, as uninterrupted


def test_best_checkpoint_holds_the_best_weights(jarvis_rows, tmp_path):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=5, patience=None, checkpoint_dir=tmp_path).fit(X, y)
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    for name, tensor in net.module_.state_dict().items():
        assert torch.equal(best[name], tensor), name


def test_resume_refuses_other_parameters_other_data_and_damaged_files(jarvis_rows, tmp_path):
    X, y = jarvis_rows
    small(BRNetRegressor, max_epochs=2, checkpoint_every=1, checkpoint_dir=tmp_path).fit(X, y)
    with pytest.raises(CheckpointError, match=r"different fit \(params"):
        small(BRNetRegressor, lr=0.1, checkpoint_dir=tmp_path).fit(X, y, resume=True)
    with pytest.raises(CheckpointError, match=r"different fit \(data"):
        small(BRNetRegressor, checkpoint_dir=tmp_path).fit(X[:-1], y[:-1], resume=True)
    path = Path(tmp_path) / "last.pt"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="cannot be read"):
        small(BRNetRegressor, checkpoint_dir=tmp_path).fit(X, y, resume=True)
    with pytest.raises(CheckpointError, match="does not exist"):
        small(BRNetRegressor, checkpoint_dir=tmp_path / "none").fit(X, y, resume=True)
    with pytest.raises(ValueError, match="needs checkpoint_dir"):
        small(BRNetRegressor).fit(X, y, resume=True)


# -- speed options -----------------------------------------------------------


def test_precision_options_train_and_predict_on_cpu(jarvis_rows):
    X, y = jarvis_rows
    reference = small(BRNetRegressor, max_epochs=3).fit(X, y).predict(X)
    # TF32 only concerns CUDA matmuls: identical on the CPU.
    tf32 = small(BRNetRegressor, max_epochs=3, precision="tf32").fit(X, y).predict(X)
    np.testing.assert_array_equal(tf32, reference)
    assert not torch.backends.cuda.matmul.allow_tf32  # restored after fit/predict
    bf16 = small(BRNetRegressor, max_epochs=3, precision="bf16").fit(X, y).predict(X)
    assert np.isfinite(bf16).all() and not np.array_equal(bf16, reference)
    # bfloat16 keeps 8 bits of mantissa: a different model, but one that learned as much.
    mae = {name: np.abs(p - y).mean() for name, p in (("f32", reference), ("bf16", bf16))}
    assert mae["bf16"] < 1.25 * mae["f32"]
    assert mae["f32"] < 0.6 * np.abs(y - y.mean()).mean()


def test_adam_runs_fused_unless_a_kernel_is_chosen(jarvis_rows):
    X, y = jarvis_rows
    fused = small(BRNetRegressor, max_epochs=3).fit(X, y)
    assert fused.optimizer_.param_groups[0]["fused"] is True
    # torch's default kernel, asked for explicitly: the same algorithm, other rounding.
    plain = small(BRNetRegressor, max_epochs=3, optimizer__fused=False).fit(X, y)
    assert not plain.optimizer_.param_groups[0]["fused"]
    np.testing.assert_allclose(fused.predict(X), plain.predict(X), rtol=1e-4, atol=1e-5)
    assert not np.array_equal(fused.predict(X), plain.predict(X))
    # A chosen kernel (foreach) and an optimizer without a fused Adam step are left alone.
    foreach = small(BRNetRegressor, max_epochs=1, optimizer__foreach=True).fit(X, y)
    assert foreach.optimizer_.param_groups[0]["foreach"] is True
    assert not foreach.optimizer_.param_groups[0]["fused"]
    sgd = small(BRNetRegressor, max_epochs=1, optimizer=torch.optim.SGD).fit(X, y)
    assert not sgd.optimizer_.param_groups[0].get("fused")


@pytest.mark.parametrize("name, value", [
    ("precision", "float16"), ("on_divergence", "ignore"), ("max_time", -1),
    ("checkpoint_every", 0),
])
def test_bad_training_options_are_named(jarvis_rows, name, value):
    X, y = jarvis_rows
    with pytest.raises(ValueError, match=name):
        small(BRNetRegressor, **{name: value}).fit(X, y)


def test_warm_start_and_partial_fit_still_continue(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net.partial_fit(X, y).partial_fit(X, y)
    assert len(net.history_) == 4 and net.stop_reason_ == "max_epochs"


def test_partial_fit_continues_the_random_sequence(jarvis_rows):
    X, y = jarvis_rows
    orders = []

    class FirstBatch(Callback):
        def on_batch_end(self, net, batch=None, training=None, **kwargs):
            if training and len(orders) < len(net.history):
                orders.append(batch[1][:8].clone())

    net = small(BRNetRegressor, max_epochs=1, callbacks=[FirstBatch()])
    net.partial_fit(X, y).partial_fit(X, y).partial_fit(X, y)
    assert len(orders) == 3
    assert not torch.equal(orders[1], orders[2])  # not the same shuffle replayed
    # ...and still reproducible: the same calls on a fresh estimator give the same model.
    again = small(BRNetRegressor, max_epochs=1)
    again.partial_fit(X, y).partial_fit(X, y).partial_fit(X, y)
    np.testing.assert_array_equal(again.predict(X), net.predict(X))


def test_split_parts_share_one_copy_of_the_data(jarvis_rows):
    X, y = jarvis_rows
    net = small(BRNetRegressor, max_epochs=1).fit(X, y)
    train, valid = net.get_split_datasets(X, y.astype(np.float32).reshape(-1, 1))
    net._fitting_ = True
    train_batches = net.get_iterator(train, training=True)
    valid_batches = net.get_iterator(valid, training=False)
    assert train_batches.X is valid_batches.X
    assert train_batches.X.data_ptr() == train.dataset.X.ctypes.data  # no copy on the CPU
    rows = torch.cat([train_batches.rows, valid_batches.rows]).sort().values
    assert torch.equal(rows, torch.arange(len(X)))
