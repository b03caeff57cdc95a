"""The exceptions and warnings skmatnet raises for training and model-file problems, in one place.

Input problems raise ``ValueError`` or ``TypeError`` subclasses that name the
row, column and value; the exceptions below concern a fit itself. Every warning
skmatnet issues is a :class:`SkmatnetWarning` (a ``UserWarning``), one subclass
per situation, so a user can silence or escalate exactly one kind::

    import warnings
    from skmatnet.exceptions import FitInterruptedWarning, SkmatnetWarning

    warnings.simplefilter("error", FitInterruptedWarning)  # an interrupted fit now raises
    warnings.simplefilter("ignore", SkmatnetWarning)       # no skmatnet warning at all
"""

from __future__ import annotations

__all__ = [
    "CallbacksNotSavedWarning",
    "CheckpointError",
    "DeviceFallbackWarning",
    "DivergenceRestoredWarning",
    "FitInterruptedWarning",
    "SkmatnetWarning",
    "TargetScaleWarning",
    "TrainingDivergedError",
    "VersionMismatchWarning",
]


class TrainingDivergedError(FloatingPointError):
    """The training or validation loss became NaN or infinite, or exploded.

    See :class:`skmatnet.callbacks.guards.DivergenceGuard` for what counts as an explosion.
    """


class CheckpointError(ValueError):
    """A checkpoint cannot be used to resume this fit (missing, corrupt or foreign)."""


class SkmatnetWarning(UserWarning):
    """Base class of every warning skmatnet issues (filter on it to treat them all alike)."""


class DeviceFallbackWarning(SkmatnetWarning):
    """A model saved for a GPU was loaded where CUDA is not available: it runs on the CPU."""


class VersionMismatchWarning(SkmatnetWarning):
    """A model file was written with other versions of skmatnet, torch, skorch or scikit-learn
    (major or minor): its predictions may differ, so check them on known data."""


class FitInterruptedWarning(SkmatnetWarning):
    """A fit was interrupted (Ctrl-C, ``KeyboardInterrupt``): the best weights so far were kept
    and the model is usable."""


class DivergenceRestoredWarning(SkmatnetWarning):
    """The loss diverged and ``on_divergence="restore"`` kept the last good weights instead of
    raising :class:`TrainingDivergedError`."""


class CallbacksNotSavedWarning(SkmatnetWarning):
    """:func:`~skmatnet.save_model` left out an estimator's callbacks: they act during training
    and are not part of the fitted model. The file records which; the loaded model has the
    default callbacks."""


class TargetScaleWarning(SkmatnetWarning):
    """A fine-tuned regressor kept its pretrained output layer, which predicts in its source's
    units, but the new targets lie far outside them (another property or another unit): with
    ``reset_output=True`` a fresh output layer learns their own scale."""
