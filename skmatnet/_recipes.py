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

import torch
from skorch.callbacks import LRScheduler

from ._recipe_names import RECIPES
from .callbacks import SCHEDULE_SHAPES, LRSchedule
from .nets._blocks import KERAS_BN_MOMENTUM

__all__ = ["DEFAULT_SCHEDULE_EPOCHS", "PAPER_RECIPE", "RECIPES", "RecipeMixin"]

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
    "bn_momentum": KERAS_BN_MOMENTUM,
}
# iBRNet's ReduceLROnPlateau settings (Gupta et al., 2023).
_PLATEAU_DEFAULTS = {"factor": 0.1, "patience": 45, "min_lr": 1e-8}


class RecipeMixin(ABC):
    """``from_recipe``, the epochs of a fit and the schedule callback."""

    #: The papers' early-stopping patience for this network (ElemNet/IRNet: 200).
    _paper_patience: int = 100
    #: Recipe name -> parameters this network trains with instead of the recipe's.
    _recipe_overrides: dict = {}  # noqa: RUF012 - read only

    @abstractmethod
    def _has_validation(self) -> bool:
        """Hook: whether this fit monitors a validation loss (the plateau schedule's)."""

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
        settings.update(cls._recipe_overrides.get(recipe, {}))
        settings.update(params)
        return cls(**settings)

    def _epochs_for_fit(self) -> int:
        """The epoch count of one fit: ``max_epochs``, else as the time budget allows."""
        if self.max_epochs is not None:
            return int(self.max_epochs)
        if self.max_time is not None:
            return 10**9  # the time budget ends the fit
        return DEFAULT_SCHEDULE_EPOCHS

    def _lr_schedule_callback(self, resumed: bool):
        if self.lr_schedule is None:
            return None
        if self.lr_schedule in SCHEDULE_SHAPES:
            epochs = self.max_epochs
            if epochs is None and self.max_time is None:
                epochs = DEFAULT_SCHEDULE_EPOCHS
            return LRSchedule(shape=self.lr_schedule, warmup=self.warmup, max_epochs=epochs,
                              max_time=self.max_time, resumed=resumed)
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
