"""Resumable checkpoints: a fit that crashes can continue and end exactly as if it had not.

skorch's ``Checkpoint``/``LoadInitState`` save the weights, optimizer and
history; an identical resumption also needs the random states, the
early-stopping, learning-rate-schedule and weight-averaging state, and a check that the
checkpoint belongs to this fit, so this callback writes one file with all of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import torch
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from skorch.history import History
from torch.optim.swa_utils import AveragedModel

from .._io import atomic_open
from ..exceptions import CheckpointError
from .averaging import WeightAveraging
from .guards import find_callback

__all__ = ["BEST_WEIGHTS", "CHECKPOINT_FORMAT", "LAST_CHECKPOINT", "Checkpointer",
           "data_fingerprint", "load_checkpoint"]

#: Version of the checkpoint layout; a resume refuses other versions.
CHECKPOINT_FORMAT = 2
LAST_CHECKPOINT = "last.pt"
BEST_WEIGHTS = "best.pt"


def _save(obj, path: Path) -> None:
    with atomic_open(path) as handle:
        torch.save(obj, handle)


def data_fingerprint(*arrays) -> str:
    """A short hash of the training data, so a resume on other data is refused."""
    return joblib.hash([a for a in arrays if a is not None])[:16]


class Checkpointer(Callback):
    """Writes resumable checkpoints every ``every`` epochs and the best weights on improvement.

    ``last.pt`` holds everything a resumed fit needs to continue exactly as an
    uninterrupted one: weights, optimizer state, history, random states, the
    early-stopping, learning-rate-schedule and weight-averaging state. ``best.pt`` holds the
    weights of the best validation epoch so far. Both are written atomically
    and load with ``torch.load(..., weights_only=True)``.

    Parameters
    ----------
    directory : path-like
    every : int
        Epochs between resumable checkpoints.
    identity : dict
        What must match for a resume (estimator, parameters, data fingerprint).
    split_seed : int
        Seed of the validation split, kept so a resumed fit splits alike.
    resume_from : dict or None
        A checkpoint read by :func:`load_checkpoint`, restored at train begin.
    """

    def __init__(self, directory, every=10, identity=None, split_seed=0, resume_from=None):
        self.directory = directory
        self.every = every
        self.identity = identity
        self.split_seed = split_seed
        self.resume_from = resume_from

    def on_train_begin(self, net, **kwargs):
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        if self.resume_from is not None:
            restore_state(net, self.resume_from)
            self.resume_from = None  # restored once, and not kept in pickles

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if row.get("valid_loss_best"):
            _save(net.module_.state_dict(), Path(self.directory) / BEST_WEIGHTS)
        if self.every and row["epoch"] % self.every == 0:
            _save(self.capture(net), Path(self.directory) / LAST_CHECKPOINT)

    def capture(self, net) -> dict:
        """Everything needed to resume the fit of ``net`` after its last epoch.

        Parameters
        ----------
        net : skorch.NeuralNet
            The initialized net being trained.

        Returns
        -------
        dict
            The weights, optimizer, history, random states, identity and, where
            present, the early-stopping, LR-scheduler and weight-averaging states (as
            ``last.pt`` holds).
        """
        states = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available() and str(net.device).startswith("cuda"):
            states["cuda"] = torch.cuda.get_rng_state_all()
        state = {
            "format": CHECKPOINT_FORMAT,
            "identity": json.dumps(self.identity or {}, sort_keys=True),
            "epochs": len(net.history),
            "history": json.dumps(net.history.to_list()),
            "module": net.module_.state_dict(),
            "optimizer": net.optimizer_.state_dict(),
            "rng": states,
            "split_seed": int(self.split_seed),
        }
        stopper = find_callback(net, EarlyStopping)
        if stopper is not None:
            state["early_stopping"] = {
                "misses": int(stopper.misses_),
                "threshold": float(stopper.dynamic_threshold_),
                "best_epoch": int(stopper.best_epoch_),
                "best_weights": stopper.best_model_weights_,
            }
        scheduler = find_callback(net, LRScheduler)
        if scheduler is not None and hasattr(scheduler.lr_scheduler_, "state_dict"):
            state["lr_scheduler"] = scheduler.lr_scheduler_.state_dict()
        averaging = find_callback(net, WeightAveraging)
        if averaging is not None and averaging.averaged_ is not None:
            state["weight_averaging"] = averaging.averaged_.state_dict()
        return state


def load_checkpoint(directory, identity: dict) -> dict:
    """Read ``last.pt`` from ``directory`` and check it belongs to this fit.

    Parameters
    ----------
    directory : str or path-like
        The estimator's ``checkpoint_dir``.
    identity : dict
        What identifies the fit (data fingerprint, settings); every key must
        equal the one saved in the checkpoint.

    Returns
    -------
    dict
        The checkpoint state (as :meth:`Checkpointer.capture` wrote it).

    Raises
    ------
    CheckpointError
        No checkpoint, a damaged or foreign file, or one written by a different fit.
    """
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
        found = state.get("format") if isinstance(state, dict) else None
        raise CheckpointError(f"checkpoint {path} is not a skmatnet checkpoint of format "
                              f"{CHECKPOINT_FORMAT} (found format {found!r}; checkpoints of "
                              "other skmatnet versions cannot be resumed)")
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
    device = net.device
    net.module_.load_state_dict(state["module"])
    net.optimizer_.load_state_dict(state["optimizer"])
    net.history_ = History(json.loads(state["history"]))
    torch.set_rng_state(state["rng"]["torch"])
    if "cuda" in state["rng"] and str(device).startswith("cuda"):
        torch.cuda.set_rng_state_all(state["rng"]["cuda"])
    stopper = find_callback(net, EarlyStopping)
    if stopper is not None and "early_stopping" in state:
        saved = state["early_stopping"]
        stopper.misses_ = saved["misses"]
        stopper.dynamic_threshold_ = saved["threshold"]
        stopper.best_epoch_ = saved["best_epoch"]
        weights = saved["best_weights"]
        stopper.best_model_weights_ = (
            None if weights is None else {k: v.to(device) for k, v in weights.items()}
        )
    scheduler = find_callback(net, LRScheduler)
    if scheduler is not None and "lr_scheduler" in state:
        scheduler.lr_scheduler_.load_state_dict(state["lr_scheduler"])
    averaging = find_callback(net, WeightAveraging)
    if averaging is not None and "weight_averaging" in state:
        averaging.averaged_ = AveragedModel(net.module_)
        averaging.averaged_.load_state_dict(state["weight_averaging"])
