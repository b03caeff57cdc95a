"""What a run keeps of its models: results reused, saved, failed, and the running table.

Both ways of running the models (:mod:`._serial_runner`, :mod:`._dask_runner`) report
to one :class:`RunRecorder`, so that a model's files and messages do not depend on where
it ran.
"""

from __future__ import annotations

import io
import sys
import traceback
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from ..featurizer import ElementFractionTransformer
from .config import BenchmarkConfig
from .data import BenchmarkData
from .output import OutputDir, fingerprint
from .protocols import FitOutcome, Protocol, Split
from .results import write_results
from .tasks import Task

__all__ = ["RunRecorder"]


@dataclass(eq=False)
class RunRecorder:
    """The state of one run's models, filled as they finish.

    Attributes
    ----------
    names : list of str
        The models asked for, in run order.
    records : dict
        Model name -> its saved result (run now or reused).
    resumed : list of str
        Models whose earlier result was reused.
    failed : dict
        Model name -> the error message.
    """

    config: BenchmarkConfig
    protocol: Protocol
    output: OutputDir
    data: BenchmarkData
    split: Split
    split_sha: str
    task: Task
    environment: dict
    names: list
    records: dict = field(default_factory=dict)
    resumed: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)

    def say(self, message: str) -> None:
        if self.config.verbose:
            print(message, file=sys.stderr, flush=True)

    def expected(self, runner: Any) -> dict:
        """The fingerprint an earlier result of ``runner``'s model must match to be reused."""
        return fingerprint(self.data, self.split, self.split_sha, runner)

    def reuse(self, name: str, expected: dict) -> bool:
        """Take the earlier result of model ``name`` when ``resume`` is on and it matches."""
        if not self.config.resume:
            return False
        record = self.output.earlier_result(name, expected)
        if record is not None:
            key = next(k for k in record["rows"][0] if k in ("test_mae", "test_roc_auc"))
            self.say(f"[{name}] done in an earlier run ({key.replace('_', ' ')} "
                     f"{record['rows'][0][key]:.4f}); skipped")
            self.records[name] = record
            self.resumed.append(name)
            return True
        if self.output.has_result(name):
            self.say(f"[{name}] the earlier result has other settings; running again")
        return False

    def failure(self, name: str, message: str, trace: str) -> None:
        """Record that model ``name`` failed, with its traceback in ``failed/<name>.txt``."""
        self.failed[name] = message
        path = self.output.save_failure(name, trace)
        self.say(f"[{name}] FAILED: {message} (traceback in {path})")

    def failure_from(self, name: str, exc: BaseException) -> None:
        """:meth:`failure` for the exception being handled."""
        buffer = io.StringIO()
        traceback.print_exc(file=buffer)
        self.failure(name, f"{type(exc).__name__}: {exc}", buffer.getvalue())

    def save(self, runner: Any, outcome: FitOutcome, details: dict,
             expected: dict) -> dict | None:
        """Report and save a fitted model's result; ``None`` (and a failure) on error."""
        data, split = self.data, self.split
        try:
            rows, columns, extra = self.protocol.results(outcome, data, split)
        except Exception as exc:
            self.failure_from(runner.name, exc)
            return None
        # Saved as formula -> prediction pipelines (the featurizer is stateless).
        pipelines = [Pipeline([("features", ElementFractionTransformer().fit(data.formulas[:1])),
                               ("model", m)]) for m in outcome.models]
        test = split.test
        frame = pd.DataFrame({"row": test, "formula": data.formulas[test], "y_true": data.y[test]})
        for key, values in columns.items():
            frame[key] = values
        return self.output.save_result(
            runner.name, fingerprint=expected, rows=rows, details={**details, **extra},
            predictions=frame, fitted=self.protocol.fitted_model(pipelines, outcome),
            is_network=runner.is_network,
        )

    def finished(self, record: dict) -> None:
        """Keep a model's saved result, say how it did, and rewrite the running table."""
        name, task = record["model"], self.task
        self.records[name] = record
        rows, key = record["rows"], task.headline
        self.say(f"[{name}] {task.headline_label} {rows[0][key]:.4f}"
                 + (f", ensemble {rows[1][key]:.4f}" if len(rows) > 1 else "")
                 + f"; train {rows[0]['train_time_s']:.0f} s")
        write_results(self.output, self.data, self.split, self.records, self.names,
                      self.environment, plots=False, status="running", task=task)
