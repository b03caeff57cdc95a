"""A benchmark's models in this process, one after the other (no ``scheduler``)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from ._recorder import RunRecorder
from .fitting import fit_model
from .models import get_runner

__all__ = ["SerialRun"]


class SerialRun:
    """The models of one run, each prepared, fitted and saved before the next starts.

    The interface every way of running the models has (see ``EXECUTORS`` in
    :mod:`.runner`): :meth:`connect` and :meth:`describe` for the run's setup, then
    ``SerialRun(recorder, client, check, started).run()``.
    """

    @staticmethod
    @contextlib.contextmanager
    def connect(config: Any) -> Iterator[None]:
        """No cluster: the models run here."""
        yield None

    @staticmethod
    def describe(client: Any) -> None:
        """Nothing to add to ``environment.json``."""
        return None

    def __init__(self, recorder: RunRecorder, client: Any, check: Callable[[], None],
                 started: float):
        self.recorder, self.check, self.started = recorder, check, started

    def run(self) -> None:
        recorder = self.recorder
        config, names = recorder.config, recorder.names
        for number, name in enumerate(names, 1):
            runner = get_runner(name, config.settings, recorder.task)
            expected = recorder.expected(runner)
            if recorder.reuse(name, expected):
                continue
            recorder.say(f"[{name}] model {number}/{len(names)} "
                         f"({time.monotonic() - self.started:.0f} s into the run)")
            recorder.output.forget(name)
            record = self._run_one(runner, expected)
            if record is not None:
                recorder.finished(record)

    def _run_one(self, runner: Any, expected: dict) -> dict | None:
        """Train, evaluate and save one model; ``None`` (and a failure) on error."""
        recorder = self.recorder
        try:
            outcome, details = fit_model(runner, recorder.data, recorder.split,
                                         verbose=recorder.config.verbose, check=self.check)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            recorder.failure_from(runner.name, exc)
            return None
        return recorder.save(runner, outcome, details, expected)
