"""Stochastic weight averaging over the last part of a fit (``torch.optim.swa_utils``)."""

from __future__ import annotations

import torch
from skorch.callbacks import Callback
from torch.optim.swa_utils import AveragedModel, update_bn

__all__ = ["WeightAveraging"]


class WeightAveraging(Callback):
    """Average the weights of the epochs after ``start`` (a fraction of ``max_epochs``).

    At the end of training the network takes the averaged weights and its
    batch-norm statistics are recomputed on the training rows, as
    ``torch.optim.swa_utils`` prescribes.

    Parameters
    ----------
    start : float, default=0.75
        Fraction of ``max_epochs`` after which the epochs' weights are averaged.
    max_epochs : int or None, default=None
        Length of the fit in epochs; must be set (by the estimator) before training.
    """

    def __init__(self, start=0.75, max_epochs=None):
        self.start = start
        self.max_epochs = max_epochs

    def initialize(self):
        self.averaged_ = None
        self.dataset_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.averaged_ = None

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if len(net.history) <= self.start * self.max_epochs:
            return
        self.dataset_ = dataset_train
        if self.averaged_ is None:
            self.averaged_ = AveragedModel(net.module_)
        self.averaged_.update_parameters(net.module_)  # the first call copies

    def on_train_end(self, net, **kwargs):
        if self.averaged_ is None:
            return
        net.module_.load_state_dict(self.averaged_.module.state_dict())
        batches = ((X,) for X, _ in net.get_iterator(self.dataset_, training=False))
        with torch.no_grad():
            update_bn(batches, net.module_, device=net.device)
        net.module_.eval()
        self.averaged_, self.dataset_ = None, None  # not into pickles
