# Two commands for a fresh clone: `make demo` (the main job) and `make test` (the suite).
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The CPU build; GPU users: `make install TORCH_SPEC=torch` (or preinstall their build).
TORCH_SPEC ?= torch==2.13.0
# Use the shared copy of the datasets when this checkout sits next to one; otherwise the
# loaders download into the user cache (see docs/datasets.md).
ifneq ($(wildcard ../shared/data/jarvis),)
export SKMATNET_DATA ?= $(abspath ../shared/data)
endif

.PHONY: install demo test docs lint bench-featurizer clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) examples/featurize_dataset.py

test: install
	$(PY) -m pytest

docs: install
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

lint: install
	$(PY) -m ruff check skmatnet tests examples benchmarks

bench-featurizer: install
	$(PY) benchmarks/featurizer_speed.py

clean:
	rm -rf $(VENV) docs/_build .pytest_cache
