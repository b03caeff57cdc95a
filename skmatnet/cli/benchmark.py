"""``skmatnet benchmark DATA``: :func:`skmatnet.benchmark.run_benchmark` from the command line."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import Any

from ._common import add_command, positive_float, positive_int
from ._options import (
    add_dask_options,
    add_data_options,
    add_data_source,
    add_network_options,
    add_reporting,
    add_seed,
)

__all__ = ["EXAMPLES", "add_parser", "benchmark_options", "run"]

EXAMPLES = [
    "  skmatnet benchmark jarvis_formation_energy --quick",
    "  skmatnet benchmark jarvis_formation_energy --models automl,tradml,brnet --max-time 600",
    "  skmatnet benchmark my_data.csv --formula-column composition --target-column band_gap",
    "  skmatnet benchmark jarvis_formation_energy --protocol tatis --folds 10 --models brnet",
    "  skmatnet benchmark jarvis_formation_energy --resume     # continue an interrupted run",
    "  skmatnet benchmark jarvis_optb88vdw_bandgap --target is_metal   # classification",
    "  skmatnet benchmark oqmd_bandgap --threshold 0 --models tradml,brnet",
]


def add_parser(commands: Any) -> None:
    """Add ``benchmark`` to ``commands`` (an argparse subparsers object)."""
    from ..benchmark.automl import AUTOML_SPACES
    from ..benchmark.models import DEFAULT_MODELS, MODEL_NAMES
    from ..benchmark.protocols import PROTOCOLS
    from ..benchmark.tradml import TRADML_GRIDS

    bench = add_command(
        commands, "benchmark",
        help="compare deep networks with AutoML and classic models on one dataset",
        description="Compare deep networks with the best AutoML / classic model on one "
                    "dataset: split the rows once by a published protocol, train every model "
                    "on exactly those rows, and write results.md, results.csv, bubble.png, "
                    "parity_<model>.png, models/<model>.skmatnet (networks; .joblib for the "
                    "baselines), predictions/<model>.csv, split.csv and environment.json. "
                    "Each finished model is saved at once: after Ctrl-C or a crash, re-run the "
                    "same command with --resume to continue.",
        examples=EXAMPLES,
    )
    add_data_source(bench)
    what = bench.add_argument_group("what to run")
    what.add_argument("--models", nargs="+", metavar="MODEL",
                      help=f"models, space- or comma-separated: {' '.join(MODEL_NAMES)}, or "
                           f"'all' (default: {' '.join(DEFAULT_MODELS)})")
    what.add_argument("--protocol", choices=PROTOCOLS, default="brnet",
                      help="brnet: 81:9:10 stratified split, early stopping on the 9%%; tatis: "
                           "90:10 split and K-fold CV on the 90%%; published: the dataset's own "
                           "train/val/test split, e.g. CrabNet's split of oqmd_bandgap "
                           "(default: brnet)")
    what.add_argument("--quick", action="store_true",
                      help="a real but small run (networks 40 s each, AutoML 25 trials in 60 s, "
                           "quick trad. ML grid, 3 folds): about 5 minutes on 2 CPU cores")
    what.add_argument("-o", "--output", metavar="DIR",
                      help="output directory (default: skmatnet-results/<data>_<protocol>, with "
                           "_quick appended for --quick)")
    what.add_argument("--resume", action="store_true",
                      help="keep the models already finished in DIR with the same settings and "
                           "run only the others (without it earlier results in DIR are deleted)")
    add_seed(what)
    what.add_argument("--folds", type=positive_int, metavar="K",
                      help="folds of the tatis protocol (default: 10; 3 with --quick)")
    add_data_options(bench.add_argument_group("data"))
    add_network_options(bench.add_argument_group("networks"))
    base = bench.add_argument_group("baselines")
    base.add_argument("--automl-evals", type=positive_int, metavar="N",
                      help="AutoML trials (default: 100; 25 with --quick)")
    base.add_argument("--automl-time", type=positive_float, metavar="SECONDS",
                      help="AutoML search budget: no trial starts after it (default: none; 60 "
                           "with --quick)")
    base.add_argument("--automl-trial-timeout", type=positive_float, metavar="SECONDS",
                      help="seconds before one AutoML trial is stopped and counted as failed "
                           "(default: 300; 15 with --quick)")
    base.add_argument("--automl-space", choices=AUTOML_SPACES, default=AUTOML_SPACES[0],
                      help="hpsklearn any_regressor x any_preprocessing, or all regressors "
                           f"(default: {AUTOML_SPACES[0]})")
    base.add_argument("--tradml-grid", choices=TRADML_GRIDS,
                      help="trad. ML grid: quick, default, or full (adds SVR, slow) "
                           "(default: default; quick with --quick)")
    base.add_argument("--n-jobs", type=positive_int, default=1, metavar="N",
                      help="processes/threads of the forests, kNN and AutoML regressors "
                           "(default: 1)")
    cluster = bench.add_argument_group("Dask (pip install 'skmatnet[dask]'; docs/scaling.md)")
    add_dask_options(cluster, "the models, folds and AutoML trials as tasks")
    cluster.add_argument("--automl-queue", type=positive_int, metavar="N",
                         help="AutoML trials in flight on Dask (default: one per worker "
                              "thread)")
    out = bench.add_argument_group("output")
    out.add_argument("--no-plots", action="store_true", help="skip the PNG charts")
    add_reporting(out)
    bench.set_defaults(handler=run)


# Options whose names differ from BenchmarkConfig's, and those that are not options.
_RENAMED = {"output": "output_dir", "folds": "n_folds"}
_NOT_OPTIONS = {"command", "handler", "no_plots", "quiet", "traceback", "dedupe", "data"}


def benchmark_options(args: argparse.Namespace, argv: Sequence[str]) -> dict:
    """The keyword arguments of :meth:`BenchmarkConfig.create` from the parsed command line."""
    options = {_RENAMED.get(key, key): value for key, value in vars(args).items()
               if key not in _NOT_OPTIONS}
    options.update(
        dedupe=None if args.dedupe == "none" else args.dedupe, plots=not args.no_plots,
        verbose=not args.quiet, command="skmatnet " + shlex.join(argv),
    )
    return options


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet benchmark``: run, print the table; return the exit status."""
    from ..benchmark import BenchmarkConfig, BenchmarkError, BenchmarkInterrupted
    from ..benchmark import run as run_benchmark

    try:
        result = run_benchmark(BenchmarkConfig.create(args.data, **benchmark_options(args, argv)))
    except BenchmarkInterrupted as exc:
        partial = exc.result
        if len(partial.table):
            print(partial.to_text())
        print(f"skmatnet: interrupted: {len(partial.finished)} of {len(partial.models)} models "
              f"finished, results in {partial.output_dir}; run the same command with --resume "
              "to continue", file=sys.stderr)
        return 130
    except BenchmarkError as exc:
        if exc.result is not None and len(exc.result.table):
            print(exc.result.to_text())  # the models that finished; the error is reported below
        raise
    print(result.to_text())
    charts = "roc.png" if result.task.name == "classification" else "parity_*.png"
    print(f"\nResults in {result.output_dir}/: results.md, results.csv, bubble.png, {charts}, "
          "models/, predictions/, environment.json")
    return 0
