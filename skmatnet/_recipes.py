"""Training recipes: the recommended one (the estimator defaults) and the papers'.

A mixin for :class:`skmatnet._base.MatNetBase` (through
:class:`skmatnet._training.TrainingMixin`, which builds on it): the named
recipes, the epoch count of a fit, and the learning-rate schedule callback the
``lr_schedule`` parameter asks for. It needs one hook of the class that uses it,
:meth:`RecipeMixin._has_validation`. The measurements behind the recommended
defaults are in ``docs/estimators.md``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch
from skorch.callbacks import LRScheduler

from ._adaptive import AUTO, AUTO_PARAMETERS, recommended_settings, validation_fraction_for
from ._recipe_names import RECIPES
from .callbacks import SCHEDULE_SHAPES, LRSchedule
from .nets._blocks import KERAS_BN_MOMENTUM

__all__ = ["PAPER_RECIPE", "RECIPES", "RecipeMixin"]
#: The papers' training, shared by all six (ElemNet, IRNet, BRNet, Tatis et al.):
#: Adam at a constant 1e-4, batch 32, at most 3000 epochs, the published widths, early
#: stopping on a held-out validation set.
#: Early-stopping patience differs by paper and is set per estimator.
PAPER_RECIPE = {
    "optimizer": torch.optim.Adam,
    "lr": 1e-4,
    "batch_size": 32,
    "max_epochs": 3000,
    "lr_schedule": None,
    "warmup": 0.0,
    "average_weights": None,
    "width": 1.0,
    "bn_momentum": KERAS_BN_MOMENTUM,
    "validation_fraction": 0.1,
    "input_init": "glorot",
}
# iBRNet's ReduceLROnPlateau settings (Gupta et al., 2023).
_PLATEAU_DEFAULTS = {"factor": 0.1, "patience": 45, "min_lr": 1e-8}


class RecipeMixin(ABC):
    """``from_recipe``, the epochs of a fit and the schedule callback."""

    #: The papers' early-stopping patience for this network (ElemNet/IRNet: 200).
    _paper_patience: int = 100
    #: Recipe name -> parameters this network trains with instead of the recipe's.
    _recipe_overrides: dict = {}  # noqa: RUF012 - read only
    #: Parameters of one estimator kind that the papers' recipe sets (regressors: raw targets).
    _paper_settings: dict = {}  # noqa: RUF012 - read only

    #: What the estimator predicts: the recipe's rules differ by task.
    _task: str = "regression"
    #: Whether the rules lower this network's peak rate on large sets (its registry entry).
    _rate_falls_on_large_sets: bool = True
    #: Whether the rules lower a regressor's peak rate on few rows (its registry entry).
    _rate_falls_on_small_sets: bool = True

    @abstractmethod
    def _has_validation(self) -> bool:
        """Hook: whether this fit monitors a validation loss (the plateau schedule's)."""

    def _setting(self, name: str):
        """The value of parameter ``name`` this fit uses: the parameter, or the rules'
        choice (``effective_params_``) where it is ``"auto"``."""
        if not self._is_auto(name):
            return getattr(self, name)
        settings = getattr(self, "effective_params_", None)
        if settings is None:  # built outside a fit (initialize()): a large set's rules
            settings = self._large_set_settings()
        return settings[name]

    def _resolve_settings(self, n_rows: int, fixed_validation: bool, continuing: bool) -> None:
        """Set ``effective_params_``: the explicit parameters, the rules for the rest.

        A fit that starts a training run applies the rules to its ``n_rows`` rows
        (the validation share to all of them, the rest to the rows left for
        training); a continuation (``partial_fit``, a warm start) keeps what its
        run started with, so a stream of small chunks trains as one run.
        ``fixed_validation``: the fit was given ``X_val``, ``y_val``.
        """
        earlier = getattr(self, "effective_params_", None)
        if continuing and earlier:
            rules = dict(earlier)
        else:
            share = validation_fraction_for(n_rows, self._task)
            if not self._is_auto("validation_fraction"):
                share = self.validation_fraction
            held_out = 0 if fixed_validation or share is None else int(np.ceil(share * n_rows))
            # the pretrained network's shapes must match: its width
            width = self._pretrained_width() or (None if self._is_auto("width") else self.width)
            rules = {**recommended_settings(
                         n_rows - held_out, self._task,
                         rate_falls_on_large_sets=self._rate_falls_on_large_sets,
                         rate_falls_on_small_sets=self._rate_falls_on_small_sets,
                         fine_tuning=getattr(self, "init_from", None) is not None,
                         **({} if width is None else {"width": width})),
                     "validation_fraction": validation_fraction_for(n_rows, self._task)}
        settings = {name: rules[name] if self._is_auto(name) else getattr(self, name)
                    for name in AUTO_PARAMETERS}
        settings["max_epochs"] = self.max_epochs
        if self.max_epochs is None and self.max_time is None:
            settings["max_epochs"] = rules["max_epochs"]
        self.effective_params_ = settings

    def _is_auto(self, name: str) -> bool:
        value = getattr(self, name)
        return isinstance(value, str) and value == AUTO

    def _pretrained_width(self) -> float | None:
        """Hook: the width of the ``init_from`` network, ``None`` without one."""
        return None

    @classmethod
    def from_recipe(cls, recipe="recommended", **params):
        """An estimator trained by a named recipe; ``params`` override any of its settings.

        Parameters
        ----------
        recipe : {"recommended", "paper"}
            ``"recommended"``: the defaults of the signature. ``"paper"``: the
            published training exactly (Adam at a constant 1e-4, batch 32, at
            most 3000 epochs, the paper's early-stopping patience, the
            published layer widths, raw regression targets).
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
            settings = dict(PAPER_RECIPE, patience=cls._paper_patience, **cls._paper_settings)
        settings.update(cls._recipe_overrides.get(recipe, {}))
        settings.update(params)
        return cls(**settings)

    def _schedule_epochs(self) -> int | None:
        """Epochs of this fit's schedule; ``None`` where the time budget defines it."""
        if self.max_epochs is not None or self.max_time is not None:
            return self.max_epochs
        settings = getattr(self, "effective_params_", None)
        if settings is None:  # built outside a fit (initialize()): a large set's rules
            settings = self._large_set_settings()
        return settings["max_epochs"]

    def _large_set_settings(self) -> dict:
        return {**recommended_settings(None, self._task),
                "validation_fraction": validation_fraction_for(10**9, self._task)}

    def _epochs_for_fit(self) -> int:
        """The epoch count of one fit: ``max_epochs`` or the rules' schedule length, else
        as the time budget allows."""
        epochs = self._schedule_epochs()
        if epochs is not None:
            return int(epochs)
        return 10**9  # the time budget ends the fit

    def _lr_schedule_callback(self, resumed: bool):
        if self.lr_schedule is None:
            return None
        if self.lr_schedule in SCHEDULE_SHAPES:
            return LRSchedule(shape=self.lr_schedule, warmup=self.warmup,
                              max_epochs=self._schedule_epochs(),
                              max_time=self.max_time, resumed=resumed, lr=self._setting("lr"))
        if self.lr_schedule == "plateau":
            settings = dict(_PLATEAU_DEFAULTS)
        elif isinstance(self.lr_schedule, dict):
            settings = {**_PLATEAU_DEFAULTS, **self.lr_schedule}
        else:
            raise ValueError(
                "lr_schedule must be None, 'constant', 'cosine', 'onecycle', 'plateau' or "
                f"a dict, got {self.lr_schedule!r}"
            )
        return LRScheduler(policy=torch.optim.lr_scheduler.ReduceLROnPlateau,
                           monitor="valid_loss" if self._has_validation() else "train_loss",
                           **settings)
