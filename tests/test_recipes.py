"""Training recipes: learning-rate schedules, the size parameter, the paper/recommended switch.

Schedules are checked against torch's own schedulers and inside real fits on
JARVIS rows; the paper recipe is checked batch by batch.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback
from small_estimators import ESTIMATORS, small

from skmatnet import (
    BRNetRegressor,
    ElementFractionTransformer,
    ElemNetRegressor,
    IRNetRegressor,
    load_dataset,
    nets,
)
from skmatnet._adaptive import recommended_settings
from skmatnet.callbacks import LRSchedule, schedule_factor
from skmatnet.exceptions import FitInterruptedWarning


@pytest.fixture(scope="module")
def jarvis_rows():
    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(2).choice(len(y), size=500, replace=False)
    X = ElementFractionTransformer().fit_transform(formulas[rows])
    return X.astype(np.float32), y[rows]


class BatchLog(Callback):
    """Records the optimizer's rate and the batch size of every training batch."""

    def initialize(self):
        self.rates, self.sizes = [], []
        return self

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.rates.append(net.optimizer_.param_groups[0]["lr"])
            self.sizes.append(len(batch[0]))


def _torch_rates(scheduler_cls, steps, **kwargs):
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    scheduler = scheduler_cls(optimizer, **kwargs)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return np.array(rates)


# -- the schedule shapes -------------------------------------------------------


def test_cosine_matches_torch_cosine_annealing():
    steps = 37
    ours = [schedule_factor("cosine", i / (steps - 1)) for i in range(steps)]
    theirs = _torch_rates(torch.optim.lr_scheduler.CosineAnnealingLR, steps, T_max=steps - 1)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    assert ours[0] == 1.0 and ours[-1] == 0.0
    assert ours[18] == pytest.approx(0.5)  # the middle step


def test_onecycle_matches_torch_onecycle():
    steps = 50
    theirs = _torch_rates(torch.optim.lr_scheduler.OneCycleLR, steps, max_lr=1.0,
                          total_steps=steps, pct_start=0.3, anneal_strategy="cos",
                          cycle_momentum=False)
    # torch places the peak at step pct_start * steps - 1; the same point in our progress
    warmup = (0.3 * steps - 1) / (steps - 1)
    ours = [schedule_factor("onecycle", i / (steps - 1), warmup) for i in range(steps)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert ours[0] == pytest.approx(1 / 25) and ours[-1] == pytest.approx(1 / 25 / 1e4)


def test_warmup_then_cosine():
    rates = [schedule_factor("cosine", p, warmup=0.2) for p in (0.0, 0.1, 0.2, 0.6, 1.0)]
    assert rates[0] == pytest.approx(0.01)  # warm-up starts at 1% of the rate
    assert rates[1] == pytest.approx(0.01 + 0.99 * 0.5)  # linear
    assert rates[2] == pytest.approx(1.0)  # peak at the end of the warm-up
    assert rates[3] == pytest.approx(0.5)  # half way through the decay
    assert rates[4] == 0.0
    assert schedule_factor("constant", 0.05, warmup=0.1) == pytest.approx(0.505)
    assert schedule_factor("constant", 0.7, warmup=0.1) == 1.0
    with pytest.raises(ValueError, match="shape must be one of"):
        schedule_factor("linear", 0.5)


def test_time_based_progress_reaches_the_floor_when_the_budget_ends():
    schedule = LRSchedule("cosine", max_time=10.0).initialize()
    schedule.epoch_, schedule.batch_, schedule.batches_ = 0, 0, 1
    for used, expected in ((0.0, 0.0), (0.25, 0.25), (0.5, 0.5), (1.0, 1.0), (1.7, 1.0)):
        schedule.started_ = time.perf_counter() - used * 10.0
        assert schedule.progress() == pytest.approx(expected, abs=1e-3)
    assert schedule_factor("cosine", schedule.progress()) == 0.0


def test_a_schedule_needs_a_horizon():
    with pytest.raises(ValueError, match="needs max_epochs or max_time"):
        LRSchedule("cosine").initialize()


# -- schedules inside a fit ------------------------------------------------------


def test_cosine_fit_rates_at_first_middle_and_last_step(jarvis_rows):
    X, y = jarvis_rows
    log = BatchLog()
    # 450 training rows / batch 50 = 9 batches per epoch, 5 epochs: 45 steps.
    net = small(BRNetRegressor, lr=2e-3, batch_size=50, max_epochs=5, warmup=0.0,
                lr_schedule="cosine", callbacks=[log]).fit(X, y)
    rates = np.array(log.rates)
    assert len(rates) == 45 and set(log.sizes) == {50}
    assert rates[0] == pytest.approx(2e-3)
    assert rates[22] == pytest.approx(1e-3)
    assert rates[-1] == 0.0
    assert np.all(np.diff(rates) <= 0)
    assert net.history_[:, "lr"][-1] == 0.0


def test_onecycle_fit_warms_up_and_anneals(jarvis_rows):
    X, y = jarvis_rows
    log = BatchLog()
    small(BRNetRegressor, lr=1e-2, batch_size=50, max_epochs=4, lr_schedule="onecycle",
          warmup=0.25, callbacks=[log]).fit(X, y)
    rates = np.array(log.rates)
    peak = int(np.argmax(rates))
    assert rates[0] == pytest.approx(1e-2 / 25)
    assert rates[peak] == pytest.approx(1e-2, rel=1e-2) and 6 <= peak <= 10
    assert rates[-1] == pytest.approx(1e-2 / 25 / 1e4)


@pytest.fixture
def steady_clock(monkeypatch):
    """The wall clock of the time-based schedule and budget, advancing 10 ms per reading, so a
    time-budget fit takes the same steps on an idle machine and on a loaded one."""
    from types import SimpleNamespace

    from skmatnet.callbacks import guards, schedules

    readings = iter(np.arange(1e5) * 0.01)
    clock = SimpleNamespace(perf_counter=lambda: float(next(readings)))
    monkeypatch.setattr(schedules, "time", clock)
    monkeypatch.setattr(guards, "time", clock)


def test_time_budget_anneals_to_the_floor(jarvis_rows, steady_clock):
    X, y = jarvis_rows
    log = BatchLog()
    net = small(BRNetRegressor, max_epochs=None, max_time=3.0, lr=2e-3, batch_size=16,
                warmup=0.0, lr_schedule="cosine", callbacks=[log]).fit(X, y)
    rates = np.array(log.rates)
    assert net.stop_reason_ == "max_time"
    assert net.n_epochs_ > 3  # the epoch count came from the budget, not a fixed number
    # The first batch starts a few milliseconds into the budget: its rate is a hair below lr.
    assert rates[0] == pytest.approx(2e-3, rel=1e-3)
    assert np.all(np.diff(rates) <= 0)
    # the last epoch ends once the budget is spent: its rates reach (or nearly) zero
    assert rates[-1] <= 0.02 * 2e-3


def test_max_epochs_none_runs_the_schedule_length_of_the_rules():
    net = BRNetRegressor()
    net._resolve_settings(20_000, fixed_validation=True, continuing=False)
    assert net.max_epochs is None
    assert net._epochs_for_fit() == recommended_settings(20_000)["max_epochs"]
    net = BRNetRegressor(max_time=60)
    net._resolve_settings(20_000, fixed_validation=True, continuing=False)
    assert net._epochs_for_fit() > 10**6
    net = BRNetRegressor(max_epochs=7, max_time=60)
    net._resolve_settings(20_000, fixed_validation=True, continuing=False)
    assert net._epochs_for_fit() == 7


def test_a_warm_started_fit_runs_a_new_schedule_from_the_new_rate(jarvis_rows):
    X, y = jarvis_rows
    log = BatchLog()
    net = small(BRNetRegressor, lr=2e-3, batch_size=50, max_epochs=2, warmup=0.0,
                lr_schedule="cosine", callbacks=[log]).fit(X, y)
    net.set_params(warm_start=True, lr=3e-4)
    log.rates.clear()
    net.fit(X, y)
    assert log.rates[0] == pytest.approx(3e-4) and log.rates[-1] == 0.0


def test_resumed_cosine_fit_equals_an_uninterrupted_one(jarvis_rows, tmp_path):
    X, y = jarvis_rows
    settings = dict(lr=2e-3, batch_size=50, max_epochs=6, checkpoint_dir=tmp_path,
                    checkpoint_every=3, lr_schedule="cosine", warmup=0.2)
    reference = small(BRNetRegressor, **{**settings, "checkpoint_dir": tmp_path / "ref"})
    reference.fit(X, y)

    class StopAfter(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 4:
                raise KeyboardInterrupt

    crashed = small(BRNetRegressor, **settings, callbacks=[StopAfter()])
    with pytest.raises(KeyboardInterrupt), pytest.warns(FitInterruptedWarning, match="interrupted"):
        crashed.fit(X, y)
    resumed = small(BRNetRegressor, **settings).fit(X, y, resume=True)
    np.testing.assert_array_equal(resumed.history_[:, "lr"], reference.history_[:, "lr"])
    np.testing.assert_allclose(resumed.predict(X), reference.predict(X), rtol=1e-6)


# -- the size parameter -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(nets.NETWORKS))
def test_width_one_is_the_published_shape(name):
    cls = nets.NETWORKS[name]
    assert nets.count_parameters(cls(width_multiplier=1.0)) == nets.count_parameters(cls())
    half = nets.count_parameters(cls(width_multiplier=0.5))
    assert 0.2 < half / nets.count_parameters(cls()) < 0.3  # dense layers: about a quarter


def test_width_scales_every_stage():
    brnet = nets.BRNet(width_multiplier=0.5)
    assert brnet.stage_widths == (512, 256, 128, 64, 32, 16)
    assert nets.count_parameters(brnet) == 1_227_665
    elemnet = nets.ElemNet(width_multiplier=0.25)
    assert elemnet.widths[0] == 256 and elemnet.widths[-1] == 8
    assert len(elemnet.dropout) == len(nets.ElemNet().dropout)
    with pytest.raises(ValueError, match="width_multiplier"):
        nets.BRNet(width_multiplier=0)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_estimator_width_reaches_the_network(cls, jarvis_rows):
    X, y = jarvis_rows
    net = small(cls, max_epochs=1, width=0.5).fit(X[:64], y[:64])
    expected = type(net.module_)(**{**net.get_params_for("module"), "n_features": 86,
                                    "width_multiplier": 0.5})
    assert nets.count_parameters(net.module_) == nets.count_parameters(expected)
    assert nets.count_parameters(net.module_) < nets.count_parameters(
        small(cls, max_epochs=1, width=1.0).fit(X[:64], y[:64]).module_)
    with pytest.raises(ValueError, match=r"'width' parameter of .* must be a float in the range"):
        small(cls, width=-1.0).fit(X[:64], y[:64])


# -- the recipe switch -----------------------------------------------------------------


def test_defaults_are_the_recommended_recipe():
    params = BRNetRegressor().get_params(deep=False)
    assert params["optimizer"] is torch.optim.AdamW
    assert (params["lr"], params["batch_size"], params["lr_schedule"], params["width"],
            params["max_epochs"], params["standardize_target"]) == (
        "auto", "auto", "cosine", "auto", None, True)
    # clone and GridSearchCV see the same defaults
    assert clone(BRNetRegressor()).get_params(deep=False) == params
    assert BRNetRegressor.from_recipe().get_params(deep=False) == params


@pytest.mark.parametrize(("cls", "patience"), [(BRNetRegressor, 100), (ElemNetRegressor, 200),
                                               (IRNetRegressor, 200)])
def test_paper_recipe_settings(cls, patience):
    net = cls.from_recipe("paper")
    assert net.optimizer is torch.optim.Adam
    assert (net.lr, net.batch_size, net.max_epochs, net.patience, net.lr_schedule,
            net.width, net.standardize_target) == (1e-4, 32, 3000, patience, None, 1.0, False)
    # no weight decay (ElemNet's recommended decay is undone), Adam's own defaults
    assert net.get_params_for("optimizer") in ({}, {"weight_decay": 0.0})
    # explicit parameters win over the recipe
    assert cls.from_recipe("paper", lr=1e-3, max_time=60).lr == 1e-3
    with pytest.raises(ValueError, match="recipe must be one of"):
        cls.from_recipe("fast")


def test_paper_recipe_trains_exactly_as_the_papers(jarvis_rows):
    X, y = jarvis_rows
    log = BatchLog()
    net = BRNetRegressor.from_recipe("paper", max_epochs=2, random_state=0, device="cpu",
                                     callbacks=[log]).fit(X, y)
    assert nets.count_parameters(net.module_) == 4_548_385  # the published BRNet
    assert type(net.optimizer_) is torch.optim.Adam
    assert net.optimizer_.param_groups[0]["weight_decay"] == 0
    assert set(log.rates) == {1e-4}  # constant rate, every batch
    # 450 training rows in batches of 32: 14 full batches and a last one of 2, per epoch
    assert log.sizes == ([32] * 14 + [2]) * 2
    assert "lr_scheduler" not in dict(net.callbacks_)
    early = dict(net.callbacks_)["early_stopping"]
    assert early.patience == 100 and early.load_best


def test_grid_search_keeps_the_recipe(jarvis_rows):
    X, y = jarvis_rows
    base = BRNetRegressor.from_recipe("paper", **{**BRNetRegressor._get_test_params(),
                                                  "max_epochs": 2, "batch_size": 32})
    search = GridSearchCV(base, {"lr": [1e-4, 1e-3]}, cv=2, scoring="neg_mean_absolute_error")
    search.fit(X[:200], y[:200])
    best = search.best_estimator_
    assert best.optimizer is torch.optim.Adam and best.lr_schedule is None
    assert best.batch_size == 32 and math.isclose(best.lr, search.best_params_["lr"])


def _bn_momenta(module):
    return {m.momentum for m in module.modules() if isinstance(m, torch.nn.BatchNorm1d)}


def test_batch_norm_momentum_follows_the_recipe(jarvis_rows):
    X, y = jarvis_rows[0][:64], jarvis_rows[1][:64]
    quick = dict(max_epochs=1, device="cpu", **{f"module__{k}": v for k, v in
                                                IRNetRegressor._test_module_params.items()})
    assert _bn_momenta(IRNetRegressor(**quick).fit(X, y).module_) == {0.1}
    assert _bn_momenta(IRNetRegressor.from_recipe("paper", **quick).fit(X, y).module_) == {0.01}
    explicit = IRNetRegressor(**quick, module__bn_momentum=0.3).fit(X, y)
    assert _bn_momenta(explicit.module_) == {0.3}
    # networks without batch norm take no momentum and need none
    elemnet = ElemNetRegressor(max_epochs=1, device="cpu", module__widths=(16, 8),
                               module__dropout=0.1).fit(X, y)
    assert _bn_momenta(elemnet.module_) == set()


def test_weight_averaging_keeps_the_mean_of_the_last_epochs(jarvis_rows):
    from skmatnet.callbacks import WeightAveraging

    X, y = jarvis_rows
    snapshots = []

    class Snapshot(Callback):
        def on_epoch_end(self, net, **kwargs):
            snapshots.append({k: v.detach().clone() for k, v in net.module_.state_dict().items()})

    # BRNet has no batch norm, so the averaged weights are kept as they are
    net = small(BRNetRegressor, max_epochs=4, validation_fraction=None,
                callbacks=[Snapshot(), WeightAveraging(start=0.5, max_epochs=4)]).fit(X, y)
    for name, value in net.module_.state_dict().items():
        expected = (snapshots[2][name] + snapshots[3][name]) / 2
        torch.testing.assert_close(value, expected)
