"""Learning-rate schedules stepped every batch, over epochs or over a time budget.

The papers train at a constant rate for thousands of epochs. Annealing the rate
to zero over a fixed horizon reaches a lower error in a small fraction of that
time (``docs/performance.md``), and defining the horizon by wall-clock time lets
``fit`` return the best model a given number of seconds allows.
"""

from __future__ import annotations

import math
import time

from skorch.callbacks import Callback

__all__ = ["SCHEDULE_SHAPES", "LRSchedule", "schedule_factor"]

#: The schedule shapes :class:`LRSchedule` understands.
SCHEDULE_SHAPES = ("cosine", "onecycle", "constant")

# torch.optim.lr_scheduler.OneCycleLR's defaults: start at lr/25, end at lr/25/1e4.
_ONECYCLE_START = 1 / 25
_ONECYCLE_END = 1 / 25 / 1e4
# A linear warm-up starts from this fraction of the rate, not from zero, so the
# first batch already moves the weights.
_WARMUP_START = 0.01


def _cosine(start: float, end: float, q: float) -> float:
    """Cosine interpolation from ``start`` (q=0) to ``end`` (q=1)."""
    return end + (start - end) * 0.5 * (1.0 + math.cos(math.pi * q))


def schedule_factor(shape: str, progress: float, warmup: float = 0.0) -> float:
    """The multiple of the base rate at ``progress`` (0 = first step, 1 = end).

    ``"cosine"``: a linear warm-up over the first ``warmup`` fraction, then a
    cosine decay to zero. ``"onecycle"``: the shape of torch's ``OneCycleLR``
    (cosine rise from lr/25 over the first ``warmup`` fraction, then cosine
    decay to lr/25/1e4). ``"constant"``: a linear warm-up, then the base rate.

    Parameters
    ----------
    shape : {"cosine", "onecycle", "constant"}
        The schedule's shape (:data:`SCHEDULE_SHAPES`).
    progress : float
        Position in the schedule, clipped to [0, 1].
    warmup : float, default=0.0
        Fraction of the schedule spent warming up (``"onecycle"``: rising).

    Returns
    -------
    float
    """
    p = min(max(float(progress), 0.0), 1.0)
    if shape == "onecycle":
        if warmup > 0 and p < warmup:
            return _cosine(_ONECYCLE_START, 1.0, p / warmup)
        return _cosine(1.0, _ONECYCLE_END, (p - warmup) / (1.0 - warmup))
    if warmup > 0 and p < warmup:
        return _WARMUP_START + (1.0 - _WARMUP_START) * p / warmup
    if shape == "constant":
        return 1.0
    if shape == "cosine":
        return _cosine(1.0, 0.0, (p - warmup) / (1.0 - warmup))
    raise ValueError(f"shape must be one of {SCHEDULE_SHAPES}, got {shape!r}")


class LRSchedule(Callback):
    """Set the learning rate before every training batch from a schedule shape.

    The schedule runs once per ``fit`` (and once per ``partial_fit`` call),
    from ``lr`` (or the net's ``lr``) as base rate, over ``max_epochs`` epochs or
    ``max_time`` seconds, whichever ends first: its progress is the larger of
    the fraction of epochs done and the fraction of the time budget used. With
    only ``max_time`` the rate anneals by elapsed wall-clock time and reaches
    its floor when the budget ends.

    Parameters
    ----------
    shape : {"cosine", "onecycle", "constant"}
        See :func:`schedule_factor`.
    warmup : float
        Fraction of the schedule spent warming up, in [0, 1).
    max_epochs : int or None
        Epochs the schedule spans.
    max_time : float or None
        Seconds the schedule spans.
    resumed : bool
        The fit continues from a checkpoint: the epochs already in the history
        count as done, so the resumed schedule matches an uninterrupted one.
    lr : float or None
        The base rate; ``None``: the net's ``lr``.

    Attributes
    ----------
    lr_ : float
        The rate of the last training batch; also recorded per epoch as
        ``history[:, "lr"]``.
    """

    def __init__(self, shape="cosine", warmup=0.0, max_epochs=None, max_time=None,
                 resumed=False, lr=None):
        self.shape = shape
        self.lr = lr
        self.warmup = warmup
        self.max_epochs = max_epochs
        self.max_time = max_time
        self.resumed = resumed

    def initialize(self):
        if self.max_epochs is None and self.max_time is None and self.shape != "constant":
            raise ValueError(f"a {self.shape!r} schedule needs max_epochs or max_time")
        self.first_row_ = None
        self.lr_ = None
        return self

    def on_train_begin(self, net, **kwargs):
        self.started_ = time.perf_counter()
        self.first_row_ = None

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        current = len(net.history) - 1  # skorch has already added this epoch's row
        if self.first_row_ is None:
            self.first_row_ = 0 if self.resumed else current
        self.epoch_ = current - self.first_row_
        size = len(dataset_train) if dataset_train is not None else 0
        batch_size = net.get_params_for("iterator_train").get("batch_size", net.batch_size)
        self.batches_ = max(1, -(-size // batch_size)) if batch_size > 0 else 1
        self.batch_ = 0

    def progress(self) -> float:
        """Where the schedule stands, from 0 (first batch) to 1 (its last batch).

        As in torch's ``OneCycleLR``, the last batch of the last epoch is at
        exactly 1, so the rate ends at its floor.
        """
        done = 0.0
        if self.max_epochs is not None:
            steps = self.max_epochs * self.batches_
            done = (self.epoch_ * self.batches_ + self.batch_) / max(steps - 1, 1)
        if self.max_time is not None:
            done = max(done, (time.perf_counter() - self.started_) / self.max_time)
        return min(done, 1.0)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        base = net.lr if self.lr is None else self.lr
        self.lr_ = base * schedule_factor(self.shape, self.progress(), self.warmup)
        for group in net.optimizer_.param_groups:
            group["lr"] = self.lr_
        self.batch_ += 1

    def on_epoch_end(self, net, **kwargs):
        if self.lr_ is not None:
            net.history.record("lr", self.lr_)
