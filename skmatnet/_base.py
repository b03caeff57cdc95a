"""What every skmatnet estimator shares, whatever it predicts.

:class:`MatNetBase` stores the parameters of the recommended recipe, validates
them declaratively, builds the network from ``n_features_in_`` and
``n_outputs_``, and runs the network over a feature matrix. The regressors
(:mod:`skmatnet.estimators`) and the classifiers (:mod:`skmatnet.classifiers`)
each add only how their targets are checked (the abstract :meth:`MatNetBase._check_y`),
the loss and what ``predict`` returns; fitting, recipes, the fast data path, the
device and fine-tuning come from the mixins of :mod:`skmatnet._training` (on
:mod:`skmatnet._recipes` and :mod:`skmatnet._device`), :mod:`skmatnet._fast_path`
and :mod:`skmatnet._pretrained`.

The mixins depend one way: each declares the methods it needs from the others
as abstract hooks, and a class later in the chain implements them
(``TrainingMixin`` those of ``RecipeMixin`` and ``FastPathMixin``, this class
those of ``TrainingMixin``), so no mixin calls up into one that uses it.
"""

from __future__ import annotations

import numbers
import os
from abc import abstractmethod

import numpy as np
import torch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.utils import data_from_dataset, is_skorch_dataset

from ._adaptive import AUTO
from ._fast_path import FastPathMixin
from ._networks import network_kwargs
from ._pretrained import PretrainedMixin
from ._recipes import PAPER_RECIPE
from ._training import TrainingMixin
from ._validation import check_features
from .callbacks import SCHEDULE_SHAPES
from .elements import N_ELEMENTS, element_descriptors
from .nets import element_informed_init_

__all__ = ["MatNetBase"]

_PREDICT_BATCH_SIZE = 4096
_POSITIVE_INT = Interval(numbers.Integral, 1, None, closed="left")
_POSITIVE_REAL = Interval(numbers.Real, 0, None, closed="neither")


class _ConstraintsOf:
    """The ``_parameter_constraints`` a class declares, completed for an instance.

    On the class it is the declared dict, which a subclass extends with
    ``{**Base._parameter_constraints, ...}`` as in scikit-learn. On an estimator it
    adds ``"no_validation"`` for every other parameter (skorch's own and the
    prefixed ``module__*``, ``iterator_*``, which torch and skorch check
    themselves): scikit-learn's ``check_param_validation`` wants a constraint
    for each parameter.
    """

    def __init__(self, declared: dict):
        self.declared = declared

    def __get__(self, instance, owner=None) -> dict:
        if instance is None:
            return self.declared
        names = instance.get_params(deep=False)
        return {**dict.fromkeys(names, "no_validation"), **self.declared}


class MatNetBase(TrainingMixin, FastPathMixin, PretrainedMixin):
    """The parameters, validation and network of every skmatnet estimator.

    Concrete bases put a skorch ``NeuralNet`` subclass after it
    (``MatNetRegressor(MatNetBase, NeuralNetRegressor)``) and implement
    :meth:`_check_y`, which validates targets and says how many network outputs
    they need.
    """

    #: Declarative checks of the estimator's own parameters (skorch's are not validated
    #: here); a kind adds its own with ``{**MatNetBase._parameter_constraints, ...}``.
    _parameter_constraints: dict = {  # noqa: RUF012 - scikit-learn's declaration
        "module": [type, torch.nn.Module],
        "criterion": [callable],
        "optimizer": [callable],
        "lr": [_POSITIVE_REAL, StrOptions({AUTO})],
        "max_epochs": [_POSITIVE_INT, None],
        "batch_size": [_POSITIVE_INT, StrOptions({AUTO})],
        "patience": [_POSITIVE_INT, None],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="neither"), None,
                                StrOptions({AUTO})],
        "lr_schedule": [StrOptions({*SCHEDULE_SHAPES, "plateau"}), dict, None],
        "warmup": [Interval(numbers.Real, 0, 1, closed="left")],
        "average_weights": [Interval(numbers.Real, 0, 1, closed="left"), None,
                            StrOptions({AUTO})],
        "width": [_POSITIVE_REAL, StrOptions({AUTO})],
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
        "init_from": [str, os.PathLike, HasMethods(["predict"]), None],
        "freeze_layers": [Interval(numbers.Integral, 0, None, closed="left")],
        "reset_output": ["boolean"],
        "input_init": [StrOptions({"elements", "glorot"})],
    }
    #: The papers' early-stopping patience, recipe adjustments and tiny network settings:
    #: each concrete class's from its registry entry (skmatnet._factory).
    _paper_patience: int = 100
    _recipe_overrides: dict = {}  # noqa: RUF012 - read only
    _test_module_params: dict = {}  # noqa: RUF012 - read only
    #: The test settings' rate (``_get_test_params``).
    _test_lr: float = 3e-3

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared = cls.__dict__.get("_parameter_constraints")
        if isinstance(declared, dict):
            cls._parameter_constraints = _ConstraintsOf(declared)

    def __init__(
        self,
        module,
        *,
        criterion,
        optimizer=torch.optim.AdamW,
        lr=AUTO,
        max_epochs=None,
        batch_size=AUTO,
        patience=None,
        validation_fraction=AUTO,
        lr_schedule="cosine",
        warmup=0.05,
        average_weights=AUTO,
        width=AUTO,
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
        init_from=None,
        freeze_layers=0,
        reset_output=False,
        input_init="elements",
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
        self.average_weights = average_weights
        self.width = width
        self.bn_momentum = bn_momentum
        self.random_state = random_state
        self.max_time = max_time
        self.on_divergence = on_divergence
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.precision = precision
        self.fast_path = fast_path
        self.init_from = init_from
        self.freeze_layers = freeze_layers
        self.reset_output = reset_output
        self.input_init = input_init

    # -- parameters

    def get_params(self, deep=True, **kwargs):
        params = super().get_params(deep=deep, **kwargs)
        params["device"] = self.__dict__.get("device")
        params.pop("train_split", None)
        if self._in_fit():
            # skorch's callbacks read settings here (ProgressBar the batch size): during a
            # fit they see the values it uses where the parameter is "auto".
            params.update({name: value for name, value in self.effective_params_.items()
                           if name in params and self._is_auto(name)})
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

    def get_params_for(self, prefix):
        params = super().get_params_for(prefix)
        if prefix in ("iterator_train", "iterator_valid") and "batch_size" not in params:
            params["batch_size"] = self._setting("batch_size")  # skorch reads it here
        return params

    def get_params_for_optimizer(self, prefix, named_parameters):
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        if kwargs.get("lr") == AUTO:
            kwargs["lr"] = self._setting("lr")
        return args, self._with_fused_adam(kwargs)

    def _pretrained_width(self) -> float | None:
        if self.init_from is None or not self._is_auto("width"):
            return None
        return self._pretrained_network().width

    def _get_param_names(self):
        # skorch keeps private bookkeeping (_params_to_validate) in __dict__ too.
        return [
            name for name in super()._get_param_names()
            if name != "train_split" and not name.startswith("_")
        ]

    # -- sklearn metadata

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.non_deterministic = self.random_state is None
        return tags

    @classmethod
    def _get_test_params(cls) -> dict:
        """Small, fast settings for the test suite (sktime-style).

        The paper recipe, shortened: its constant rate keeps a fit of k epochs equal to
        the first k epochs of a longer one, which the fault-handling tests rely on; the
        schedules have tests of their own. Batch-norm statistics at torch's momentum (the
        recommended recipe's): Keras' 0.01 lags far behind the weights in 20 short epochs.
        """
        params = {**PAPER_RECIPE, "patience": cls._paper_patience, "max_epochs": 20,
                  "batch_size": 16, "random_state": 0, "lr": cls._test_lr, "device": "cpu",
                  "bn_momentum": 0.1}
        params.update(cls._recipe_overrides.get("paper", {}))
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
        return X, self._check_y(y, n_samples=len(X), name="y", X_name="X", reset=reset)

    def _validation_data(self, X_val, y_val):
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val must be given together")
        if X_val is None:
            return None
        X_val = check_features(self, X_val, name="X_val", reset=False)
        return X_val, self._check_y(y_val, n_samples=len(X_val), name="y_val", X_name="X_val",
                                    reset=False)

    @abstractmethod
    def _check_y(self, y, *, n_samples: int, name: str, X_name: str, reset: bool) -> np.ndarray:
        """Validated training targets as the loss reads them; sets ``n_outputs_`` when
        ``reset`` (the first fit), else checks ``y`` against the fitted model."""

    def __sklearn_is_fitted__(self):
        return bool(getattr(self, "initialized_", False)) and hasattr(self, "n_outputs_")

    # -- the network and the callbacks of a fit

    def initialize_module(self):
        kwargs = self.get_params_for("module")
        if isinstance(self.module, torch.nn.Module) and not kwargs:
            self.module_ = self.module
            return self
        kwargs = {**self._inherited_module_params(kwargs), **kwargs}
        kwargs = network_kwargs(self.module, kwargs, n_features=self.n_features_in_,
                                n_outputs=self.n_outputs_, width=self._setting("width"),
                                bn_momentum=self.bn_momentum)
        self.module_ = self.initialized_instance(self.module, kwargs)
        if self.init_from is not None and self._in_fit():
            # only when training starts: a loaded model holds its own weights already
            self._load_pretrained()
        elif self.freeze_layers and self._in_fit():
            raise ValueError("freeze_layers freezes pretrained layers: it needs init_from")
        elif self.input_init == "elements" and self.n_features_in_ == N_ELEMENTS:
            element_informed_init_(self.module_, torch.from_numpy(element_descriptors()))
        return self

    def _inherited_module_params(self, own: dict) -> dict:
        """The network settings fine-tuning takes from the pretrained network (those not set
        here), kept as the fitted ``pretrained_module_params_``: a loaded or re-initialised
        model builds the same network."""
        if not self._in_fit():
            return getattr(self, "pretrained_module_params_", {})
        inherited = {key: value for key, value in self._pretrained_module_params().items()
                     if key not in own}
        self.__dict__.pop("pretrained_module_params_", None)
        if inherited:
            self.pretrained_module_params_ = inherited
        return inherited

    # -- targets as the network learns them (the regressors standardise theirs in the loss)

    def _fit_target_encoding(self, y) -> None:
        """Learn how this training run encodes its targets: as they are, here."""
        self.__dict__.pop("_inherited_target_encoding", None)  # set by _load_pretrained

    def _recorded_loss(self, y_pred, y_true):
        from skorch.utils import to_tensor

        with torch.no_grad():
            return self.get_loss(y_pred, to_tensor(y_true, device=y_pred.device),
                                 training=False).detach()

    # -- prediction

    def _network_output(self, X) -> np.ndarray:
        """The network's raw output for ``X`` (validated), as float64 of shape (n, n_outputs).

        ``X`` may be a skorch ``Dataset`` or a ``Subset`` of one, whose rows are used: that
        is how skorch's scoring callbacks pass a fit's validation (or training) rows, with
        the epoch's outputs cached in place of ``forward_iter``.
        """
        check_is_fitted(self)
        if is_skorch_dataset(X):
            X = data_from_dataset(X)[0]
        X = check_features(self, X, reset=False)
        # Batches stay on the device and are copied to the host once, at the end.
        with self._matmul_precision():
            output = self.forward(X, training=False, device=self.device)
        # The network computes in float32; results are float64, as scikit-learn's are.
        return output.cpu().numpy().astype(np.float64)


MatNetBase._parameter_constraints = _ConstraintsOf(MatNetBase.__dict__["_parameter_constraints"])
