"""Callbacks that end a fit early, and the one that keeps good weights when they do.

A callback that stops training records why in the epoch's history row
(``history[-1, "stop_reason"]``) and raises ``KeyboardInterrupt``, skorch's way
of ending ``fit_loop``; the estimator reads the reason back from the history.
"""

from __future__ import annotations

import copy
import time

import numpy as np
from skorch.callbacks import Callback, EarlyStopping

__all__ = [
    "DivergenceGuard",
    "KeepGoodWeights",
    "StoppingEarly",
    "TimeBudget",
    "find_callback",
    "stop_training",
]


def stop_training(net, reason: str) -> None:
    """Record ``reason`` in the current epoch's history row and end the fit loop.

    Parameters
    ----------
    net : skorch.NeuralNet
        The net being trained.
    reason : str
        Recorded as the epoch's ``stop_reason`` (e.g. ``"max_time"``).

    Raises
    ------
    KeyboardInterrupt
        Always: skorch's fit loop ends on it.
    """
    net.history.record("stop_reason", reason)
    raise KeyboardInterrupt


def find_callback(net, kind):
    """The first of the net's initialized callbacks that is a ``kind``, or None.

    Parameters
    ----------
    net : skorch.NeuralNet
        An initialized net (with ``callbacks_``).
    kind : type
        The callback class looked for (subclasses count).

    Returns
    -------
    skorch.callbacks.Callback or None
    """
    for _, callback in net.callbacks_:
        if isinstance(callback, kind):
            return callback
    return None


class StoppingEarly(EarlyStopping):
    """skorch's ``EarlyStopping`` that records its stop in the history."""

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            stop_training(net, "early_stopping")


class TimeBudget(Callback):
    """Stop at the end of the epoch in which ``max_time`` seconds of training have passed.

    Parameters
    ----------
    max_time : float or None, default=None
        The budget in seconds, counted from the start of training; ``None``: no limit.
    """

    def __init__(self, max_time=None):
        self.max_time = max_time

    def on_train_begin(self, net, **kwargs):
        self.started_ = time.perf_counter()

    def on_epoch_end(self, net, **kwargs):
        if self.max_time is not None and time.perf_counter() - self.started_ >= self.max_time:
            stop_training(net, "max_time")


def _finite(value) -> bool:
    return value is None or bool(np.isfinite(value))


class DivergenceGuard(Callback):
    """Stop when the training or validation loss becomes NaN or infinite, or explodes.

    A loss *explodes* when an epoch's training loss exceeds ``factor`` times
    the loss the fit started from: the first epoch's; when the fit continues
    an earlier one (``warm_start``, ``partial_fit``), the lowest training loss
    of the history before it; for a network that starts from pretrained
    weights, the training loss of those weights (``net.starting_loss(X, y)``
    where the net has it). A rate too high for the data can
    do this with a finite loss that would otherwise pass unnoticed. Measured
    on OQMD band gaps (BRNet, batch 256): at lr 4e-3 the loss went from 0.255
    (first epoch) to 90,637 in epoch 3 and was still far above its best six
    epochs later (caught); at lr 2e-3 one epoch spiked to 83 times the first
    epoch's loss and training recovered (not caught: early stopping keeps the
    best validation epoch anyway). Measuring against the start, not the best
    epoch, leaves alone the ordinary spikes of a loss that has become tiny.

    Parameters
    ----------
    factor : float, default=1000
        How many times the starting loss counts as an explosion.

    Attributes
    ----------
    diverged_ : tuple or None
        ``(loss name, epoch, value, detail)`` of the divergence, if any;
        ``detail`` says what the loss started from ("" for NaN/inf).
    """

    def __init__(self, factor=1000.0):
        self.factor = factor

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.diverged_ = None
        earlier = [row["train_loss"] for row in net.history if "train_loss" in row]
        earlier = [loss for loss in earlier if _finite(loss)]
        self.reference_ = min(earlier) if earlier else None
        if self.reference_ is None and X is not None and hasattr(net, "starting_loss"):
            # A fine-tuned network starts from a loss of its own: an explosion in the
            # first epoch then shows against it.
            start = net.starting_loss(X, y)
            if start is not None and _finite(start):
                self.reference_ = start

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for name in ("train_loss", "valid_loss"):
            if not _finite(row.get(name)):
                self.diverged_ = (name, row["epoch"], row[name], "")
                stop_training(net, "diverged")
        loss = row.get("train_loss")
        if loss is None:
            return
        if self.reference_ is None:
            self.reference_ = loss
        elif loss > self.factor * self.reference_:
            self.diverged_ = (
                "train_loss", row["epoch"], loss,
                f" ({loss / self.reference_:.3g} times the {self.reference_:.4g} it started "
                "from: it exploded)")
            stop_training(net, "diverged")


class KeepGoodWeights(Callback):
    """After a divergence or a Ctrl-C, put back the last good weights.

    Those are the best validation epoch's when early stopping keeps them, else
    the last complete epoch's (copied here after every epoch).

    Attributes
    ----------
    kept_epoch_ : int or None
        The epoch whose weights were put back, when they were.
    """

    def _stopper(self, net):
        stopper = find_callback(net, EarlyStopping)
        return stopper if stopper is not None and stopper.load_best else None

    def on_train_begin(self, net, **kwargs):
        self.good_weights_, self.good_epoch_, self.kept_epoch_ = None, None, None

    def on_epoch_end(self, net, **kwargs):
        # Runs after the stopping guards, so a broken epoch is never kept.
        if self._stopper(net) is None:
            self.good_weights_ = copy.deepcopy(net.module_.state_dict())
            self.good_epoch_ = net.history[-1, "epoch"]

    def on_train_end(self, net, **kwargs):
        weights, self.good_weights_ = self.good_weights_, None  # not into pickles
        reason = net.history[-1].get("stop_reason") if len(net.history) else None
        if reason not in ("interrupted", "diverged"):
            return
        stopper, epoch = self._stopper(net), self.good_epoch_
        if stopper is not None and getattr(stopper, "best_model_weights_", None) is not None:
            weights, epoch = stopper.best_model_weights_, stopper.best_epoch_
        if weights is not None:
            net.module_.load_state_dict(weights)
        self.kept_epoch_ = epoch
