"""Model runners that misbehave on a Dask worker, for tests/test_dask.py.

They live in a module of their own (not the test file) so that the worker processes,
which inherit the test run's ``sys.path``, import them by name without importing the
tests.
"""

from __future__ import annotations

import os
from pathlib import Path

from skmatnet.benchmark.models import NetworkRunner, TradMLRunner


class DiesOnceRunner(NetworkRunner):
    """A network whose first fit kills its worker process (a marker file says it did)."""

    def __init__(self, name, settings, task=None, *, marker):
        super().__init__(name, settings, task)
        self.marker = str(marker)

    def fit(self, *args, **kwargs):
        if not Path(self.marker).exists():
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)  # as a worker killed by the OOM killer or a node failure
        return super().fit(*args, **kwargs)


class AlwaysDiesRunner(NetworkRunner):
    """A network that kills every worker it runs on."""

    def fit(self, *args, **kwargs):
        os._exit(1)


class BrokenRunner(TradMLRunner):
    """A trad. ML baseline whose search raises."""

    def prepare(self, *args, **kwargs):
        raise RuntimeError("grid search exploded")
