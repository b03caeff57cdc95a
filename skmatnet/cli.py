"""The ``skmatnet`` command line (also ``python -m skmatnet``).

``skmatnet benchmark DATA`` runs :func:`skmatnet.benchmark.run_benchmark`:
AutoML, a traditional-ML grid search and deep networks on one dataset, with a
published protocol, and writes the comparison table, charts, fitted models and
an environment record. See ``skmatnet benchmark --help``.

``skmatnet train DATA`` fits one network (or a deep ensemble) by the
recommended recipe on a dataset or CSV file and saves it as a ``.skmatnet``
file; ``skmatnet predict MODEL FORMULAS`` writes its predictions for a CSV or
text file of formulas. Their handlers are in :mod:`skmatnet._cli_models`.
``skmatnet screen MODEL --elements ...`` ranks every candidate composition of some
elements or chemical systems (:mod:`skmatnet.screening`; :mod:`skmatnet._cli_screen`).

Errors are reported as one line, ``skmatnet: error: ...``, on stderr, with exit
status 1 (2 for bad command-line usage, 130 after Ctrl-C).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["build_parser", "main"]

_EXAMPLES = """\
examples:
  skmatnet benchmark jarvis_formation_energy --quick
  skmatnet benchmark jarvis_formation_energy --models automl,tradml,brnet --max-time 600
  skmatnet benchmark my_data.csv --formula-column composition --target-column band_gap
  skmatnet benchmark jarvis_formation_energy --protocol tatis --folds 10 --models brnet
  skmatnet benchmark jarvis_formation_energy --resume     # continue an interrupted run
  skmatnet benchmark jarvis_optb88vdw_bandgap --target is_metal   # classification
  skmatnet benchmark oqmd_bandgap --threshold 0 --models tradml,brnet
  skmatnet train jarvis_formation_energy --model brnet --max-time 600 -o brnet.skmatnet
  skmatnet train my_data.csv --target-column band_gap --ensemble 5 -o band_gap.skmatnet
  skmatnet train jarvis_optb88vdw_bandgap --target is_metal -o is_metal.skmatnet
  skmatnet predict brnet.skmatnet candidates.csv -o predictions.csv
  skmatnet predict brnet.skmatnet formulas.txt      # one formula a line; CSV on stdout
  echo Fe2O3 | skmatnet predict brnet.skmatnet -
  skmatnet screen brnet.skmatnet --systems Li-Mn-O --subsystems --max-atoms 12 --bottom 100
  skmatnet screen brnet.skmatnet --elements Li,Fe,Mn,O --max-atoms 12 --bottom 100 -o top.parquet
  skmatnet screen brnet.skmatnet --elements Li,Na,Mg,Al,O --grid 10 --below -2 --dask local:2
"""


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error format of the rest of the command."""

    def error(self, message: str):
        self.exit(2, f"skmatnet: error: {message} (see '{self.prog} --help')\n")


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(message: object, status: int = 1) -> int:
    print(f"skmatnet: error: {_one_line(message)}", file=sys.stderr)
    return status


def _positive(kind, what):
    """An argparse ``type`` accepting values of ``kind`` above zero."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}")
        return value

    return convert


_positive_int = _positive(int, "integer")
_positive_float = _positive(float, "number")


def _local_cluster(text: str) -> str:
    """An argparse ``type`` for ``--dask``: ``local`` or ``local:N`` with N > 0."""
    head, _, n = text.partition(":")
    if head != "local" or (n and not (n.isdigit() and int(n) > 0)):
        raise argparse.ArgumentTypeError(f"expected local or local:N (N workers), got {text!r}; "
                                         "give a running cluster with --scheduler ADDRESS")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The ``skmatnet`` argument parser (``benchmark``, ``train``, ``predict``, ``screen``)."""
    from . import __version__

    parser = _Parser(prog="skmatnet", description="Deep networks for materials-property "
                     "prediction as scikit-learn estimators.", epilog=_EXAMPLES,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"skmatnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_benchmark_parser(commands)
    _add_train_parser(commands)
    _add_predict_parser(commands)
    from ._cli_screen import add_screen_parser

    add_screen_parser(commands, positive_int=_positive_int, local_cluster=_local_cluster,
                      epilog=_examples("screen"))
    return parser


def _examples(command: str) -> str:
    """The lines of :data:`_EXAMPLES` that run ``skmatnet COMMAND``."""
    lines = [line for line in _EXAMPLES.splitlines()[1:] if f"skmatnet {command} " in line]
    return "\n".join(["examples:", *lines]) + "\n"


def _add_data_source(parser: argparse.ArgumentParser) -> None:
    """The DATA argument of ``benchmark`` and ``train`` (read by ``load_benchmark_data``)."""
    from .datasets import list_datasets

    parser.add_argument("data", metavar="DATA",
                        help=f"a dataset name ({', '.join(list_datasets())}) or a "
                             "CSV file with a formula and a target column")


def _add_data_arguments(data: Any) -> None:
    """How ``benchmark`` and ``train`` read DATA: the options of ``load_benchmark_data``."""
    data.add_argument("--formula-column", default="formula", metavar="NAME",
                      help="formula column of a CSV file (default: formula)")
    data.add_argument("--target-column", default="target", metavar="NAME",
                      help="target column of a CSV file (default: target)")
    data.add_argument("--task", choices=("auto", "regression", "classification"),
                      default="auto",
                      help="what the target is (default auto: a label column or a boolean "
                           "target is classification, numbers regression)")
    data.add_argument("--threshold", type=float, metavar="T",
                      help="classify a numeric target: label = target > T (e.g. 0 on a band "
                           "gap: True for the rows with a gap)")
    data.add_argument("--target", metavar="NAME", dest="target",
                      help="a dataset's alternative target, e.g. is_metal for the band-gap "
                           "datasets")
    data.add_argument("--dedupe", choices=("min", "mean", "none"), default="min",
                      help="one row per composition: lowest value (the BRNet protocol), mean, "
                           "or keep all rows (default: min)")
    data.add_argument("--max-rows", type=_positive_int, metavar="N",
                      help="use a random subset of N rows, drawn after deduplication (before "
                           "any split; for trials and tests, not comparable with papers)")


def _add_benchmark_parser(commands) -> None:
    from .benchmark.models import DEFAULT_MODELS, MODEL_NAMES
    from .benchmark.protocols import PROTOCOLS
    from .benchmark.tradml import TRADML_GRIDS

    bench = commands.add_parser(
        "benchmark",
        help="compare deep networks with AutoML and classic models on one dataset",
        description=textwrap.fill(
            "Compare deep networks with the best AutoML / classic model on one dataset: split "
            "the rows once by a published protocol, train every model on exactly those rows, "
            "and write results.md, results.csv, bubble.png, parity_<model>.png, "
            "models/<model>.skmatnet (networks; .joblib for the baselines), "
            "predictions/<model>.csv, split.csv and environment.json. "
            "Each finished model is saved at once: after Ctrl-C or a crash, re-run the same "
            "command with --resume to continue."
        ),
        epilog=_examples("benchmark"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_source(bench)
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
    what.add_argument("--output", metavar="DIR",
                      help="output directory (default: skmatnet-results/<data>_<protocol>, with "
                           "_quick appended for --quick)")
    what.add_argument("--resume", action="store_true",
                      help="keep the models already finished in DIR with the same settings and "
                           "run only the others (without it earlier results in DIR are deleted)")
    what.add_argument("--seed", type=int, default=1234567,
                      help="seed of the split, subsampling, networks and searches "
                           "(default: 1234567)")
    what.add_argument("--folds", type=_positive_int, metavar="K",
                      help="folds of the tatis protocol (default: 10; 3 with --quick)")
    _add_data_arguments(bench.add_argument_group("data"))
    nets = bench.add_argument_group("networks")
    nets.add_argument("--device", default="auto",
                      help="auto (CUDA when available), cpu or cuda (default: auto)")
    nets.add_argument("--recipe", choices=("recommended", "paper"), default="recommended",
                      help="training recipe: recommended (AdamW, cosine schedule, batch 256, "
                           "half-width networks) or paper (Adam 1e-4, batch 32, patience "
                           "100/200, up to 3000 epochs) (default: recommended)")
    nets.add_argument("--max-epochs", type=_positive_int, metavar="N",
                      help="epochs (default: the recipe's: a 100-epoch schedule, or 3000 "
                           "with early stopping for the paper recipe)")
    nets.add_argument("--max-time", type=_positive_float, metavar="SECONDS",
                      help="wall-clock budget per network (per fold with tatis); the "
                           "recommended recipe anneals its rate over it (default: none; 40 "
                           "with --quick)")
    nets.add_argument("--patience", type=_positive_int, metavar="N",
                      help="early-stopping patience (default: the recipe's: none, or 100 for "
                           "BRNet/BNet and 200 others with the paper recipe)")
    nets.add_argument("--batch-size", type=_positive_int, metavar="N",
                      help="training batch size (default: the recipe's, 256 or 32)")
    nets.add_argument("--lr", type=_positive_float,
                      help="peak learning rate (default: the recipe's, 4e-3 or 1e-4)")
    nets.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                      help="torch CPU threads of the networks (default: 1, as every baseline "
                           "model; more only pay on an otherwise idle machine)")
    nets.add_argument("--tiny", action="store_true",
                      help="tiny networks (the test-suite settings), for smoke tests")
    base = bench.add_argument_group("baselines")
    base.add_argument("--automl-evals", type=_positive_int, metavar="N",
                      help="AutoML trials (default: 100; 25 with --quick)")
    base.add_argument("--automl-time", type=_positive_float, metavar="SECONDS",
                      help="AutoML search budget: no trial starts after it (default: none; 60 "
                           "with --quick)")
    base.add_argument("--automl-trial-timeout", type=_positive_float, metavar="SECONDS",
                      help="seconds before one AutoML trial is stopped and counted as failed "
                           "(default: 300; 15 with --quick)")
    base.add_argument("--automl-space", choices=("any", "all"), default="any",
                      help="hpsklearn any_regressor x any_preprocessing, or all regressors "
                           "(default: any)")
    base.add_argument("--tradml-grid", choices=TRADML_GRIDS,
                      help="trad. ML grid: quick, default, or full (adds SVR, slow) "
                           "(default: default; quick with --quick)")
    base.add_argument("--n-jobs", type=_positive_int, default=1, metavar="N",
                      help="processes/threads of the forests, kNN and AutoML regressors "
                           "(default: 1)")
    cluster = bench.add_argument_group("Dask (pip install 'skmatnet[dask]'; docs/scaling.md)")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--dask", dest="scheduler", type=_local_cluster, metavar="local:N",
                       help="run the models, folds and AutoML trials as tasks on a local Dask "
                            "cluster of N worker processes, one thread each")
    where.add_argument("--scheduler", dest="scheduler", metavar="ADDRESS",
                       help="... on a running Dask cluster: its scheduler address "
                            "(tcp://host:8786) or scheduler file (.json)")
    cluster.add_argument("--automl-queue", type=_positive_int, metavar="N",
                         help="AutoML trials in flight on Dask (default: one per worker "
                              "thread)")
    out = bench.add_argument_group("output")
    out.add_argument("--no-plots", action="store_true", help="skip the PNG charts")
    out.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    out.add_argument("--traceback", action="store_true",
                     help="show the full traceback of an unexpected error")
    bench.set_defaults(handler=_benchmark)


# Options whose names differ from BenchmarkConfig's, and those that are not options.
_RENAMED = {"output": "output_dir", "folds": "n_folds"}
_NOT_OPTIONS = {"command", "handler", "no_plots", "quiet", "traceback", "dedupe", "data"}


def _benchmark_options(args: argparse.Namespace, argv: Sequence[str]) -> dict:
    """The keyword arguments of :meth:`BenchmarkConfig.create` from the parsed command line."""
    options = {_RENAMED.get(key, key): value for key, value in vars(args).items()
               if key not in _NOT_OPTIONS}
    options.update(
        dedupe=None if args.dedupe == "none" else args.dedupe, plots=not args.no_plots,
        verbose=not args.quiet, command="skmatnet " + shlex.join(argv),
    )
    return options


class CommandError(Exception):
    """A problem with the command's input, reported as its one-line message."""


def _guarded(action: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run ``action(args)``; report what goes wrong as one line (with --traceback: re-raise)."""
    from .benchmark.errors import BenchmarkError
    from .datasets import DatasetError
    from .featurizer import FormulaError

    try:
        return action(args)
    except KeyboardInterrupt:
        print("skmatnet: interrupted", file=sys.stderr)
        return 130
    except (CommandError, BenchmarkError, DatasetError, FormulaError) as exc:
        return _fail(exc)
    except (OSError, ValueError, ImportError, MemoryError) as exc:
        if args.traceback:
            raise
        return _fail(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        if args.traceback:
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --traceback for "
                     "the details)")


def _benchmark(args: argparse.Namespace, argv: Sequence[str]) -> int:
    return _guarded(lambda parsed: _run_benchmark(parsed, argv), args)


def _run_benchmark(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from .benchmark import BenchmarkConfig, BenchmarkError, BenchmarkInterrupted, run

    try:
        result = run(BenchmarkConfig.create(args.data, **_benchmark_options(args, argv)))
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


def _add_train_parser(commands) -> None:
    from ._registry import network_names

    train = commands.add_parser(
        "train",
        help="train a network on a dataset or CSV file and save it as a model file",
        description=textwrap.fill(
            "Train one network (or a deep ensemble of them) by the recommended recipe on the "
            "rows of DATA and save it, with its featurizer, as a .skmatnet model file for "
            "'skmatnet predict' or skmatnet.load_model. The network holds out 10% of the rows "
            "and keeps its best epoch on them. A label target trains the network's classifier."
        ),
        epilog=_examples("train"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_data_source(train)
    train.add_argument("-o", "--output", metavar="FILE",
                       help="model file to write (default: MODEL.skmatnet in the current "
                            "directory, e.g. brnet.skmatnet)")
    what = train.add_argument_group("model")
    what.add_argument("--model", choices=network_names(), default="brnet",
                      help="the network (default: brnet)")
    what.add_argument("--ensemble", type=_positive_int, metavar="N",
                      help="train N networks with different seeds (MatNetEnsembleRegressor); "
                           "'skmatnet predict' then adds their spread, std (regression only)")
    what.add_argument("--max-epochs", type=_positive_int, metavar="N",
                      help="epochs (default: the recipe's 100-epoch schedule)")
    what.add_argument("--max-time", type=_positive_float, metavar="SECONDS",
                      help="wall-clock budget per network, over which the recipe anneals its "
                           "rate (default: none)")
    what.add_argument("--device", default="auto",
                      help="auto (CUDA when available), cpu or cuda (default: auto)")
    what.add_argument("--threads", type=_positive_int, default=1, metavar="N",
                      help="torch CPU threads (default: 1)")
    what.add_argument("--seed", type=int, default=1234567,
                      help="seed of the networks and of --max-rows (default: 1234567)")
    what.add_argument("--tiny", action="store_true",
                      help="tiny networks (the test-suite settings), for smoke tests")
    _add_data_arguments(train.add_argument_group("data (as for 'skmatnet benchmark')"))
    out = train.add_argument_group("output")
    out.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    out.add_argument("--traceback", action="store_true",
                     help="show the full traceback of an unexpected error")
    train.set_defaults(handler=_train)


def _add_predict_parser(commands) -> None:
    predict = commands.add_parser(
        "predict",
        help="predict the property of formulas with a saved model",
        description=textwrap.fill(
            "Predict with a model file written by 'skmatnet train' or skmatnet.save_model. "
            "Writes CSV: the input columns, then 'prediction' (the mean of an ensemble), 'std' "
            "(the spread of an ensemble) or, for a classifier, the label and one "
            "'probability_<label>' column per class."
        ),
        epilog=_examples("predict"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    predict.add_argument("model", metavar="MODEL", help="a .skmatnet model file")
    predict.add_argument("formulas", metavar="FORMULAS",
                         help="a CSV file with a formula column, a text file with one formula "
                              "a line, or - for standard input (either kind)")
    predict.add_argument("-o", "--output", metavar="FILE",
                         help="CSV file to write (default: standard output)")
    predict.add_argument("--formula-column", metavar="NAME",
                         help="formula column of the CSV input (default: formula); implies "
                              "that the input is CSV")
    predict.add_argument("--traceback", action="store_true",
                         help="show the full traceback of an unexpected error")
    predict.set_defaults(handler=_predict)


def _train(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from ._cli_models import train

    return train(args)


def _predict(args: argparse.Namespace, argv: Sequence[str]) -> int:
    from ._cli_models import predict

    return predict(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skmatnet`` command; return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return args.handler(args, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
