"""skorch callbacks of the skmatnet estimators, one concern each.

Learning-rate schedules (:class:`LRSchedule`), weight averaging
(:class:`WeightAveraging`), a classifier's temperature (:class:`TemperatureScaling`),
the guards that end a fit early and keep good weights (:class:`TimeBudget`,
:class:`DivergenceGuard`, :class:`StoppingEarly`, :class:`KeepGoodWeights`), checkpoints
(:class:`Checkpointer`) and a progress printer (:class:`EpochPrinter`, with
:data:`STOP_REASONS`).
"""

from .averaging import WeightAveraging
from .calibration import TemperatureScaling
from .checkpoint import Checkpointer
from .guards import DivergenceGuard, KeepGoodWeights, StoppingEarly, TimeBudget
from .progress import STOP_REASONS, EpochPrinter
from .schedules import SCHEDULE_SHAPES, LRSchedule, schedule_factor

__all__ = [
    "SCHEDULE_SHAPES",
    "STOP_REASONS",
    "Checkpointer",
    "DivergenceGuard",
    "EpochPrinter",
    "KeepGoodWeights",
    "LRSchedule",
    "StoppingEarly",
    "TemperatureScaling",
    "TimeBudget",
    "WeightAveraging",
    "schedule_factor",
]
