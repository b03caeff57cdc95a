"""``skmatnet train DATA``: fit one network (or a deep ensemble) and save it as a model file.

The rows are read as ``skmatnet benchmark`` reads them
(:func:`skmatnet.benchmark.load_benchmark_data`); the model is
``Pipeline([ElementFractionTransformer(), <Net>Regressor.from_recipe(...)])``
(the classifier for a label target, a :class:`~skmatnet.MatNetEnsembleRegressor`
of such pipelines with ``--ensemble``), saved with :func:`skmatnet.save_model`.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._common import (
    CommandError,
    add_command,
    check_device,
    check_output_file,
    positive_int,
    set_threads,
)
from ._options import (
    add_data_options,
    add_data_source,
    add_network_options,
    add_reporting,
    add_seed,
)

__all__ = ["EXAMPLES", "add_parser", "run"]

EXAMPLES = [
    "  skmatnet train jarvis_formation_energy --model brnet --max-time 600 -o brnet.skmatnet",
    "  skmatnet train my_data.csv --target-column band_gap --ensemble 5 -o band_gap.skmatnet",
    "  skmatnet train jarvis_optb88vdw_bandgap --target is_metal -o is_metal.skmatnet",
    "  skmatnet train jarvis_formation_energy --recipe paper --lr 1e-3 --batch-size 64",
]


def add_parser(commands: Any) -> None:
    """Add ``train`` to ``commands`` (an argparse subparsers object)."""
    from .._registry import network_names

    train = add_command(
        commands, "train",
        help="train a network on a dataset or CSV file and save it as a model file",
        description="Train one network (or a deep ensemble of them) by a training recipe "
                    "(default: the recommended one) on the rows of DATA and save it, with its "
                    "featurizer, as a .skmatnet model file for 'skmatnet predict' or "
                    "skmatnet.load_model. With 1,000 rows or more (a classifier: always) the "
                    "network holds out 10% of them and keeps its best epoch on them; with "
                    "fewer it trains on all and keeps its last. A label target trains the "
                    "network's classifier.",
        examples=EXAMPLES,
    )
    add_data_source(train)
    train.add_argument("-o", "--output", metavar="FILE",
                       help="model file to write (default: MODEL.skmatnet in the current "
                            "directory, e.g. brnet.skmatnet)")
    what = train.add_argument_group("model")
    what.add_argument("--model", choices=network_names(), default="brnet",
                      help="the network (default: brnet)")
    what.add_argument("--ensemble", type=positive_int, metavar="N",
                      help="train N networks with different seeds (MatNetEnsembleRegressor); "
                           "'skmatnet predict' then adds their spread, std (regression only)")
    add_seed(what)
    add_network_options(train.add_argument_group("training (as for 'skmatnet benchmark')"))
    add_data_options(train.add_argument_group("data (as for 'skmatnet benchmark')"))
    add_reporting(train.add_argument_group("output"))
    train.set_defaults(handler=run)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet train``: fit, save, summarise; return the exit status."""
    from sklearn.pipeline import Pipeline

    from ..benchmark.data import load_benchmark_data
    from ..ensemble import MatNetEnsembleRegressor
    from ..featurizer import ElementFractionTransformer

    output = check_output_file(args.output or f"{args.model}.skmatnet", "model file")
    check_device(args.device)
    data = load_benchmark_data(
        args.data, formula_column=args.formula_column, target_column=args.target_column,
        dedupe=None if args.dedupe == "none" else args.dedupe, max_rows=args.max_rows,
        seed=args.seed, task=args.task, threshold=args.threshold, target=args.target,
    )
    classify = data.task == "classification"
    if classify and args.ensemble:
        raise CommandError(f"--ensemble averages regressors, but the target of {args.data} is "
                           "labels (classification); drop --ensemble")
    net = _network(args, "classifier" if classify else "regressor")
    net.set_params(callbacks=[("progress", _progress(args, net))])
    model = Pipeline([("features", ElementFractionTransformer()), ("model", net)])
    if args.ensemble:
        model = MatNetEnsembleRegressor(model, n_estimators=args.ensemble,
                                        random_state=args.seed)
    set_threads(args.threads)
    start = time.monotonic()
    try:
        with warnings.catch_warnings():
            # Reported below, in the command's words.
            warnings.filterwarnings("ignore", message=r".*was interrupted \(KeyboardInterrupt\)")
            model.fit(data.formulas, data.y)
    except KeyboardInterrupt:
        return _save_interrupted(model, output)
    seconds = time.monotonic() - start
    nets = [member[-1] for member in model.estimators_] if args.ensemble else [net]
    _drop_progress(model, nets)
    _save(model, output)
    _summarise(data, nets, seconds, output)
    return 0


def _network(args: argparse.Namespace, kind: str):
    """The unfitted estimator of ``--model`` for ``kind`` ("regressor" or "classifier")."""
    import skmatnet

    from .._registry import get_spec

    cls = getattr(skmatnet, getattr(get_spec(args.model), kind))
    # --tiny: the estimator's own test-suite settings, as `skmatnet benchmark --tiny` uses them.
    params = cls._get_test_params() if args.tiny else {}
    params.update(random_state=args.seed, device=args.device, verbose=0)
    for key in ("max_epochs", "max_time", "patience", "batch_size", "lr"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return cls.from_recipe(args.recipe, **params)


def _progress(args: argparse.Namespace, net):
    """The per-epoch progress printer of ``skmatnet benchmark``, on stderr."""
    from ..callbacks import EpochPrinter

    epochs = net.max_epochs  # None: the printer shows the schedule the fit chooses
    label = args.model if not args.ensemble else f"{args.model} ensemble of {args.ensemble}"
    return EpochPrinter(label, epochs, enabled=not args.quiet)


def _drop_progress(model, nets) -> None:
    # The printer only matters while fitting; a model file holds plain parameters only.
    from ..ensemble import MatNetEnsembleRegressor

    for fitted in nets:
        fitted.set_params(callbacks=None)
    if isinstance(model, MatNetEnsembleRegressor):  # its unfitted template is saved too
        model.estimator[-1].set_params(callbacks=None)


def _save(model, output: Path) -> None:
    from ..persistence import save_model

    try:
        save_model(model, output)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None


def _save_interrupted(model, output: Path) -> int:
    """After Ctrl-C: save a single network's best epoch so far (an ensemble is lost)."""
    from ..ensemble import MatNetEnsembleRegressor

    net = None if isinstance(model, MatNetEnsembleRegressor) else model[-1]
    if net is None or getattr(net, "kept_epoch_", None) is None:
        print("skmatnet: interrupted; no model saved", file=sys.stderr)
        return 130
    _drop_progress(model, [net])
    _save(model, output)
    print(f"skmatnet: interrupted after {net.n_epochs_} epochs; the best epoch so far "
          f"({net.kept_epoch_}) was saved to {output}", file=sys.stderr)
    return 130


def _summarise(data, nets, seconds: float, output: Path) -> None:
    from ..callbacks import STOP_REASONS

    first = nets[0]
    what = type(first).__name__ if len(nets) == 1 else \
        f"an ensemble of {len(nets)} {type(first).__name__}s"
    units = f" {data.units}" if data.units else ""  # none for labels
    print(f"trained {what} on {len(data)} rows of {data.name}; target: {data.target}"
          f"{f' [{data.units}]' if data.units else ''}")
    stops = sorted({STOP_REASONS.get(n.stop_reason_, str(n.stop_reason_)) for n in nets})
    share = first.effective_params_["validation_fraction"]
    held_out = f" on the {share:.0%} of rows held out" if share else ""
    print(f"epochs: {', '.join(str(n.n_epochs_) for n in nets)} (stopped by "
          f"{', '.join(stops)}); best epoch "
          f"{', '.join(str(n.best_epoch_) for n in nets)}{held_out}")
    scores = [_validation_loss(n) for n in nets]
    if all(score is not None for score in scores):
        metric = "log-loss" if data.task == "classification" else "MAE"
        print(f"validation {metric}: {', '.join(f'{score:.4g}' for score in scores)}{units}")
    print(f"training time: {seconds:.1f} s")
    print(f"model saved to {output}")


def _validation_loss(net) -> float | None:
    """The held-out loss of the epoch the network kept (MAE, or log-loss for a classifier)."""
    if net.best_epoch_ is None:
        return None
    return float(net.history_[net.best_epoch_ - 1, "valid_loss"])
