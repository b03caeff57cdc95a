"""skorch callbacks of the skmatnet estimators, one concern each."""

from .averaging import WeightAveraging
from .schedules import SCHEDULE_SHAPES, LRSchedule, schedule_factor

__all__ = ["SCHEDULE_SHAPES", "LRSchedule", "WeightAveraging", "schedule_factor"]
