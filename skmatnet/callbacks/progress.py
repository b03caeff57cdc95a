"""A per-epoch progress printer, and the words for why a fit stopped.

Used by ``skmatnet train`` and ``skmatnet benchmark``; usable in any fit:
``BRNetRegressor(callbacks=[("progress", EpochPrinter("brnet", 100))])``.
"""

from __future__ import annotations

import sys
import time

import numpy as np
from skorch.callbacks import Callback

__all__ = ["STOP_REASONS", "EpochPrinter"]

#: ``stop_reason_`` of a fitted estimator -> the words a report prints for it.
STOP_REASONS = {
    "max_epochs": "epoch limit",
    "early_stopping": "early stopping",
    "max_time": "time budget",
    "interrupted": "interruption",
    "diverged": "divergence",
}


class EpochPrinter(Callback):
    """Print the progress of a fit to stderr, one line per epoch shown.

    Each line reads ``[label] epoch i/N train ... valid ... (t s)``. At most one
    line every ``interval`` seconds (and always the first epoch), so that a fast
    fit does not flood the terminal; a ``*`` marks a new best validation loss.

    Parameters
    ----------
    label : str
        Shown in brackets, e.g. ``brnet`` or ``brnet fold 2/10``.
    max_epochs : int or None
        The epoch limit, shown after the epoch number. None: the length of the
        schedule the fit chose (the estimator's ``effective_params_``), or none
        where a time budget ends the fit.
    interval : float, default=2.0
        Smallest number of seconds between two lines.
    enabled : bool, default=True
        Print nothing when False.

    Examples
    --------
    >>> from skmatnet import BRNetRegressor
    >>> from skmatnet.callbacks import EpochPrinter
    >>> net = BRNetRegressor(callbacks=[("progress", EpochPrinter("brnet", 100))])
    """

    def __init__(self, label: str, max_epochs: int | None, interval: float = 2.0,
                 enabled: bool = True):
        self.label = label
        self.max_epochs = max_epochs
        self.interval = interval
        self.enabled = enabled

    def on_train_begin(self, net, **kwargs):
        self.start_ = time.monotonic()
        self.last_ = -np.inf
        self.limit_ = self.max_epochs
        if self.limit_ is None:
            self.limit_ = (getattr(net, "effective_params_", None) or {}).get("max_epochs")

    def on_epoch_end(self, net, **kwargs):
        if not self.enabled:
            return
        now = time.monotonic()
        row = net.history[-1]
        epoch = row.get("epoch", len(net.history))
        if epoch != 1 and now - self.last_ < self.interval:
            return
        self.last_ = now
        valid = row.get("valid_loss")
        valid_text = f" valid {valid:.4f}" if valid is not None else ""
        best = " *" if row.get("valid_loss_best") else ""
        limit = "" if self.limit_ is None else f"/{self.limit_}"
        print(f"[{self.label}] epoch {epoch}{limit} "
              f"train {row.get('train_loss', float('nan')):.4f}{valid_text}{best} "
              f"({now - self.start_:.0f} s)", file=sys.stderr, flush=True)
