"""Training machinery behind :class:`skmatnet.estimators.MatNetRegressor`.

Everything here plugs into skorch's own hooks: an iterator returned by
``get_iterator`` and callbacks. Nothing re-implements skorch's training loop.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping

__all__ = [
    "CheckpointError",
    "TrainingDivergedError",
]

#: Version of the checkpoint layout; a resume refuses other versions.
CHECKPOINT_FORMAT = 1
LAST_CHECKPOINT = "last.pt"
BEST_WEIGHTS = "best.pt"


class TrainingDivergedError(FloatingPointError):
    """The training or validation loss became NaN or infinite."""


class CheckpointError(ValueError):
    """A checkpoint cannot be used to resume this fit (missing, corrupt or foreign)."""


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


class StoppingEarly(EarlyStopping):
    """skorch's EarlyStopping that tells the estimator why training stopped."""

    def on_epoch_end(self, net, **kwargs):
        try:
            super().on_epoch_end(net, **kwargs)
        except KeyboardInterrupt:
            net._stop_reason_ = "early_stopping"
            raise


def _finite(value) -> bool:
    return value is None or bool(np.isfinite(value))


class TrainingGuard(Callback):
    """Stops on a time budget, on a diverging loss, and keeps good weights on Ctrl-C.

    Parameters
    ----------
    max_time : float or None
        Seconds of training after which the fit stops at the end of the epoch.
    on_divergence : {"raise", "restore"}
        What a NaN/infinite loss does: both restore the last good weights;
        ``"raise"`` then raises :class:`TrainingDivergedError`, ``"restore"``
        warns and returns the restored model.
    """

    def __init__(self, max_time=None, on_divergence="raise"):
        self.max_time = max_time
        self.on_divergence = on_divergence

    def on_train_begin(self, net, **kwargs):
        self.started_ = time.perf_counter()
        self.good_weights_ = None
        self.good_epoch_ = None
        self.diverged_ = None

    def _early_stopping(self, net):
        stopper = _callback(net, EarlyStopping)
        return stopper if stopper is not None and stopper.load_best else None

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        for name in ("train_loss", "valid_loss"):
            if not _finite(row.get(name)):
                self.diverged_ = (name, row["epoch"], row[name])
                net._stop_reason_ = "diverged"
                raise KeyboardInterrupt
        if self._early_stopping(net) is None:
            # Without early stopping there is no best-weights copy; keep the last good one.
            self.good_weights_ = copy.deepcopy(net.module_.state_dict())
            self.good_epoch_ = row["epoch"]
        if self.max_time is not None and time.perf_counter() - self.started_ >= self.max_time:
            net._stop_reason_ = "max_time"
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        weights, self.good_weights_ = self.good_weights_, None  # not into pickles
        if net._stop_reason_ not in ("interrupted", "diverged"):
            return
        # The weights are those of an unfinished or broken epoch: go back to good ones.
        stopper = self._early_stopping(net)
        epoch = self.good_epoch_
        if stopper is not None and getattr(stopper, "best_model_weights_", None) is not None:
            weights, epoch = stopper.best_model_weights_, stopper.best_epoch_
        if weights is not None:
            net.module_.load_state_dict(weights)
        net.kept_epoch_ = epoch


# ---------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def data_fingerprint(*arrays) -> str:
    """A short hash of the training data, so a resume on other data is refused."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            continue
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.data)
    return digest.hexdigest()[:16]


def _rng_states(net) -> dict:
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and str(net.device).startswith("cuda"):
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


class Checkpointer(Callback):
    """Writes resumable checkpoints every ``every`` epochs and the best weights on improvement.

    ``last.pt`` holds everything a resumed fit needs to continue exactly as an
    uninterrupted one: weights, optimizer state, history, random states, the
    early-stopping and learning-rate-schedule state. ``best.pt`` holds the
    weights of the best validation epoch so far. Both are written atomically
    and load with ``torch.load(..., weights_only=True)``.
    """

    def __init__(self, directory, every=10, identity=None):
        self.directory = directory
        self.every = every
        self.identity = identity or {}

    def on_train_begin(self, net, **kwargs):
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        pending = getattr(net, "_resume_state_", None)
        if pending is not None:
            restore_state(net, pending)
            net._resume_state_ = None

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if row.get("valid_loss_best"):
            _atomic_save(net.module_.state_dict(), Path(self.directory) / BEST_WEIGHTS)
        if self.every and row["epoch"] % self.every == 0:
            _atomic_save(capture_state(net, self.identity),
                         Path(self.directory) / LAST_CHECKPOINT)


def _callback(net, kind):
    for _, callback in net.callbacks_:
        if isinstance(callback, kind):
            return callback
    return None


def capture_state(net, identity: dict) -> dict:
    from skorch.callbacks import LRScheduler

    state = {
        "format": CHECKPOINT_FORMAT,
        "identity": json.dumps(identity, sort_keys=True),
        "epochs": len(net.history),
        "history": json.dumps(net.history.to_list()),
        "module": net.module_.state_dict(),
        "optimizer": net.optimizer_.state_dict(),
        "rng": _rng_states(net),
        "split_seed": int(getattr(net, "_split_seed_", 0)),
    }
    stopper = _callback(net, EarlyStopping)
    if stopper is not None:
        state["early_stopping"] = {
            "misses": int(stopper.misses_),
            "threshold": float(stopper.dynamic_threshold_),
            "best_epoch": int(stopper.best_epoch_),
            "best_weights": stopper.best_model_weights_,
        }
    scheduler = _callback(net, LRScheduler)
    if scheduler is not None and hasattr(scheduler.lr_scheduler_, "state_dict"):
        state["lr_scheduler"] = scheduler.lr_scheduler_.state_dict()
    return state


def load_checkpoint(directory, identity: dict) -> dict:
    """Read ``last.pt`` from ``directory`` and check it belongs to this fit."""
    path = Path(directory) / LAST_CHECKPOINT
    if not path.exists():
        raise CheckpointError(f"no checkpoint to resume from: {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for damaged files
        raise CheckpointError(f"checkpoint {path} cannot be read ({exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else 'damaged file'})"
                              ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"checkpoint {path} is not a skmatnet checkpoint of format "
                              f"{CHECKPOINT_FORMAT}")
    saved = json.loads(state["identity"])
    differences = sorted(
        key for key in set(saved) | set(identity) if saved.get(key) != identity.get(key)
    )
    if differences:
        details = "; ".join(
            f"{key}: checkpoint {saved.get(key)!r}, now {identity.get(key)!r}"
            for key in differences
        )
        raise CheckpointError(f"checkpoint {path} was written by a different fit ({details})")
    return state


def restore_state(net, state: dict) -> None:
    """Put a fit back where ``state`` was captured (called at train begin)."""
    from skorch.callbacks import LRScheduler
    from skorch.history import History

    device = net.device
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history_ = History(json.loads(state["history"]))
    net._split_seed_ = state["split_seed"]
    torch.set_rng_state(state["rng"]["torch"])
    if "cuda" in state["rng"] and str(device).startswith("cuda"):
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    stopper = _callback(net, EarlyStopping)
    if stopper is not None and "early_stopping" in state:
        saved = state["early_stopping"]
        stopper.misses_ = saved["misses"]
        stopper.dynamic_threshold_ = saved["threshold"]
        stopper.best_epoch_ = saved["best_epoch"]
        weights = saved["best_weights"]
        stopper.best_model_weights_ = (
            None if weights is None else {k: v.to(device) for k, v in weights.items()}
        )
    scheduler = _callback(net, LRScheduler)
    if scheduler is not None and "lr_scheduler" in state:
        scheduler.lr_scheduler_.load_state_dict(state["lr_scheduler"])


def warn_interrupted(net) -> None:
    kept = getattr(net, "kept_epoch_", None)
    where = (f"the weights of epoch {kept} were kept" if kept is not None
             else "the weights were kept as they were")
    warnings.warn(
        f"{type(net).__name__}.fit was interrupted (KeyboardInterrupt) after "
        f"{len(net.history_)} complete epoch(s); {where}. The model is usable.",
        UserWarning,
        stacklevel=3,
    )
