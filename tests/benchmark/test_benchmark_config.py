"""The benchmark's configuration (skmatnet.benchmark.config): checks, quick settings."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from bench_settings import DATASET
from shared_data import needs_data

from skmatnet.benchmark import (
    BenchmarkError,
    run_benchmark,
)

pytestmark = needs_data


@pytest.mark.parametrize("kwargs, message", [
    ({"data": "no_such_dataset"}, "unknown dataset"),
    ({"data": "missing.csv"}, "neither a dataset name"),
    ({"data": DATASET, "models": "resnet"}, "unknown model 'resnet'"),
    ({"data": DATASET, "protocol": "kfold"}, "unknown protocol"),
    ({"data": DATASET, "max_time": -1}, "max_time must be"),
    ({"data": DATASET, "tradml_grid": "huge"}, "tradml_grid must be"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    with pytest.raises(BenchmarkError, match=message):
        run_benchmark(**kwargs, output_dir=tmp_path / "out", verbose=False)


def test_quick_settings_and_explicit_overrides():
    from skmatnet.benchmark.config import FULL_SETTINGS, QUICK_SETTINGS, _resolve_settings

    quick = _resolve_settings(True, {"max_time": None, "automl_evals": 30})
    assert quick == {**QUICK_SETTINGS, "automl_evals": 30}
    assert _resolve_settings(False, {}) == FULL_SETTINGS
    # the demo (4 networks, AutoML, trad. ML) must stay within about 5 minutes on 2 cores
    assert QUICK_SETTINGS["tradml_grid"] == "quick" and QUICK_SETTINGS["max_time"] <= 45


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda(tmp_path):
    with pytest.raises(BenchmarkError, match="CUDA is not available"):
        run_benchmark(DATASET, models="brnet", device="cuda", output_dir=tmp_path,
                      verbose=False)
    assert not (tmp_path / "split.csv").exists()  # checked before anything is written


def test_csv_without_the_named_columns(tmp_path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"formula": ["Fe2O3"] * 30, "y": range(30)}).to_csv(path, index=False)
    with pytest.raises(BenchmarkError, match=r"no column 'target'.*--target-column"):
        run_benchmark(path, models="tradml", output_dir=tmp_path / "out", verbose=False)


def test_config_is_built_once_the_same_from_the_command_line_and_python():
    import dataclasses
    import shlex

    from skmatnet.benchmark import BenchmarkConfig
    from skmatnet.benchmark.config import QUICK_SETTINGS
    from skmatnet.cli import _benchmark_options, build_parser

    argv = ["benchmark", DATASET, "--quick", "--models", "tradml,brnet", "--max-rows", "300",
            "--dedupe", "none", "--lr", "0.001"]
    args = build_parser().parse_args(argv)
    from_cli = BenchmarkConfig.create(args.data, **_benchmark_options(args, argv))
    from_python = BenchmarkConfig.create(
        DATASET, quick=True, models="tradml,brnet", max_rows=300, dedupe=None, lr=0.001,
        command="skmatnet " + shlex.join(argv),
    )
    assert from_cli == from_python
    assert from_cli.models == ("tradml", "brnet") and from_cli.n_folds == QUICK_SETTINGS["n_folds"]
    assert from_cli.settings.max_time == QUICK_SETTINGS["max_time"]
    assert from_cli.settings.lr == 0.001 and from_cli.uses_torch
    with pytest.raises(dataclasses.FrozenInstanceError):
        from_cli.quick = False
    with pytest.raises(TypeError, match="max_epoch"):
        BenchmarkConfig.create(DATASET, max_epoch=3)
