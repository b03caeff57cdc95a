"""Weight averaging over the last part of a fit (``torch.optim.swa_utils``)."""

from __future__ import annotations

import time

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.dataset import get_len
from torch.optim.swa_utils import AveragedModel, update_bn

__all__ = ["WeightAveraging"]


class WeightAveraging(Callback):
    """Average the weights of the epochs after ``start`` of the schedule.

    At the end of training the network takes the averaged weights, and its
    batch-norm statistics are recomputed on the training rows, as
    ``torch.optim.swa_utils`` prescribes. Where a validation set is monitored
    the average is kept only if its validation loss is at most that of the best
    epoch (which early stopping has restored); else the best epoch stays. The
    number of epochs in the kept average (0: the best epoch was kept) is
    recorded in the history's last row as ``averaged_epochs``, and the average's
    validation loss as ``averaged_valid_loss``. A fit that
    diverged or was interrupted keeps the weights the guards put back.

    Parameters
    ----------
    start : float, default=0.75
        Share of the schedule after which each epoch's weights join the average.
    max_epochs : int or None, default=None
        Epochs of the schedule. Where ``max_time`` is given too, the schedule's
        progress is the larger of the two shares, as in
        :class:`~skmatnet.callbacks.LRSchedule`.
    max_time : float or None, default=None
        Seconds of the schedule.
    resumed : bool, default=False
        The fit continues from a checkpoint: the epochs in the history count as
        done (the checkpoint restores the average so far).
    """

    def __init__(self, start=0.75, max_epochs=None, max_time=None, resumed=False):
        self.start = start
        self.max_epochs = max_epochs
        self.max_time = max_time
        self.resumed = resumed

    def initialize(self):
        if self.max_epochs is None and self.max_time is None:
            raise ValueError("WeightAveraging needs max_epochs or max_time")
        self.averaged_ = None
        self._forget_data()
        return self

    def _forget_data(self):
        self.dataset_train_, self.dataset_valid_ = None, None  # not into pickles

    def on_train_begin(self, net, **kwargs):
        self.averaged_ = None
        self.started_ = time.perf_counter()
        self.first_row_ = 0 if self.resumed else len(net.history)

    def progress(self, net) -> float:
        """Share of the schedule done after the epoch that just ended.

        Parameters
        ----------
        net : skorch.NeuralNet
            The net being trained.

        Returns
        -------
        float
        """
        done = 0.0
        if self.max_epochs is not None:
            done = (len(net.history) - self.first_row_) / self.max_epochs
        if self.max_time is not None:
            done = max(done, (time.perf_counter() - self.started_) / self.max_time)
        return done

    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        self.dataset_train_, self.dataset_valid_ = dataset_train, dataset_valid
        if self.progress(net) <= self.start:
            return
        if self.averaged_ is None:
            self.averaged_ = AveragedModel(net.module_)
        self.averaged_.update_parameters(net.module_)  # the first call copies

    def on_train_end(self, net, **kwargs):
        averaged = self.averaged_
        self.averaged_ = None
        reason = net.history[-1].get("stop_reason") if len(net.history) else None
        if averaged is None or reason in ("interrupted", "diverged"):
            self._forget_data()
            return
        kept = {name: value.clone() for name, value in net.module_.state_dict().items()}
        net.module_.load_state_dict(averaged.module.state_dict())
        batches = ((X,) for X, _ in net.get_iterator(self.dataset_train_, training=False))
        with torch.no_grad():
            update_bn(batches, net.module_, device=net.device)
        net.module_.eval()
        count = int(averaged.n_averaged)
        if self.dataset_valid_ is not None and "valid_loss" in net.history[-1]:
            best = min(net.history[self.first_row_:, "valid_loss"])
            loss = self._validation_loss(net)
            net.history.record("averaged_valid_loss", loss)
            if loss > best:
                net.module_.load_state_dict(kept)
                count = 0
        net.history.record("averaged_epochs", count)
        self._forget_data()

    def _validation_loss(self, net) -> float:
        """The validation loss of the current weights, as skorch averages it per epoch."""
        losses, sizes = [], []
        for batch in net.get_iterator(self.dataset_valid_, training=False):
            step = net.validation_step(batch)
            losses.append(float(step["loss"]))
            sizes.append(get_len(batch[0]))
        return float(np.average(losses, weights=sizes))
