"""The exceptions skmatnet raises for training problems, in one place.

Input problems raise ``ValueError`` or ``TypeError`` subclasses that name the
row, column and value; the ones below concern a fit itself.
"""

from __future__ import annotations

__all__ = ["CheckpointError", "TrainingDivergedError"]


class TrainingDivergedError(FloatingPointError):
    """The training or validation loss became NaN or infinite, or exploded.

    See :class:`skmatnet.callbacks.guards.DivergenceGuard` for what counts as an explosion.
    """


class CheckpointError(ValueError):
    """A checkpoint cannot be used to resume this fit (missing, corrupt or foreign)."""
