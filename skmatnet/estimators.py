"""scikit-learn regressors over the networks of :mod:`skmatnet.nets`, built on skorch.

:class:`MatNetRegressor` holds what the estimators share: input validation, the
training recipe, the callbacks that guard a fit, and prediction. The fast data
path (:mod:`skmatnet._fast_path`), device, precision and random state
(:mod:`skmatnet._device`) and the callbacks (:mod:`skmatnet.callbacks`) live
in modules of their own. Each concrete estimator only names its network.
"""

from __future__ import annotations

import inspect
import numbers
import os
from typing import ClassVar

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNetRegressor

from . import nets
from ._device import DeviceMixin
from ._estimator_docs import document_estimator, with_shared_sections
from ._fast_path import FastPathMixin
from ._recipes import PAPER_RECIPE, RecipeMixin
from ._registry import estimator_names
from ._training import TrainingMixin
from ._validation import check_features, check_target
from .callbacks import SCHEDULE_SHAPES
from .exceptions import CheckpointError, TrainingDivergedError

__all__ = [
    "CheckpointError",
    "MatNetRegressor",
    "TrainingDivergedError",
    *estimator_names("regressor"),
]

_PREDICT_BATCH_SIZE = 4096
_POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
_POSITIVE_REAL = Interval(numbers.Real, 0, None, closed="neither")
#: Declarative checks of the estimator's own parameters (skorch's are not validated here).
_PARAMETER_CONSTRAINTS: dict[str, list] = {
    "module": [type, torch.nn.Module],
    "criterion": [callable],
    "optimizer": [callable],
    "lr": [_POSITIVE_REAL],
    "max_epochs": [_POSITIVE_INT, None],
    "batch_size": [_POSITIVE_INT],
    "patience": [_POSITIVE_INT, None],
    "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None],
    "lr_schedule": [StrOptions({*SCHEDULE_SHAPES, "plateau"}), dict, None],
    "warmup": [Interval(numbers.Real, 0, 1, closed="left")],
    "width": [_POSITIVE_REAL],
    "bn_momentum": [Interval(numbers.Real, 0, 1, closed="right")],
    "random_state": [Interval(numbers.Integral, None, None, closed="neither"), None],
    "device": [str, torch.device],
    "verbose": ["verbose"],
    "max_time": [_POSITIVE_REAL, None],
    "on_divergence": [StrOptions({"raise", "restore"})],
    "checkpoint_dir": [str, os.PathLike, None],
    "checkpoint_every": [_POSITIVE_INT],
    "precision": [StrOptions({"float32", "tf32", "bf16"})],
    "fast_path": ["boolean"],
}


class MatNetRegressor(TrainingMixin, RecipeMixin, FastPathMixin, DeviceMixin,
                      NeuralNetRegressor):
    """Base class of the skmatnet regressors: a skorch ``NeuralNetRegressor``
    with scikit-learn input validation and a training recipe that converges in minutes.

    The defaults are the *recommended recipe*: AdamW at 4e-3, batch 256, a cosine
    schedule with a 5% warm-up over 100 epochs (or over ``max_time`` seconds),
    half-width networks. On JARVIS formation energy it reaches the papers'
    60-minute error in a few minutes on one CPU thread (``docs/performance.md``).
    ``from_recipe("paper")`` gives the papers' training exactly.
    """

    def __init__(
        self,
        module,
        *,
        criterion=torch.nn.L1Loss,
        optimizer=torch.optim.AdamW,
        lr=4e-3,
        max_epochs=None,
        batch_size=256,
        patience=None,
        validation_fraction=0.1,
        lr_schedule="cosine",
        warmup=0.05,
        width=0.5,
        bn_momentum=0.1,
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
            # Resolved per fit (see _epochs_for_fit), which always passes the epoch count.
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
        self.bn_momentum = bn_momentum
        self.random_state = random_state
        self.max_time = max_time
        self.on_divergence = on_divergence
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.precision = precision
        self.fast_path = fast_path

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        document_estimator(cls, MatNetRegressor.__init__)

    # -- parameters

    @property
    def _parameter_constraints(self) -> dict:
        # skorch's own and the prefixed (module__*, iterator_*) parameters are passed on
        # to torch and skorch, which check them.
        names = self.get_params(deep=False)
        return {**dict.fromkeys(names, "no_validation"), **_PARAMETER_CONSTRAINTS}

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

        The paper recipe, shortened: its constant rate keeps a fit of k epochs equal to
        the first k epochs of a longer one, which the fault-handling tests rely on; the
        schedules have tests of their own.
        """
        params = {**PAPER_RECIPE, "patience": cls._paper_patience, "max_epochs": 20,
                  "batch_size": 16, "random_state": 0, "lr": 3e-3, "device": "cpu"}
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

    def _validation_data(self, X_val, y_val):
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together")
        if X_val is None:
            return None
        X_val = check_features(self, X_val, name="X_val", reset=False)
        y_val = check_target(y_val, n_samples=len(X_val), name="y_val", X_name="X_val")
        y_val = y_val.reshape(len(y_val), -1)
        if y_val.shape[1] != self.n_outputs_:
            raise ValueError(f"y_val has {y_val.shape[1]} targets, y has {self.n_outputs_}")
        return X_val, y_val

    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_outputs_")

    # -- the network and the callbacks of a fit

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        if isinstance(self.module, torch.nn.Module) and not kwargs:
            self.module_ = self.module
            return self
        kwargs.setdefault("n_features", self.n_features_in_)
        kwargs.setdefault("n_outputs", self.n_outputs_)
        if self.width != 1.0:
            kwargs.setdefault("width_multiplier", self.width)
        if "bn_momentum" in inspect.signature(self.module).parameters:
            kwargs.setdefault("bn_momentum", self.bn_momentum)  # networks with batch norm
        self.module_ = self.initialized_instance(self.module, kwargs)
        return self

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
        check_is_fitted(self)
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




class ElemNetRegressor(MatNetRegressor):
    """ElemNet (Jha et al., Sci. Rep. 2018): a 17-layer fully connected network.

    4,631,361 parameters at ``width=1.0`` with 86 inputs. Paper recipe
    (``from_recipe("paper")``): Adam 1e-4, batch 32, early stopping patience
    200. Network settings go in ``module__*`` (see :class:`skmatnet.nets.ElemNet`).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmatnet import ElementFractionTransformer, ElemNetRegressor
    >>> model = make_pipeline(ElementFractionTransformer(), ElemNetRegressor(max_time=120))
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        widths=(16, 16, 8, 4), dropout=(0.2, 0.1))

    def __init__(self, module=nets.ElemNet, **kwargs):
        super().__init__(module, **kwargs)


class IRNetRegressor(MatNetRegressor):
    """IRNet (Jha et al., KDD 2019): ElemNet's layers with BatchNorm and residual shortcuts.

    ``module__depth`` picks 17 (default, 5,433,697 parameters at ``width=1.0``),
    24 or 48 layers; ``module__variant="concat"`` gives Tatis et al.'s
    concatenating form. Paper recipe: Adam 1e-4, batch 32, patience 200. See
    :class:`skmatnet.nets.IRNet`.
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        widths=(16, 16, 8, 4))

    def __init__(self, module=nets.IRNet, **kwargs):
        super().__init__(module, **kwargs)


class BRNetRegressor(MatNetRegressor):
    """BRNet (Gupta et al., SDM 2022): branched residual network, the best of the papers.

    Two branches read the raw input and merge by addition; 4,548,385
    parameters at ``width=1.0`` (1,227,665 at the default 0.5). Paper recipe:
    Adam 1e-4, batch 32, patience 100, at most 3000 epochs. See
    :class:`skmatnet.nets.BRNet`.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmatnet import ElementFractionTransformer, BRNetRegressor
    >>> model = make_pipeline(ElementFractionTransformer(), BRNetRegressor(max_time=150))
    >>> paper = make_pipeline(ElementFractionTransformer(), BRNetRegressor.from_recipe("paper"))
    """

    _test_module_params: ClassVar[dict] = dict(
        stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2))

    def __init__(self, module=nets.BRNet, **kwargs):
        super().__init__(module, **kwargs)


class BNetRegressor(MatNetRegressor):
    """BNet (Gupta et al., SDM 2022): BRNet without its residual shortcuts.

    3,670,849 parameters at ``width=1.0``; paper recipe as
    :class:`BRNetRegressor`'s. See :class:`skmatnet.nets.BNet`.
    """

    _test_module_params: ClassVar[dict] = dict(
        stage_widths=(16, 8, 4), stage_layers=(2, 2, 1), branch_layers=(2, 2))

    def __init__(self, module=nets.BNet, **kwargs):
        super().__init__(module, **kwargs)


class FCMnRRegressor(MatNetRegressor):
    """FCMnR (Tatis et al., IEEE Big Data 2021): fully connected merge-and-run network.

    See :class:`skmatnet.nets.FCMnR` for the block structure and
    ``module__stream_width``. Paper recipe: Adam 1e-4, batch 32, patience 200.
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        n_blocks=2, stream_width=8, stem_widths=(16, 16), entry_widths=(8, 4),
        block_widths=(16, 16), head_widths=(8, 4),
    )

    def __init__(self, module=nets.FCMnR, **kwargs):
        super().__init__(module, **kwargs)


class FCUNetRegressor(MatNetRegressor):
    """FCUNet (Tatis et al., IEEE Big Data 2021): fully connected U-Net with concatenating skips.

    See :class:`skmatnet.nets.FCUNet`. Paper recipe: Adam 1e-4, batch 32,
    patience 200.
    """

    _paper_patience: ClassVar[int] = 200
    _test_module_params: ClassVar[dict] = dict(
        encoder_widths=((16, 16), (8,), (4,)), decoder_widths=((8,), (8, 4)))

    def __init__(self, module=nets.FCUNet, **kwargs):
        super().__init__(module, **kwargs)


MatNetRegressor.__doc__ = with_shared_sections(MatNetRegressor.__doc__)
