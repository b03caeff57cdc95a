"""Fitting: skorch's training loop run inside a seeded random state, with the guards.

A mixin for :class:`skmatnet._base.MatNetBase`, built on the recipes
(:class:`~skmatnet._recipes.RecipeMixin`) and the device and random state
(:class:`~skmatnet._device.DeviceMixin`) it uses, whose hooks it implements
(``_has_validation``; ``_in_fit`` of :class:`~skmatnet._fast_path.FastPathMixin`).
Its own hooks, implemented by ``MatNetBase``: ``_validate_training_data``,
``_validation_data`` and the ``_parameter_constraints`` attribute.
``fit``, ``partial_fit`` and ``resume`` validate their input,
assemble the callbacks of the fit (divergence and time guards, early stopping,
weight averaging, the schedule, checkpoints), run skorch's ``partial_fit`` and report how the fit
ended (``stop_reason_``), passing a Ctrl-C on once good weights are in place.
"""

from __future__ import annotations

import json
import warnings
from abc import abstractmethod
from dataclasses import dataclass

import numpy as np
from sklearn.utils._param_validation import validate_parameter_constraints
from skorch import NeuralNet
from skorch.callbacks import LRScheduler
from skorch.dataset import ValidSplit

from ._device import DeviceMixin
from ._recipes import RecipeMixin
from .callbacks.averaging import WeightAveraging
from .callbacks.checkpoint import Checkpointer, data_fingerprint, load_checkpoint
from .callbacks.guards import DivergenceGuard, KeepGoodWeights, StoppingEarly, TimeBudget
from .exceptions import DivergenceRestoredWarning, FitInterruptedWarning, TrainingDivergedError

__all__ = ["TrainingMixin"]

_NEVER = 2**62  # a patience no fit reaches


@dataclass
class _Fit:
    """What one call of fit or partial_fit knows; private to the estimator."""

    validation: tuple | None
    split_seed: int | None
    first_row: int
    starts_run: bool  # fit, not partial_fit nor a warm start: averaging applies
    resume_from: dict | None = None
    identity: dict | None = None
    interrupted: bool = False


class TrainingMixin(RecipeMixin, DeviceMixin):
    """fit / partial_fit / resume over skorch's loop; see the module docstring."""

    #: Hook: sklearn's declarative constraints of the parameters, checked at each fit.
    _parameter_constraints: dict

    @abstractmethod
    def _validate_training_data(self, X, y, *, reset: bool) -> tuple:
        """Hook: validated ``(X, y)``; ``reset`` (a first fit) records their shapes."""

    @abstractmethod
    def _validation_data(self, X_val, y_val) -> tuple | None:
        """Hook: a validated ``(X_val, y_val)``, or ``None`` where none is given."""

    @abstractmethod
    def _fit_target_encoding(self, y) -> None:
        """Hook: learn how a training run that starts now encodes its targets ``y``
        (skorch's datasets hold ``y`` as given; the loss applies the encoding)."""

    def _in_fit(self) -> bool:
        return getattr(self, "_fit_", None) is not None

    def get_default_callbacks(self):
        fit = getattr(self, "_fit_", None)
        validated = self._has_validation()
        callbacks = list(super().get_default_callbacks())
        # The stopping guards come first, so a NaN loss is reported as divergence, not
        # patience, and no broken epoch is kept as a good one.
        callbacks += [
            ("divergence_guard", DivergenceGuard()),
            ("good_weights", KeepGoodWeights()),
            ("time_budget", TimeBudget(self.max_time)),
        ]
        if validated:
            # Without patience it never stops, but still keeps the best validation epoch:
            # a network that overfits (ElemNet) is best before the schedule ends.
            patience = _NEVER if self.patience is None else self.patience
            callbacks.append(("early_stopping", StoppingEarly(
                monitor="valid_loss", patience=patience, threshold=0.0,
                threshold_mode="abs", load_best=True, sink=print)))
        average_from = self._setting("average_weights")
        if average_from is not None and (fit is None or fit.starts_run):
            # After early stopping, which restores the best epoch to compare the average with.
            callbacks.append(("weight_averaging", WeightAveraging(
                average_from, max_epochs=self._schedule_epochs(), max_time=self.max_time,
                resumed=fit is not None and fit.resume_from is not None)))
        schedule = self._lr_schedule_callback(resumed=fit is not None
                                              and fit.resume_from is not None)
        if schedule is not None:
            callbacks.append(("lr_scheduler", schedule))
        if self.checkpoint_dir is not None:
            # Last, so it restores a resumed fit after the others have reset themselves.
            callbacks.append(("checkpoint", Checkpointer(
                self.checkpoint_dir, self.checkpoint_every,
                identity=None if fit is None else fit.identity,
                split_seed=0 if fit is None or fit.split_seed is None else fit.split_seed,
                resume_from=None if fit is None else fit.resume_from)))
        return callbacks

    def _has_validation(self) -> bool:
        fit = getattr(self, "_fit_", None)
        return (fit is not None and fit.validation is not None) or (
            self._setting("validation_fraction") is not None)

    def get_split_datasets(self, X, y=None, **fit_params):
        dataset = self.get_dataset(X, y)
        fit = getattr(self, "_fit_", None)
        if fit is not None and fit.validation is not None:
            return dataset, self.get_dataset(*fit.validation)
        share = self._setting("validation_fraction")
        if share is None:
            return dataset, None
        seed = getattr(self, "_split_seed_", self.random_state)
        split = ValidSplit(share, stratified=False, random_state=seed)
        return split(dataset, y)

    # -- fitting

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
                           restart=restart, resume=resume, starts_run=restart or resume)

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
                           restart=first, starts_run=False)

    def _train(self, X, y, X_val, y_val, fit_params, *, reset, seed, restart, starts_run,
               resume=False):
        """Validate, then run skorch's training loop inside a forked, seeded RNG."""
        # sklearn's declarative checks (skorch's own _validate_params runs at initialize)
        validate_parameter_constraints(self._parameter_constraints, self.get_params(deep=False),
                                       caller_name=type(self).__name__)
        X, y = self._validate_training_data(X, y, reset=reset)
        fit = _Fit(validation=self._validation_data(X_val, y_val), split_seed=None,
                   first_row=len(self.history_) if not restart and not resume else 0,
                   starts_run=starts_run)
        if resume or self.checkpoint_dir is not None:
            fit.identity = self._checkpoint_identity(X, y, *(fit.validation or (None, None)))
        self._resolve_settings(len(X), fixed_validation=fit.validation is not None,
                               continuing=not (restart or resume))
        epochs = self._epochs_for_fit()
        if resume:
            if self.checkpoint_dir is None:
                raise ValueError("fit(resume=True) needs checkpoint_dir to be set")
            fit.resume_from = load_checkpoint(self.checkpoint_dir, fit.identity)
            epochs = max(epochs - fit.resume_from["epochs"], 0)
        self._fit_ = fit
        try:
            with self._seeded(), self._matmul_precision():
                if seed:
                    self._split_seed_ = self._seed_everything()
                else:
                    self._restore_rng()
                if resume:
                    self._split_seed_ = fit.resume_from["split_seed"]
                fit.split_seed = getattr(self, "_split_seed_", None)
                started = []
                if restart or resume:
                    self.initialize()
                    # after initialize: a fine-tuned network keeps its source's encoding
                    self._fit_target_encoding(y)
                else:
                    started = self._continue_training(fresh_schedules=reset)
                try:
                    NeuralNet.partial_fit(self, X, y, **dict(fit_params, epochs=epochs))
                finally:
                    self._save_rng()
                    for callback in started:
                        del callback.last_epoch
        finally:
            self._fit_ = None
        return self._finish_fit(fit)

    def _continue_training(self, fresh_schedules: bool) -> list:
        """Prepare a warm-start ``fit`` or a later ``partial_fit`` to use today's settings.

        skorch keeps the callbacks built at the first fit (``set_params(callbacks=...)``
        is applied only at the next ``initialize``), and torch keeps each parameter
        group's ``initial_lr`` from the first scheduler, which every later scheduler
        starts from. A continuation would then run the old callbacks at the old rate:
        a fine-tuning schedule at a tenth of the rate would start at the full one. So
        the callbacks are built again for each continuation.

        A warm-start ``fit`` is a new training run on the current weights
        (``fresh_schedules``): its rate starts at ``lr`` and a torch scheduler
        (skorch ``LRScheduler``) starts its schedule at this fit's first epoch,
        where skorch would place it at the epoch count of the whole history.
        ``partial_fit`` continues: the optimizer keeps its rates and skorch's
        schedulers their count (torch's chained schedules need both). Returns the
        schedulers whose start was set, to undo after the fit.
        """
        self.initialize_callbacks()
        started = []
        if fresh_schedules:
            for group in self.optimizer_.param_groups:
                group["initial_lr"] = group["lr"] = self._setting("lr")
            for _, callback in self.callbacks_:
                if isinstance(callback, LRScheduler) and "last_epoch" not in vars(callback):
                    callback.last_epoch = -1  # read by skorch as a scheduler argument
                    started.append(callback)
        return started

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            # A callback that stops training on purpose records its reason first; anything
            # else is the user's Ctrl-C, possibly in the middle of an epoch.
            history = self.history
            if len(history) and "train_loss" not in history[-1]:
                del history[-1]
            if len(history) and "stop_reason" not in history[-1]:
                history.record("stop_reason", "interrupted")
            self._fit_.interrupted = True
            raise

    def _finish_fit(self, fit):
        """Record how the fit ended; pass a Ctrl-C on and report a divergence."""
        rows = self.history_[fit.first_row:]
        reason = rows[-1].get("stop_reason") if len(rows) else None
        if fit.interrupted and reason is None:
            reason = "interrupted"
        self.stop_reason_ = reason or "max_epochs"
        self.kept_epoch_ = dict(self.callbacks_)["good_weights"].kept_epoch_
        self._record_epochs()
        if self.stop_reason_ == "interrupted":
            # skorch swallows Ctrl-C; pass it on (a grid search or a script should stop),
            # with the estimator already holding good weights.
            self._warn_interrupted()
            raise KeyboardInterrupt
        if self.stop_reason_ == "diverged":
            self._report_divergence()
        return self

    def _warn_interrupted(self) -> None:
        kept = self.kept_epoch_
        where = (f"the weights of epoch {kept} were kept" if kept is not None
                 else "the weights were kept as they were")
        warnings.warn(
            f"{type(self).__name__}.fit was interrupted (KeyboardInterrupt) after "
            f"{len(self.history_)} complete epoch(s); {where}. The model is usable.",
            FitInterruptedWarning,
            stacklevel=4,
        )

    def _report_divergence(self) -> None:
        name, epoch, value, detail = dict(self.callbacks_)["divergence_guard"].diverged_
        kept = (f"the weights of epoch {self.kept_epoch_} were restored"
                if self.kept_epoch_ is not None else "no epoch finished before it")
        message = (
            f"{type(self).__name__}: {name} became {value:.6g} in epoch {epoch}{detail}; training "
            f"stopped and {kept}. Try a lower lr (now {self._setting('lr'):g}) or check X and y "
            "for extreme values."
        )
        if self.on_divergence == "raise" or self.kept_epoch_ is None:
            raise TrainingDivergedError(
                message + " Pass on_divergence='restore' to keep the restored model "
                "without an error."
            )
        warnings.warn(message, DivergenceRestoredWarning, stacklevel=4)

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
            "data": data_fingerprint(X, y, X_val, y_val),
        }

    def _record_epochs(self) -> None:
        history = self.history_
        self.n_epochs_ = len(history)
        self.best_epoch_ = None
        if len(history) and "valid_loss" in history[0]:
            losses = np.array(history[:, "valid_loss"], dtype=float)
            self.best_epoch_ = int(history[int(np.argmin(losses)), "epoch"])
