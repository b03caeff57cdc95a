"""skorch callbacks of the skmatnet estimators, one concern each."""

from .schedules import SCHEDULE_SHAPES, LRSchedule, schedule_factor

__all__ = ["SCHEDULE_SHAPES", "LRSchedule", "schedule_factor"]
