"""scikit-learn regressors over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetRegressor` holds everything the estimators share: input
validation, the papers' training recipe, device selection, seeding and
persistence. Each concrete estimator only names its network and its defaults.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from skorch import NeuralNet, NeuralNetRegressor
from skorch.callbacks import LRScheduler
from skorch.dataset import Dataset, ValidSplit
from torch.utils.data import DataLoader

from . import _training, nets
from ._training import CheckpointError, TensorBatches, TrainingDivergedError
from ._validation import check_features, check_target
from .callbacks import SCHEDULE_SHAPES, LRSchedule

__all__ = [
    "BNetRegressor",
    "BRNetRegressor",
    "CheckpointError",
    "ElemNetRegressor",
    "FCMnRRegressor",
    "FCUNetRegressor",
    "IRNetRegressor",
    "MatNetRegressor",
    "TrainingDivergedError",
]

# iBRNet's ReduceLROnPlateau settings (Gupta et al., 2023).
_PLATEAU_DEFAULTS = {"factor": 0.1, "patience": 45, "min_lr": 1e-8}
_PREDICT_BATCH_SIZE = 4096
#: Epochs of the recommended schedule when neither max_epochs nor max_time is given.
DEFAULT_SCHEDULE_EPOCHS = 100
#: The papers' training, shared by all six (ElemNet, IRNet, BRNet, Tatis et al.):
#: Adam at a constant 1e-4, batch 32, at most 3000 epochs, the published widths.
#: Early-stopping patience differs by paper and is set per estimator.
PAPER_RECIPE = {
    "optimizer": torch.optim.Adam,
    "lr": 1e-4,
    "batch_size": 32,
    "max_epochs": 3000,
    "lr_schedule": None,
    "warmup": 0.0,
    "width": 1.0,
}
RECIPES = ("recommended", "paper")


def resolve_device(device: Any) -> Any:
    """Map ``"auto"`` to ``"cuda"`` when a GPU is usable, else ``"cpu"``."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


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


class _Tf32:
    """Allow TF32 CUDA matmuls inside the block, restoring the previous setting after."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._saved = (torch.backends.cuda.matmul.allow_tf32,
                           torch.backends.cudnn.allow_tf32)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        return self

    def __exit__(self, *exc):
        if self.enabled:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self._saved
        return False


class MatNetRegressor(NeuralNetRegressor):
    """Base class of the skmatnet regressors: a skorch ``NeuralNetRegressor``
    with scikit-learn input validation and a training recipe that converges in minutes.

    The defaults are the *recommended recipe*: AdamW at 2e-3, batch 256, a cosine
    schedule with a 5% warm-up over 100 epochs (or over ``max_time`` seconds),
    half-width networks. On JARVIS formation energy it reaches the papers'
    60-minute error in a few minutes on one CPU thread (``docs/performance.md``).
    ``from_recipe("paper")`` gives the papers' training exactly.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network. As a class it is built in ``fit`` with the ``module__*``
        parameters plus ``n_features`` (from ``X``) and ``n_outputs`` (from
        ``y``), so widths can be tuned with e.g. ``module__widths``.
    criterion : torch loss class, default=torch.nn.L1Loss
        Mean absolute error, as in the papers.
    optimizer : torch optimizer class, default=torch.optim.AdamW
        AdamW with torch's weight decay of 0.01 (the papers: Adam). Further
        settings as ``optimizer__*`` (e.g. ``optimizer__weight_decay``).
    lr : float, default=2e-3
        Peak learning rate of the schedule (the papers: a constant 1e-4).
    max_epochs : int or None, default=None
        Length of the schedule in epochs. ``None``: 100 epochs, or as many as
        ``max_time`` allows when that is given (the schedule then runs over
        the time budget). The paper recipe: at most 3000 epochs.
    batch_size : int, default=256
        Training batch size (the papers: 32). Prediction uses batches of 4096
        (``iterator_valid__batch_size``), which only changes speed.
    patience : int or None, default=None
        Early stopping: stop after this many epochs without a lower validation
        loss and restore the weights of the best epoch. ``None`` trains the
        whole schedule and keeps its final weights (an annealed rate gives its
        best model at the end). The paper recipe: 100 for BRNet/BNet, 200 for
        ElemNet, IRNet and Tatis et al.'s networks.
    validation_fraction : float or None, default=0.1
        Fraction of the training rows held out, by a shuffled random split, to
        monitor the validation loss for early stopping and the LR schedule.
        ``None`` trains on all rows for ``max_epochs``. A fixed validation set
        can instead be passed to :meth:`fit` as ``X_val``, ``y_val``.
    lr_schedule : {"cosine", "onecycle", "constant", "plateau"}, dict or None, \
default="cosine"
        ``"cosine"``: a linear warm-up, then a cosine decay to zero, stepped
        every batch over ``max_epochs`` or ``max_time`` (whichever ends first).
        ``"onecycle"``: torch's ``OneCycleLR`` shape (rise from lr/25 over the
        ``warmup`` fraction, decay to lr/25/1e4). ``"constant"`` (or ``None``,
        the papers): a constant rate after the warm-up. ``"plateau"`` reduces
        the rate by 10x when the validation loss stalls for 45 epochs, down to
        1e-8 (the iBRNet recipe); a dict overrides those ``ReduceLROnPlateau``
        settings.
    warmup : float, default=0.05
        Fraction of the schedule spent warming the rate up from 1% of ``lr``
        (for ``"onecycle"``: the rising phase).
    width : float, default=0.5
        Multiplies every hidden layer's width (``width_multiplier`` of the
        network); 1.0 is the published network. At equal training time the
        half-width network reaches a lower error than the published one.
    random_state : int or None, default=None
        Seeds weight initialisation, batch shuffling, dropout and the
        validation split, so two fits on the same CPU give identical models.
        The global torch random state is left untouched.
    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU. A model
        pickled on a GPU loads and predicts on a machine without one.
    verbose : int, default=0
        0 is silent; 1 prints skorch's per-epoch table (losses, duration).
    max_time : float or None, default=None
        Wall-clock budget in seconds: training stops at the end of the epoch
        that exceeds it (keeping the best weights, as early stopping does).
        With a cosine or one-cycle schedule the rate anneals over this budget,
        so ``fit`` returns the best model the time allows.
    on_divergence : {"raise", "restore"}, default="raise"
        When the training or validation loss becomes NaN or infinite, training
        stops and the last good weights (the best epoch's, with early stopping)
        are restored. ``"raise"`` then raises :class:`TrainingDivergedError`;
        ``"restore"`` only warns and returns the restored model.
    checkpoint_dir : str, path or None, default=None
        Directory for checkpoints: ``last.pt`` (everything needed to resume,
        optimizer and random states included) every ``checkpoint_every``
        epochs and ``best.pt`` (weights) whenever the validation loss
        improves. ``fit(X, y, resume=True)`` continues an interrupted fit from
        ``last.pt`` and ends exactly as an uninterrupted fit would.
    checkpoint_every : int, default=10
        Epochs between resumable checkpoints.
    precision : {"float32", "tf32", "bf16"}, default="float32"
        Arithmetic of the network. ``"float32"`` is the papers' numerics.
        ``"tf32"`` lets CUDA matmuls use TensorFloat-32 (no effect on CPU);
        ``"bf16"`` runs the forward pass under bfloat16 autocast (weights and
        optimizer stay float32). See the performance guide for measurements.
    fast_path : bool, default=True
        Keep the training data on the device as whole tensors, slice shuffled
        batches from them and read the loss once per epoch instead of once per
        batch. ``False`` uses skorch's standard DataLoader and per-batch
        logging; for the same seed both give the same model.
    **kwargs
        Any other skorch ``NeuralNet`` parameter, e.g. ``module__*``,
        ``optimizer__*``, ``callbacks``, ``iterator_train__*``, ``warm_start``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained network (best epoch when early stopping ran).
    history_ : skorch.History
        Per-epoch losses and timings.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit``, when ``X`` was a DataFrame.
    n_outputs_ : int
        Number of targets.
    n_epochs_ : int
        Epochs run in the last ``fit``.
    best_epoch_ : int or None
        Epoch (1-based) whose weights were kept, when a validation loss was
        monitored.
    stop_reason_ : str
        Why the last fit ended: ``"max_epochs"``, ``"early_stopping"``,
        ``"max_time"``, ``"interrupted"`` (Ctrl-C; the best or last complete
        epoch's weights are kept) or ``"diverged"``.
    """

    def __init__(
        self,
        module,
        *,
        criterion=torch.nn.L1Loss,
        optimizer=torch.optim.AdamW,
        lr=2e-3,
        max_epochs=None,
        batch_size=256,
        patience=None,
        validation_fraction=0.1,
        lr_schedule="cosine",
        warmup=0.05,
        width=0.5,
        random_state=None,
        device="auto",
        verbose=0,
        max_time=None,
        on_divergence="raise",
        checkpoint_dir=None,
        checkpoint_every=10,
        precision="float32",
        fast_path=True,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        kwargs.setdefault("iterator_valid__batch_size", _PREDICT_BATCH_SIZE)
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
            # skorch requires an int here; fit always passes the resolved epoch count.
            max_epochs=max_epochs,
            batch_size=batch_size,
            train_split=None,
            device=device,
            verbose=verbose,
            **kwargs,
        )
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.lr_schedule = lr_schedule
        self.warmup = warmup
        self.width = width
        self.random_state = random_state
        self.max_time = max_time
        self.on_divergence = on_divergence
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.precision = precision
        self.fast_path = fast_path

    #: The papers' early-stopping patience for this network (ElemNet/IRNet: 200).
    _paper_patience: ClassVar[int] = 100

    @classmethod
    def from_recipe(cls, recipe="recommended", **params):
        """An estimator trained by a named recipe; ``params`` override any of its settings.

        Parameters
        ----------
        recipe : {"recommended", "paper"}
            ``"recommended"``: the defaults of the signature. ``"paper"``: the
            published training exactly (Adam at a constant 1e-4, batch 32, at
            most 3000 epochs, the paper's early-stopping patience, the
            published layer widths).
        **params
            Any other constructor parameter; explicit values always win.

        Examples
        --------
        >>> from skmatnet import BRNetRegressor
        >>> paper = BRNetRegressor.from_recipe("paper", max_time=600)
        >>> paper.lr, paper.batch_size, paper.max_time
        (0.0001, 32, 600)
        """
        if recipe not in RECIPES:
            raise ValueError(f"recipe must be one of {', '.join(map(repr, RECIPES))}, "
                             f"got {recipe!r}")
        settings = {}
        if recipe == "paper":
            settings = dict(PAPER_RECIPE, patience=cls._paper_patience)
        settings.update(params)
        return cls(**settings)

    def _epochs_for_fit(self) -> int:
        """The epoch count of one fit: ``max_epochs``, else as the time budget allows."""
        if self.max_epochs is not None:
            return int(self.max_epochs)
        if self.max_time is not None:
            return 10**9  # the time budget ends the fit
        return DEFAULT_SCHEDULE_EPOCHS

    # -- device: the parameter keeps "auto"; skorch's internals see the resolved one

    @property
    def device(self):
        return resolve_device(self.__dict__.get("device", "cpu"))

    @device.setter
    def device(self, value):
        self.__dict__["device"] = value

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__.get("device")
        params.pop("train_split", None)
        return params

    def set_params(self, **params):
        # skorch refuses iterator/dataset settings on an initialized net ("Something went
        # wrong"), although they need no re-initialization: they are read at each use.
        passive = {key: params.pop(key) for key in list(params)
                   if key.split("__", 1)[0] in ("iterator_train", "iterator_valid", "dataset")
                   and "__" in key}
        for key, value in passive.items():
            setattr(self, key, value)
            self._params_to_validate.add(key)
        return super().set_params(**params) if params else self

    def _get_param_names(self):
        # skorch keeps private bookkeeping (_params_to_validate) in __dict__ too.
        return [
            name for name in super()._get_param_names()
            if name != "train_split" and not name.startswith("_")
        ]

    def __setstate__(self, state):
        requested = state.get("device")
        state = dict(state, device=resolve_device(requested))
        super().__setstate__(state)
        if isinstance(requested, str) and requested == "auto":
            self.__dict__["device"] = "auto"

    # -- sklearn metadata

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

    #: Tiny network settings that keep each estimator's structure (see _get_test_params).
    _test_module_params: ClassVar[dict] = {}

    @classmethod
    def _get_test_params(cls) -> dict:
        """Small, fast settings for the test suite (sktime-style).

        A constant rate (Adam, the papers' patience) keeps a fit of k epochs equal to the
        first k epochs of a longer one, which the fault-handling tests rely on; the
        schedules have tests of their own.
        """
        params = {"max_epochs": 20, "batch_size": 16, "random_state": 0, "lr": 3e-3,
                  "device": "cpu", "width": 1.0, "optimizer": torch.optim.Adam,
                  "lr_schedule": None, "warmup": 0.0, "patience": cls._paper_patience}
        params.update({f"module__{k}": v for k, v in cls._test_module_params.items()})
        return params

    # -- validation

    def _validate_training_data(self, X, y, *, reset: bool):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )

        # Errors name the bad rows, columns and values (see skmatnet._validation).
        X = check_features(self, X, reset=reset)
        y = check_target(y, n_samples=len(X))
        y_is_1d = y.ndim == 1
        y = y.reshape(len(y), -1)
        if reset:
            self.n_outputs_ = y.shape[1]
            self._y_is_1d_ = y_is_1d
        elif y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {y.shape[1]} targets, but {type(self).__name__} was fitted with "
                f"{self.n_outputs_}"
            )
        return X, y

    def _check_fitted(self) -> None:
        if not getattr(self, "initialized_", False) or not hasattr(self, "n_outputs_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            )

    # -- training

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        if isinstance(self.module, torch.nn.Module) and not kwargs:
            self.module_ = self.module
            return self
        kwargs.setdefault("n_features", self.n_features_in_)
        kwargs.setdefault("n_outputs", self.n_outputs_)
        if self.width != 1.0:
            kwargs.setdefault("width_multiplier", self.width)
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        monitor = "valid_loss" if self._has_validation() else "train_loss"
        # Before early stopping, so a NaN loss is reported as divergence, not patience.
        callbacks.append((
            "training_guard",
            _training.TrainingGuard(max_time=self.max_time, on_divergence=self.on_divergence),
        ))
        if self.patience is not None and self._has_validation():
            callbacks.append((
                "early_stopping",
                _training.StoppingEarly(
                    monitor="valid_loss",
                    patience=self.patience,
                    threshold=0.0,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print,
                ),
            ))
        if self.lr_schedule in SCHEDULE_SHAPES:
            callbacks.append((
                "lr_scheduler",
                LRSchedule(
                    shape=self.lr_schedule,
                    warmup=self.warmup,
                    max_epochs=self.max_epochs if self.max_epochs is not None
                    else (None if self.max_time is not None else DEFAULT_SCHEDULE_EPOCHS),
                    max_time=self.max_time,
                    resumed=getattr(self, "_resume_state_", None) is not None,
                ),
            ))
        elif self.lr_schedule is not None:
            if self.lr_schedule == "plateau":
                settings = dict(_PLATEAU_DEFAULTS)
            elif isinstance(self.lr_schedule, dict):
                settings = {**_PLATEAU_DEFAULTS, **self.lr_schedule}
            else:
                raise ValueError(
                    "lr_schedule must be None, 'constant', 'cosine', 'onecycle', 'plateau' or "
                    f"a dict, got {self.lr_schedule!r}"
                )
            callbacks.append((
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                    monitor=monitor,
                    **settings,
                ),
            ))
        if self.checkpoint_dir is not None:
            # Last, so it restores a resumed fit after the others have reset themselves.
            callbacks.append((
                "checkpoint",
                _training.Checkpointer(self.checkpoint_dir, self.checkpoint_every,
                                       getattr(self, "_checkpoint_identity_", None)),
            ))
        return callbacks

    def _has_validation(self) -> bool:
        return (
            getattr(self, "_validation_data_", None) is not None
            or self.validation_fraction is not None
        )

    def _check_params(self) -> None:
        fraction = self.validation_fraction
        if fraction is not None and not (isinstance(fraction, float) and 0 < fraction < 1):
            raise ValueError(
                f"validation_fraction must be a float in (0, 1) or None, got {fraction!r}"
            )
        if self.patience is not None and (
            not isinstance(self.patience, (int, np.integer)) or self.patience < 1
        ):
            raise ValueError(f"patience must be a positive int or None, got {self.patience!r}")
        for name in ("max_epochs", "batch_size"):
            value = getattr(self, name)
            if value is None and name == "max_epochs":
                continue
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not (isinstance(self.warmup, (float, int)) and 0 <= self.warmup < 1):
            raise ValueError(f"warmup must be a number in [0, 1), got {self.warmup!r}")
        if isinstance(self.width, bool) or not (
            isinstance(self.width, (float, int)) and self.width > 0
        ):
            raise ValueError(f"width must be a positive number, got {self.width!r}")
        if not (isinstance(self.lr, (float, int)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.max_time is not None and not (
            isinstance(self.max_time, (float, int)) and self.max_time > 0
        ):
            raise ValueError(f"max_time must be a positive number or None, got {self.max_time!r}")
        choices = {"on_divergence": ("raise", "restore"),
                   "precision": ("float32", "tf32", "bf16")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"{name} must be one of {', '.join(map(repr, allowed))}, "
                    f"got {getattr(self, name)!r}"
                )
        every = self.checkpoint_every
        if not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"checkpoint_every must be a positive int, got {every!r}")

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, reading the loss from the device once per epoch.

        skorch records every batch's loss with ``.item()``, a device
        synchronisation per batch. Here the batch losses are summed on the
        device and the epoch's mean is recorded as one entry, which skorch's
        loss scoring averages exactly as it would the per-batch entries.
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

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            # Callbacks that stop training on purpose set a reason first; anything
            # else is the user's Ctrl-C, possibly in the middle of an epoch.
            if self._stop_reason_ is None:
                self._stop_reason_ = "interrupted"
                if len(self.history) and "train_loss" not in self.history[-1]:
                    del self.history[-1]
            raise

    def infer(self, x, **fit_params):
        if self.precision == "bf16":
            device_type = torch.device(self.device).type
            with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
                return super().infer(x, **fit_params).float()
        return super().infer(x, **fit_params)

    def evaluation_step(self, batch, training=False):
        if training:
            return super().evaluation_step(batch, training=training)
        with torch.inference_mode():
            return super().evaluation_step(batch, training=False)

    def _matmul_precision(self):
        """TF32 for CUDA matmuls while this estimator computes, when asked for."""
        return _Tf32(self.precision == "tf32")

    def get_iterator(self, dataset, training=False):
        """Batches by slicing whole tensors; skorch's DataLoader for anything else."""
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
        return TensorBatches(cache[1], cache[2], batch_size, shuffle, rows=rows,
                             draw_like_dataloader=getattr(self, "_fitting_", False))

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        validation = getattr(self, "_validation_data_", None)
        if validation is not None:
            return dataset, self.get_dataset(*validation)
        if self.validation_fraction is None:
            return dataset, None
        seed = getattr(self, "_split_seed_", self.random_state)
        split = ValidSplit(self.validation_fraction, stratified=False, random_state=seed)
        return split(dataset, y)

    def _seeded(self):
        cuda = str(self.device).startswith("cuda") and torch.cuda.is_available()
        devices = [torch.device(self.device).index or 0] if cuda else []
        return torch.random.fork_rng(devices=devices)

    def fit(self, X, y, X_val=None, y_val=None, resume=False, **fit_params):
        """Train the network (from scratch unless ``warm_start=True``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, e.g. the output of
            :class:`~skmatnet.ElementFractionTransformer`. Cast to float32.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; several columns train one network with several outputs.
        X_val, y_val : array-like, optional
            A fixed validation set for early stopping, used instead of the
            random ``validation_fraction`` split (the BRNet protocol's 9%).
        resume : bool, default=False
            Continue from ``checkpoint_dir/last.pt`` instead of starting over.
            The parameters and data must be those of the interrupted fit
            (checked); the result equals that of an uninterrupted fit.
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        restart = not self.warm_start or not self.initialized_
        return self._train(X, y, X_val, y_val, fit_params, reset=True, seed=restart,
                           restart=restart, resume=resume)

    def partial_fit(self, X, y, classes=None, X_val=None, y_val=None, **fit_params):
        """Continue training for ``max_epochs`` more epochs (initialising if needed).

        Parameters
        ----------
        X, y, X_val, y_val
            As in :meth:`fit`.
        classes : ignored
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        first = not getattr(self, "initialized_", False)
        return self._train(X, y, X_val, y_val, fit_params, reset=first, seed=first,
                           restart=first)

    def _train(self, X, y, X_val, y_val, fit_params, *, reset, seed, restart, resume=False):
        """Validate, then run skorch's training loop inside a forked, seeded RNG."""
        self._check_params()
        X, y = self._validate_training_data(X, y, reset=reset)
        self._set_validation_data(X_val, y_val)
        epochs = None
        if resume or self.checkpoint_dir is not None:
            validation = getattr(self, "_validation_data_", None) or (None, None)
            self._checkpoint_identity_ = self._checkpoint_identity(X, y, *validation)
        if resume:
            if self.checkpoint_dir is None:
                raise ValueError("fit(resume=True) needs checkpoint_dir to be set")
            self._resume_state_ = _training.load_checkpoint(
                self.checkpoint_dir, self._checkpoint_identity_)
            epochs = max(self._epochs_for_fit() - self._resume_state_["epochs"], 0)
        self._stop_reason_ = None
        self.kept_epoch_ = None
        self._fitting_ = True
        try:
            with self._seeded(), self._matmul_precision():
                if seed:
                    self._seed_everything()
                else:
                    self._restore_rng()
                if restart or resume:
                    self.initialize()
                fit_params = dict(
                    fit_params, epochs=self._epochs_for_fit() if epochs is None else epochs)
                try:
                    NeuralNet.partial_fit(self, X, y, **fit_params)
                finally:
                    self._save_rng()
        finally:
            self._validation_data_ = None
            self._resume_state_ = None
            self._fitting_ = False
        self.stop_reason_ = self._stop_reason_ or "max_epochs"
        self._record_epochs()
        if self.stop_reason_ == "interrupted":
            # skorch swallows Ctrl-C; pass it on (a grid search or a script should stop),
            # with the estimator already holding good weights.
            _training.warn_interrupted(self)
            raise KeyboardInterrupt
        elif self.stop_reason_ == "diverged":
            self._report_divergence()
        return self

    def _report_divergence(self) -> None:
        guard = dict(self.callbacks_)["training_guard"]
        name, epoch, value = guard.diverged_
        kept = (f"the weights of epoch {self.kept_epoch_} were restored"
                if self.kept_epoch_ is not None else "no epoch finished with a finite loss")
        message = (
            f"{type(self).__name__}: {name} became {value} in epoch {epoch}; training "
            f"stopped and {kept}. Try a lower lr (now {self.lr}) or check X and y for "
            "extreme values."
        )
        if self.on_divergence == "raise" or self.kept_epoch_ is None:
            raise TrainingDivergedError(
                message + " Pass on_divergence='restore' to keep the restored model "
                "without an error."
            )
        warnings.warn(message, UserWarning, stacklevel=3)

    def _checkpoint_identity(self, X, y, X_val, y_val) -> dict:
        """What must match between an interrupted fit and its resumption."""
        ignored = {"verbose", "max_epochs", "max_time", "callbacks", "device",
                   "checkpoint_dir", "checkpoint_every", "warm_start"}
        params = {
            name: repr(value) for name, value in self.get_params(deep=False).items()
            if name not in ignored
        }
        return {
            "estimator": type(self).__name__,
            "params": json.dumps(params, sort_keys=True),
            "data": _training.data_fingerprint(X, y, X_val, y_val),
        }

    def _save_rng(self) -> None:
        # The fit runs in a forked random state; keeping where it ended lets the next
        # partial_fit or warm-started fit continue the sequence instead of replaying it.
        # Kept as numpy bytes: a pickle of the estimator then holds no extra tensors.
        self._rng_state_ = {"torch": torch.get_rng_state().numpy().copy()}
        if str(self.device).startswith("cuda") and torch.cuda.is_available():
            self._rng_state_["cuda"] = torch.cuda.get_rng_state(self.device).numpy().copy()

    def _restore_rng(self) -> None:
        saved = getattr(self, "_rng_state_", None)
        if saved is None:
            return
        torch.set_rng_state(torch.from_numpy(saved["torch"]))
        if "cuda" in saved and str(self.device).startswith("cuda") and torch.cuda.is_available():
            torch.cuda.set_rng_state(torch.from_numpy(saved["cuda"]), self.device)

    def _seed_everything(self) -> None:
        seed = self.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self._split_seed_ = int(seed) % (2**32)
        torch.manual_seed(int(seed))

    def _set_validation_data(self, X_val, y_val) -> None:
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together")
        if X_val is None:
            self._validation_data_ = None
            return

        X_val = check_features(self, X_val, name="X_val", reset=False)
        y_val = check_target(y_val, n_samples=len(X_val), name="y_val", X_name="X_val")
        y_val = y_val.reshape(len(y_val), -1)
        if y_val.shape[1] != self.n_outputs_:
            raise ValueError(f"y_val has {y_val.shape[1]} targets, y has {self.n_outputs_}")
        self._validation_data_ = (X_val, y_val)

    def _record_epochs(self) -> None:
        history = self.history_
        self.n_epochs_ = len(history)
        self.best_epoch_ = None
        if len(history) and "valid_loss" in history[0]:
            losses = np.array(history[:, "valid_loss"], dtype=float)
            self.best_epoch_ = int(history[int(np.argmin(losses)), "epoch"])

    # -- prediction

    def predict(self, X):
        """Predict targets for ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs), float64
            1-D when the model was fitted on a 1-D ``y``.
        """

        self._check_fitted()
        X = check_features(self, X, reset=False)
        # Batches stay on the device and are copied to the host once, at the end.
        with self._matmul_precision():
            predictions = self.forward(X, training=False, device=self.device)
        # The network computes in float32; results are returned as float64 like
        # every scikit-learn regressor.
        predictions = predictions.cpu().numpy().astype(np.float64)
        return predictions.ravel() if self._y_is_1d_ else predictions

    @property
    def predict_proba(self):
        # A regressor has no probabilities; hasattr(model, "predict_proba") is False.
        raise AttributeError(f"{type(self).__name__} is a regressor and has no predict_proba")


# ---------------------------------------------------------------------------
# The published networks
# ---------------------------------------------------------------------------


class ElemNetRegressor(MatNetRegressor):
    """ElemNet (Jha et al., Sci. Rep. 2018): a 17-layer fully connected network.

    4,631,361 parameters with 86 inputs. Trained like the paper (Adam 1e-4,
    MAE loss, batch 32) with early stopping patience 200. All parameters are
    those of :class:`MatNetRegressor`; network settings go in ``module__*``
    (see :class:`skmatnet.nets.ElemNet`).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmatnet import ElementFractionTransformer, ElemNetRegressor
    >>> model = make_pipeline(ElementFractionTransformer(), ElemNetRegressor(max_epochs=50))
    """

    _test_module_params: ClassVar[dict] = dict(
        widths=(16, 16, 8, 4), dropout=(0.2, 0.1))

    _paper_patience: ClassVar[int] = 200

    def __init__(self, module=nets.ElemNet, **kwargs):
        super().__init__(module, **kwargs)


class IRNetRegressor(MatNetRegressor):
    """IRNet (Jha et al., KDD 2019): ElemNet's layers with BatchNorm and residual shortcuts.

    ``module__depth`` picks 17 (default, 5,433,697 parameters), 24 or 48
    layers; ``module__variant="concat"`` gives Tatis et al.'s concatenating
    form. Early stopping patience 200 as in the paper. Other parameters: see
    :class:`MatNetRegressor` and :class:`skmatnet.nets.IRNet`.
    """

    _test_module_params: ClassVar[dict] = dict(
        widths=(16, 16, 8, 4))

    _paper_patience: ClassVar[int] = 200

    def __init__(self, module=nets.IRNet, **kwargs):
        super().__init__(module, **kwargs)


class BRNetRegressor(MatNetRegressor):
    """BRNet (Gupta et al., SDM 2022): branched residual network, the best of the papers.

    Two branches read the raw input and merge by addition; 4,548,385
    parameters. Paper recipe: Adam 1e-4, MAE, batch 32, patience 100, at most
    3000 epochs. See :class:`MatNetRegressor` and :class:`skmatnet.nets.BRNet`.
    """

    _test_module_params: ClassVar[dict] = dict(
        stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2))

    def __init__(self, module=nets.BRNet, **kwargs):
        super().__init__(module, **kwargs)


class BNetRegressor(MatNetRegressor):
    """BNet (Gupta et al., SDM 2022): BRNet without its residual shortcuts.

    3,670,849 parameters; same recipe as :class:`BRNetRegressor`. See
    :class:`MatNetRegressor` and :class:`skmatnet.nets.BNet`.
    """

    _test_module_params: ClassVar[dict] = dict(
        stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2))

    def __init__(self, module=nets.BNet, **kwargs):
        super().__init__(module, **kwargs)


class FCMnRRegressor(MatNetRegressor):
    """FCMnR (Tatis et al., IEEE Big Data 2021): fully connected merge-and-run network.

    See :class:`skmatnet.nets.FCMnR` for the block structure and
    ``module__stream_width``; training parameters in :class:`MatNetRegressor`.
    """

    _test_module_params: ClassVar[dict] = dict(
        n_blocks=2, stream_width=8, stem_widths=(16, 16), entry_widths=(8, 4),
        block_widths=(16, 16), head_widths=(8, 4),
    )

    _paper_patience: ClassVar[int] = 200

    def __init__(self, module=nets.FCMnR, **kwargs):
        super().__init__(module, **kwargs)


class FCUNetRegressor(MatNetRegressor):
    """FCUNet (Tatis et al., IEEE Big Data 2021): fully connected U-Net with concatenating skips.

    See :class:`skmatnet.nets.FCUNet`; training parameters in
    :class:`MatNetRegressor`.
    """

    _test_module_params: ClassVar[dict] = dict(
        encoder_widths=((16, 16), (8,), (4,)), decoder_widths=((8,), (8, 4)))

    _paper_patience: ClassVar[int] = 200

    def __init__(self, module=nets.FCUNet, **kwargs):
        super().__init__(module, **kwargs)
