"""Shared test configuration: the real datasets in ``../shared/data``."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"

# Tests read the real datasets through the same setting users have.
os.environ.setdefault("SKMATNET_DATA", str(DEFAULT_DATA))
# Never let a test touch the user's cache or the network by accident.
os.environ.setdefault("SKMATNET_CACHE", str(REPO_ROOT / ".pytest_cache" / "skmatnet-cache"))
# One OpenMP/BLAS thread in every process of the suite and every process it starts (the docs
# build running the examples, the command-line tests, Dask workers): with two xdist workers
# per core, more threads oversubscribe the cores, which is many times slower
# (docs/performance.md); the docs build took 263 s instead of about 110 s.
for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

try:
    from hypothesis import settings
    from hypothesis.database import DirectoryBasedExampleDatabase
except ImportError:  # hypothesis is a dev extra; the fuzz tests skip without it
    pass
else:
    # "ci" (the default): the same examples on every run, no example database, so a
    # failure reproduces exactly. HYPOTHESIS_PROFILE=explore searches ten times more,
    # with fresh random examples, remembering failures under .pytest_cache.
    settings.register_profile("ci", max_examples=200, derandomize=True, deadline=None,
                              database=None, print_blob=True)
    settings.register_profile(
        "explore", max_examples=2000, deadline=None,
        database=DirectoryBasedExampleDatabase(REPO_ROOT / ".pytest_cache" / "hypothesis"),
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ["SKMATNET_DATA"])
    if not (path / "jarvis" / "formation_energy_train.csv").exists():
        pytest.fail(
            f"the real datasets are required: SKMATNET_DATA={path} does not hold them "
            "(point SKMATNET_DATA at a copy of shared/data)"
        )
    return path


#: Test files that share a session fixture too costly to build twice: under pytest-xdist each
#: group runs in one worker (the documentation site takes about two minutes to build).
SHARED_SESSION_GROUPS = {
    "tests/test_docs.py": "docs-site",
    "tests/test_docs_browser.py": "docs-site",
}
#: The longest groups start first, so the last worker to finish is not left with a long one
#: (durations from `pytest --durations`, see docs/architecture.md).
LONG_GROUPS_FIRST = ("docs-site", "tests/test_dask.py", "tests/test_cli_train_predict.py",
                     "tests/test_cli.py", "tests/test_classifiers.py", "tests/test_estimators.py",
                     "tests/test_cli_screen.py", "tests/test_benchmarks_smoke.py",
                     "tests/test_packaging.py")


def _file_group(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return SHARED_SESSION_GROUPS.get(path, path)


def work_unit(nodeid: str) -> str:
    """The unit of work one xdist worker takes whole: a test file (its module-scoped fitted
    models are built once), or the group of files sharing a costly session fixture. The
    scikit-learn checks of one estimator are a unit of their own: they share nothing with the
    rest of their file, and two files of 18 estimators' checks would otherwise be two long
    units that leave the workers unbalanced."""
    checks = re.match(r"(.*::test_sklearn_compatible\[.*\))-check_", nodeid)
    return checks.group(1) if checks else _file_group(nodeid)


def pytest_collection_modifyitems(config, items):
    # A stable sort: the same order in every xdist worker (they must agree) and in a serial run.
    rank = {group: i for i, group in enumerate(LONG_GROUPS_FIRST)}
    items.sort(key=lambda item: rank.get(_file_group(item.nodeid), len(rank)))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist; a run without it ignores it
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    # pytest-xdist would otherwise hand out the units with the most tests first (its
    # --loadscope-reorder default), which started the docs build, a unit of a few tests,
    # six minutes into the suite and left one core idle at its end.
    config.option.loadscopereorder = False

    class FileScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return work_unit(nodeid)

    return FileScheduling(config, log)


def pytest_configure(config):
    # The test networks are tiny: one intra-op thread is fastest, and it keeps the suite
    # immune to OpenMP oversubscription when other processes share the 2 CI cores.
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory, data_dir):
    """The documentation site, built once per session: warnings are errors, and the example
    gallery runs every script of ``examples/`` at its quick settings on the real data."""
    from docs_site import build_docs

    return build_docs(tmp_path_factory.mktemp("docs"), data_dir)
