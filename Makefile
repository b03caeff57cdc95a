# Two commands for a fresh clone: `make demo` (the main job) and `make test` (the suite).
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# torch from the configured package index: from PyPI on Linux that is the CUDA build (several
# GB). For the CPU-only wheel, install it into .venv before the first `make`, which keeps it:
# `python3 -m venv .venv && .venv/bin/pip install torch==2.13.0 --index-url
# https://download.pytorch.org/whl/cpu` (docs/install.md).
TORCH_SPEC ?= torch==2.13.0
# Use the shared copy of the datasets when this checkout sits next to one; otherwise the
# loaders download into the user cache (see docs/datasets.md).
ifneq ($(wildcard ../shared/data/jarvis),)
export SKMATNET_DATA ?= $(abspath ../shared/data)
endif

.PHONY: install demo test docs lint bench-featurizer clean

# hyperopt-sklearn (the AutoML baseline) pins an old stack; installed without its pins it
# runs on the current one (docs/install.md).
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev,automl]"
	$(PY) -m pip install --quiet --no-deps hyperopt-sklearn==1.1.1
	touch $@

install: $(VENV)/.installed

# The main job: the quick AutoML vs deep-learning benchmark on real data (a few minutes on
# 2 CPU cores); results in skmatnet-results/jarvis_formation_energy_brnet_quick/.
demo: install
	$(VENV)/bin/skmatnet benchmark jarvis_formation_energy --quick

# pytest-xdist workers, each taking whole test files (tests/conftest.py), so the fitted models
# a file shares are built once. Two per core, at most 8: the tests spend a good part of their
# time waiting on subprocesses, Dask clusters and the browser, and on 2 cores 4 workers ran
# the suite in 392 s against 456 s with 2 (docs/architecture.md). TEST_WORKERS=0: one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c "import os; print(min(8, 2 * len(os.sched_getaffinity(0))))")
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --durations=20

docs: install
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

lint: install
	$(PY) -m ruff check skmatnet tests examples benchmarks docs/conf.py docs/_ext docs/_inventories

bench-featurizer: install
	$(PY) benchmarks/featurizer_speed.py

clean:
	rm -rf $(VENV) docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst .pytest_cache

# The benchmarks of docs/performance.md, one after the other (about 20 minutes on 2 CPU
# cores; results in benchmarks/results/). Extra flags for every script go in BENCH_ARGS,
# e.g. `make bench BENCH_ARGS="--threads 1"` on a shared machine.
BENCH_ARGS ?=
.PHONY: bench
bench: install
	$(PY) benchmarks/featurizer_speed.py
	$(PY) benchmarks/training_speed.py $(BENCH_ARGS)
	$(PY) benchmarks/training_speed.py --dataset oqmd_bandgap --networks brnet --batch-sizes 32 --epochs 1 $(BENCH_ARGS)
	$(PY) benchmarks/prediction_speed.py $(BENCH_ARGS)
	$(PY) benchmarks/fit_memory.py $(BENCH_ARGS)
	$(PY) benchmarks/training_options.py $(BENCH_ARGS)
	$(PY) benchmarks/time_to_accuracy.py $(BENCH_ARGS)
	$(PY) benchmarks/featurize_once.py $(BENCH_ARGS)
