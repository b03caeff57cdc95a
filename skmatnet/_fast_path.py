"""The fast data path: training data as whole device tensors, batches sliced from them.

A mixin for :class:`skmatnet._base.MatNetBase` that plugs into skorch's own
hooks (``get_iterator``, ``run_single_epoch``, ``evaluation_step``); nothing
re-implements skorch's training loop. It needs one hook of the class that uses
it, :meth:`FastPathMixin._in_fit`.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod

import numpy as np
import torch
from skorch.dataset import Dataset
from torch.utils.data import DataLoader

__all__ = ["FastPathMixin", "TensorBatches"]


class TensorBatches:
    """Mini-batches sliced from whole tensors, replacing skorch's per-row DataLoader.

    The tensors live on the training device for the whole fit; a batch is one
    index gather, with no per-row ``__getitem__`` and no collation.

    Each pass draws from torch's global random state exactly what a
    ``DataLoader`` with a ``RandomSampler`` draws (a worker base seed, then
    the sampler seed), so for the same seed this path and skorch's standard
    path see the same batches in the same order. Outside ``fit``
    (``draw_like_dataloader=False``) unshuffled passes draw nothing, so
    ``predict`` leaves the global random state alone.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None, batch_size: int, shuffle: bool,
                 rows: torch.Tensor | None = None, draw_like_dataloader: bool = True):
        self.X, self.y = X, y
        self.rows = rows
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.draw_like_dataloader = draw_like_dataloader

    def __len__(self) -> int:
        return -(-self._n() // self.batch_size)

    def _n(self) -> int:
        return len(self.X) if self.rows is None else len(self.rows)

    def _take(self, index):
        if self.rows is not None:
            index = self.rows[index]
        return self.X[index], None if self.y is None else self.y[index]

    def __iter__(self):
        n, size = self._n(), self.batch_size
        if self.draw_like_dataloader or self.shuffle:
            torch.empty((), dtype=torch.int64).random_()  # the DataLoader's worker base seed
        if not self.shuffle:
            for start in range(0, n, size):
                yield self._take(slice(start, start + size))
            return
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        generator = torch.Generator()
        generator.manual_seed(seed)
        order = torch.randperm(n, generator=generator).to(self.X.device, non_blocking=True)
        for start in range(0, n, size):
            yield self._take(order[start:start + size])


def _dataset_arrays(dataset):
    """The plain (X, y) arrays behind a skorch Dataset or a Subset of one, and the Subset's rows.

    A Subset's rows are returned as indices rather than copied out, so the
    training and validation parts of a split share one copy of the data.
    """
    rows = None
    if isinstance(dataset, torch.utils.data.Subset):
        dataset, rows = dataset.dataset, np.asarray(dataset.indices)
    if not isinstance(dataset, Dataset) or not isinstance(dataset.X, np.ndarray):
        return None
    if dataset.y is not None and not isinstance(dataset.y, np.ndarray):
        return None
    return dataset, rows


class FastPathMixin(ABC):
    """skorch hooks of the fast path; ``fast_path=False`` falls back to skorch's own."""

    @abstractmethod
    def _in_fit(self) -> bool:
        """Hook: whether a fit is running (batches then draw randomness as skorch's do)."""

    def get_iterator(self, dataset, training=False):
        """Batches by slicing whole tensors; skorch's DataLoader for anything else.

        Parameters
        ----------
        dataset : torch Dataset
            The rows to iterate over. A skorch ``Dataset`` of NumPy arrays, or a
            ``Subset`` of one, is sliced as device tensors (:class:`TensorBatches`)
            where ``fast_path`` is on and the iterator is torch's ``DataLoader``;
            anything else goes through skorch's own iterator.
        training : bool, default=False
            Whether the batches are for training: then the ``iterator_train__*``
            settings apply (and ``shuffle``), else the ``iterator_valid__*`` ones.

        Returns
        -------
        TensorBatches or torch.utils.data.DataLoader
        """
        params = self.get_params_for("iterator_train" if training else "iterator_valid")
        custom = (self.iterator_train if training else self.iterator_valid) is not DataLoader
        custom = custom or not self.fast_path
        found = None if custom else _dataset_arrays(dataset)
        if found is None:
            return super().get_iterator(dataset, training=training)
        base, rows = found
        device = str(self.device)
        cache = getattr(base, "_skmatnet_tensors", None)
        if cache is None or cache[0] != device:
            with warnings.catch_warnings():
                # Read-only arrays (pandas copy-on-write) are shared, never written to.
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                # On the CPU this shares the arrays' memory; on a GPU it is the one copy.
                X, y = (None if a is None else torch.as_tensor(a).to(device)
                        for a in (base.X, base.y))
            cache = (device, X, y)
            base._skmatnet_tensors = cache
        if rows is not None:
            rows = torch.as_tensor(rows, dtype=torch.int64).to(device)
        batch_size = params.get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(cache[1]) if rows is None else len(rows)
        shuffle = bool(params.get("shuffle", False)) and training
        # Inside fit, draw from the random state exactly as skorch's DataLoader would.
        return TensorBatches(cache[1], cache[2], batch_size, shuffle, rows=rows,
                             draw_like_dataloader=self._in_fit())

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, reading the loss from the device once per epoch.

        skorch records every batch's loss with ``.item()``, a device
        synchronisation per batch. Here the batch losses are summed on the
        device and the epoch's mean is recorded as one entry, which skorch's
        loss scoring averages exactly as it would the per-batch entries.

        Parameters
        ----------
        iterator : iterable of batches or None
            The batches of the epoch (:meth:`get_iterator`); skorch's own epoch runs
            where it is ``None`` or ``fast_path`` is off.
        training : bool
            Whether this is the training pass (passed on to the batch callbacks).
        prefix : str
            The history key's prefix: ``"train"`` or ``"valid"``.
        step_fn : callable
            skorch's ``train_step`` or ``validation_step``, called on each batch.
        **fit_params : dict
            Passed on to ``step_fn``.
        """
        if not self.fast_path or iterator is None:
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        total, rows, batch_count = None, 0, 0
        for batch in iterator:
            self.notify("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch, **fit_params)
            n = len(batch[0])
            weighted = step["loss"].detach().double() * n
            total = weighted if total is None else total + weighted
            rows += n
            self.notify("on_batch_end", batch=batch, training=training, **step)
            batch_count += 1
        if rows:
            self.history.record_batch(prefix + "_loss", (total / rows).item())
            self.history.record_batch(prefix + "_batch_size", rows)
        self.history.record(prefix + "_batch_count", batch_count)

    def evaluation_step(self, batch, training=False):
        if training:
            return super().evaluation_step(batch, training=training)
        with torch.inference_mode():
            return super().evaluation_step(batch, training=False)
