"""scikit-learn regressors over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetRegressor` holds everything the estimators share: input
validation, the papers' training recipe, device selection, seeding and
persistence. Each concrete estimator only names its network and its defaults.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import validate_data
from skorch import NeuralNet, NeuralNetRegressor
from skorch.callbacks import EarlyStopping, LRScheduler
from skorch.dataset import Dataset, ValidSplit
from torch.utils.data import DataLoader

from . import nets

__all__ = [
    "BNetRegressor",
    "BRNetRegressor",
    "ElemNetRegressor",
    "FCMnRRegressor",
    "FCUNetRegressor",
    "IRNetRegressor",
    "MatNetRegressor",
]

# iBRNet's ReduceLROnPlateau settings (Gupta et al., 2023).
_PLATEAU_DEFAULTS = {"factor": 0.1, "patience": 45, "min_lr": 1e-8}
_PREDICT_BATCH_SIZE = 4096


def resolve_device(device: Any) -> Any:
    """Map ``"auto"`` to ``"cuda"`` when a GPU is usable, else ``"cpu"``."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class _TensorBatches:
    """Mini-batches sliced from whole tensors, replacing skorch's per-row DataLoader.

    The arrays are converted (and moved to the device) once; each epoch draws
    one permutation from torch's random state, so seeding stays reproducible.
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor | None, batch_size: int, shuffle: bool):
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.shuffle = shuffle

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __iter__(self):
        n, size = len(self.X), self.batch_size
        if not self.shuffle:
            for start in range(0, n, size):
                stop = start + size
                yield self.X[start:stop], None if self.y is None else self.y[start:stop]
            return
        order = torch.randperm(n).to(self.X.device)
        for start in range(0, n, size):
            index = order[start:start + size]
            yield self.X[index], None if self.y is None else self.y[index]


def _dataset_arrays(dataset) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The (X, y) arrays behind a skorch Dataset or a Subset of one, if plain arrays."""
    indices = None
    if isinstance(dataset, torch.utils.data.Subset):
        dataset, indices = dataset.dataset, np.asarray(dataset.indices)
    if not isinstance(dataset, Dataset) or not isinstance(dataset.X, np.ndarray):
        return None
    X, y = dataset.X, dataset.y
    if y is not None and not isinstance(y, np.ndarray):
        return None
    if indices is not None:
        X, y = X[indices], None if y is None else y[indices]
    return X, y


class MatNetRegressor(NeuralNetRegressor):
    """Base class of the skmatnet regressors: a skorch ``NeuralNetRegressor``
    with scikit-learn input validation and the papers' training recipe.

    Parameters
    ----------
    module : torch.nn.Module class or instance
        The network. As a class it is built in ``fit`` with the ``module__*``
        parameters plus ``n_features`` (from ``X``) and ``n_outputs`` (from
        ``y``), so widths can be tuned with e.g. ``module__widths``.
    criterion : torch loss class, default=torch.nn.L1Loss
        Mean absolute error, as in the papers.
    optimizer : torch optimizer class, default=torch.optim.Adam
        Further settings as ``optimizer__*`` (e.g. ``optimizer__weight_decay``).
    lr : float, default=1e-4
        Learning rate (all papers use Adam with 1e-4).
    max_epochs : int, default=3000
        Epoch limit (BRNet's code: 3000). Training normally ends earlier by
        early stopping; lower it for quick experiments.
    batch_size : int, default=32
        Training batch size (the papers' 32). Prediction uses batches of 4096
        (``iterator_valid__batch_size``), which only changes speed.
    patience : int or None, default=100
        Early stopping: stop after this many epochs without a lower validation
        loss and restore the weights of the best epoch. ``None`` disables early
        stopping. BRNet/BNet use 100, ElemNet/IRNet 200.
    validation_fraction : float or None, default=0.1
        Fraction of the training rows held out, by a shuffled random split, to
        monitor the validation loss for early stopping and the LR schedule.
        ``None`` trains on all rows for ``max_epochs``. A fixed validation set
        can instead be passed to :meth:`fit` as ``X_val``, ``y_val``.
    lr_schedule : None, "plateau" or dict, default=None
        ``"plateau"`` reduces the learning rate by 10x when the validation loss
        stalls for 45 epochs, down to 1e-8 (the iBRNet recipe); a dict
        overrides those ``ReduceLROnPlateau`` settings. ``None`` keeps a
        constant rate, as in BRNet, ElemNet and IRNet.
    random_state : int or None, default=None
        Seeds weight initialisation, batch shuffling, dropout and the
        validation split, so two fits on the same CPU give identical models.
        The global torch random state is left untouched.
    device : str or torch.device, default="auto"
        ``"auto"`` trains on CUDA when available, else on the CPU. A model
        pickled on a GPU loads and predicts on a machine without one.
    verbose : int, default=0
        0 is silent; 1 prints skorch's per-epoch table (losses, duration).
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
    """

    def __init__(
        self,
        module,
        *,
        criterion=torch.nn.L1Loss,
        optimizer=torch.optim.Adam,
        lr=1e-4,
        max_epochs=3000,
        batch_size=32,
        patience=100,
        validation_fraction=0.1,
        lr_schedule=None,
        random_state=None,
        device="auto",
        verbose=0,
        **kwargs,
    ):
        kwargs.setdefault("iterator_train__shuffle", True)
        kwargs.setdefault("iterator_valid__batch_size", _PREDICT_BATCH_SIZE)
        super().__init__(
            module,
            criterion=criterion,
            optimizer=optimizer,
            lr=lr,
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
        self.random_state = random_state

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
        """Small, fast settings for the test suite (sktime-style)."""
        params = {"max_epochs": 20, "batch_size": 16, "random_state": 0, "lr": 3e-3,
                  "device": "cpu"}
        params.update({f"module__{k}": v for k, v in cls._test_module_params.items()})
        return params

    # -- validation

    def _validate_training_data(self, X, y, *, reset: bool):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None"
            )
        X, y = validate_data(
            self, X, y, reset=reset, dtype=np.float32, multi_output=True, y_numeric=True
        )
        y = np.asarray(y, dtype=np.float32)
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
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
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

    def get_default_callbacks(self):
        callbacks = list(super().get_default_callbacks())
        monitor = "valid_loss" if self._has_validation() else "train_loss"
        if self.patience is not None and self._has_validation():
            callbacks.append((
                "early_stopping",
                EarlyStopping(
                    monitor="valid_loss",
                    patience=self.patience,
                    threshold=0.0,
                    threshold_mode="abs",
                    load_best=True,
                    sink=print,
                ),
            ))
        if self.lr_schedule is not None:
            if self.lr_schedule == "plateau":
                settings = dict(_PLATEAU_DEFAULTS)
            elif isinstance(self.lr_schedule, dict):
                settings = {**_PLATEAU_DEFAULTS, **self.lr_schedule}
            else:
                raise ValueError(
                    f"lr_schedule must be None, 'plateau' or a dict, got {self.lr_schedule!r}"
                )
            callbacks.append((
                "lr_scheduler",
                LRScheduler(
                    policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                    monitor=monitor,
                    **settings,
                ),
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
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not (isinstance(self.lr, (float, int)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")

    def get_iterator(self, dataset, training=False):
        """Batches by slicing whole tensors; skorch's DataLoader for anything else."""
        params = self.get_params_for("iterator_train" if training else "iterator_valid")
        custom = (self.iterator_train if training else self.iterator_valid) is not DataLoader
        cache = getattr(dataset, "_skmatnet_tensors", None)
        if cache is None or cache[0] != str(self.device):
            arrays = None if custom else _dataset_arrays(dataset)
            if arrays is None:
                return super().get_iterator(dataset, training=training)
            with warnings.catch_warnings():
                # Read-only arrays (pandas copy-on-write) are shared, never written to.
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                X, y = (None if a is None else torch.as_tensor(a).to(self.device) for a in arrays)
            cache = (str(self.device), X, y)
            dataset._skmatnet_tensors = cache
        batch_size = params.get("batch_size", self.batch_size)
        if batch_size == -1:
            batch_size = len(cache[1])
        shuffle = bool(params.get("shuffle", False)) and training
        return _TensorBatches(cache[1], cache[2], batch_size, shuffle)

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

    def fit(self, X, y, X_val=None, y_val=None, **fit_params):
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
        **fit_params
            Passed to the module's ``forward``.

        Returns
        -------
        self
        """
        restart = not self.warm_start or not self.initialized_
        return self._train(X, y, X_val, y_val, fit_params, reset=True, seed=True,
                           restart=restart)

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

    def _train(self, X, y, X_val, y_val, fit_params, *, reset, seed, restart):
        """Validate, then run skorch's training loop inside a forked, seeded RNG."""
        self._check_params()
        X, y = self._validate_training_data(X, y, reset=reset)
        self._set_validation_data(X_val, y_val)
        try:
            with self._seeded():
                if seed:
                    self._seed_everything()
                if restart:
                    self.initialize()
                NeuralNet.partial_fit(self, X, y, **fit_params)
        finally:
            self._validation_data_ = None
        self._record_epochs()
        return self

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
        X_val, y_val = validate_data(
            self, X_val, y_val, reset=False, dtype=np.float32, multi_output=True,
            y_numeric=True,
        )
        y_val = np.asarray(y_val, dtype=np.float32).reshape(len(y_val), -1)
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
        X = validate_data(self, X, reset=False, dtype=np.float32)
        # The network computes in float32; results are returned as float64 like
        # every scikit-learn regressor.
        predictions = np.asarray(NeuralNet.predict_proba(self, X), dtype=np.float64)
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

    def __init__(self, module=nets.ElemNet, **kwargs):
        kwargs.setdefault("patience", 200)
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

    def __init__(self, module=nets.IRNet, **kwargs):
        kwargs.setdefault("patience", 200)
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
        n_blocks=2, stream_width=4, stem_widths=(16, 16), entry_widths=(8, 4),
        block_widths=(16, 8), head_widths=(8, 4),
    )

    def __init__(self, module=nets.FCMnR, **kwargs):
        kwargs.setdefault("patience", 200)
        super().__init__(module, **kwargs)


class FCUNetRegressor(MatNetRegressor):
    """FCUNet (Tatis et al., IEEE Big Data 2021): fully connected U-Net with concatenating skips.

    See :class:`skmatnet.nets.FCUNet`; training parameters in
    :class:`MatNetRegressor`.
    """

    _test_module_params: ClassVar[dict] = dict(
        encoder_widths=((16, 16), (8,), (4,)), decoder_widths=((8,), (8, 4)))

    def __init__(self, module=nets.FCUNet, **kwargs):
        kwargs.setdefault("patience", 200)
        super().__init__(module, **kwargs)
