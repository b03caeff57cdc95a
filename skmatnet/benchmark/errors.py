"""The benchmark's exceptions."""

from __future__ import annotations

from typing import Any

__all__ = ["BenchmarkError", "BenchmarkInterrupted"]


class BenchmarkError(ValueError):
    """A benchmark cannot run as asked (bad input, unknown name, missing dependency).

    Parameters
    ----------
    message : str
        The error message.
    result : BenchmarkResult or None, default=None
        Stored as the attribute ``result``.

    Attributes
    ----------
    result : BenchmarkResult or None
        The partial result, when the error is raised after some models
        finished (their results are written to the output directory).
    """

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


class BenchmarkInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a benchmark; the finished models' results were written.

    Parameters
    ----------
    result : BenchmarkResult
        Stored as the attribute ``result``.

    Attributes
    ----------
    result : BenchmarkResult
        What had finished.
    """

    def __init__(self, result: Any):
        super().__init__("benchmark interrupted")
        self.result = result
