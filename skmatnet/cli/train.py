"""``skmatnet train DATA``: fit one network (or a deep ensemble) and save it as a model file.

The rows are read as ``skmatnet benchmark`` reads them
(:func:`skmatnet.benchmark.load_benchmark_data`); the model is
``Pipeline([ElementFractionTransformer(), <Net>Regressor.from_recipe(...)])``
(the classifier for a label target, a :class:`~skmatnet.MatNetEnsembleRegressor`
of such pipelines with ``--ensemble``), saved with :func:`skmatnet.save_model`
with a model card: the target and its units, the data and its sha256, the rows
used, the recipe, the validation scores and the command line
(``skmatnet info MODEL`` shows it).
"""

from __future__ import annotations

import argparse
import math
import shlex
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
    model_file,
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
    "  skmatnet train my_data.csv --target-column band_gap --units eV --ensemble 5 "
    "-o band_gap.skmatnet",
    "  skmatnet train jarvis_optb88vdw_bandgap --target is_metal -o is_metal.skmatnet",
    "  skmatnet train jarvis_formation_energy --recipe paper --lr 1e-3 --batch-size 64",
    "  skmatnet train my_data.csv --init-from mp_formation_energy --lr 1e-4   # fine-tune",
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
    what.add_argument("--model", choices=network_names(),
                      help="the network (default: that of --init-from, else brnet)")
    what.add_argument("--init-from", metavar="MODEL",
                      help="fine-tune from a pretrained model: a .skmatnet file or the name "
                           "of a bundled one (see 'skmatnet models'); an ensemble's members "
                           "start from different members of an ensemble's file")
    what.add_argument("--reset-output", action="store_true",
                      help="with --init-from: train a fresh output layer, which learns the "
                           "target's own scale (for another property or unit than the "
                           "pretrained model's)")
    what.add_argument("--ensemble", type=positive_int, metavar="N",
                      help="train N networks with different seeds (MatNetEnsembleRegressor); "
                           "'skmatnet predict' then adds their spread, std (regression only)")
    add_seed(what)
    what.add_argument("--units", metavar="TEXT",
                      help="units of the target, written in the model's card and named by "
                           "'skmatnet predict' (default: the dataset's, e.g. eV/atom; none "
                           "for a CSV file)")
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

    if args.reset_output and args.init_from is None:
        raise CommandError("--reset-output trains a fresh output layer of a pretrained model: "
                           "give the model with --init-from")
    init_from = None if args.init_from is None else model_file(args.init_from)
    args.model = args.model or _network_of(init_from) or "brnet"
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
    net = _network(args, "classifier" if classify else "regressor", init_from)
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
        return _save_interrupted(model, output, lambda nets: _card(args, argv, data, nets))
    seconds = time.monotonic() - start
    nets = [member[-1] for member in model.estimators_] if args.ensemble else [net]
    _drop_progress(model, nets)
    _save(model, output, _card(args, argv, data, nets))
    _summarise(data, nets, seconds, output, _units(args, data))
    return 0


def _network_of(model: Path | None) -> str | None:
    """The network (``--model``) of the model file ``model``; None where it cannot tell (the
    fit then reports what is wrong with the file)."""
    import zipfile

    from .._registry import NETWORK_SPECS
    from ..pretrained._zoo import describe_file

    if model is None:
        return None
    try:
        estimator = describe_file(model)["estimator"]
    except (OSError, zipfile.BadZipFile, KeyError, TypeError, ValueError):
        return None  # a damaged file: reported, with its problem, when the fit reads it
    return next((spec.name for spec in NETWORK_SPECS if estimator in spec.estimators().values()),
                None)


def _network(args: argparse.Namespace, kind: str, init_from: Path | None = None):
    """The unfitted estimator of ``--model`` for ``kind`` ("regressor" or "classifier"),
    fine-tuned from the model file ``init_from`` where given."""
    import skmatnet

    from .._registry import get_spec

    cls = getattr(skmatnet, getattr(get_spec(args.model), kind))
    # --tiny: the estimator's own test-suite settings, as `skmatnet benchmark --tiny` uses them.
    params = cls._get_test_params() if args.tiny else {}
    params.update(random_state=args.seed, device=args.device, verbose=0)
    if init_from is not None:
        # as given (a file or a bundled model's name): the saved model records where it started
        params.update(init_from=args.init_from, reset_output=args.reset_output)
    for key in ("max_epochs", "max_time", "patience", "batch_size", "lr"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return cls.from_recipe(args.recipe, **params)


def _units(args: argparse.Namespace, data) -> str:
    """The target's units: ``--units``, else the dataset's ("" for labels and CSV files)."""
    if data.task == "classification":
        return ""
    return data.units if args.units is None else args.units


def _card(args: argparse.Namespace, argv: Sequence[str], data, nets) -> dict[str, Any]:
    """The model card (``save_model``'s ``metadata``): what ``skmatnet info`` shows and
    ``skmatnet predict`` reads the units from."""
    first = nets[0]
    one = len(nets) == 1
    share = first.effective_params_["validation_fraction"]
    # skorch's ValidSplit holds out ceil(share * n) rows (sklearn's ShuffleSplit).
    n_val = math.ceil(share * len(data)) if share else 0
    card = {"target": data.target, "task": data.task}
    if _units(args, data):
        card["units"] = _units(args, data)
    card.update(_data_card(args, data))
    card.update(
        split=(f"random {share:.0%} of the rows held out to keep the best epoch; no test "
               "rows" if share else "no rows held out"),
        rows={"train": len(data) - n_val, "val": n_val, "test": 0},
        recipe=args.recipe,
        epochs=first.n_epochs_ if one else [n.n_epochs_ for n in nets],
        seed=args.seed,
    )
    scores = [_validation_loss(n) for n in nets]
    if all(score is not None for score in scores):
        metric = "log_loss" if data.task == "classification" else "mae"
        card["validation_metrics"] = {metric: scores[0] if one else scores}
    card["command"] = shlex.join(["skmatnet", *argv])
    card["description"] = (f"{type(first).__name__} trained by 'skmatnet train' on "
                           f"{len(data)} rows of {data.name}"
                           + (f" (an ensemble of {len(nets)})" if not one else ""))
    return card


def _data_card(args: argparse.Namespace, data) -> dict[str, Any]:
    """Where the rows came from: the dataset (name, version, files' sha256, license,
    citation) or the CSV file and its sha256."""
    files = {file["path"]: file["sha256"] for file in data.source.get("files", [])}
    sha256 = next(iter(files.values())) if len(files) == 1 else files
    if "dataset" not in data.source:
        return {"dataset": args.data, "dataset_sha256": sha256}
    from ..datasets import describe_dataset

    info = describe_dataset(data.source["dataset"])
    return {"dataset": info.name, "dataset_version": info.source, "dataset_sha256": sha256,
            "dataset_license": info.license, "dataset_citation": info.citation}


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


def _save(model, output: Path, metadata: dict[str, Any] | None = None) -> None:
    from ..persistence import save_model

    try:
        save_model(model, output, metadata=metadata)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None


def _save_interrupted(model, output: Path, card) -> int:
    """After Ctrl-C: save a single network's best epoch so far (an ensemble is lost), with
    ``card(nets)`` as its card."""
    from ..ensemble import MatNetEnsembleRegressor

    net = None if isinstance(model, MatNetEnsembleRegressor) else model[-1]
    if net is None or getattr(net, "kept_epoch_", None) is None:
        print("skmatnet: interrupted; no model saved", file=sys.stderr)
        return 130
    _drop_progress(model, [net])
    _save(model, output, card([net]))
    print(f"skmatnet: interrupted after {net.n_epochs_} epochs; the best epoch so far "
          f"({net.kept_epoch_}) was saved to {output}", file=sys.stderr)
    return 130


def _summarise(data, nets, seconds: float, output: Path, units: str) -> None:
    from ..callbacks import STOP_REASONS

    first = nets[0]
    what = type(first).__name__ if len(nets) == 1 else \
        f"an ensemble of {len(nets)} {type(first).__name__}s"
    print(f"trained {what} on {len(data)} rows of {data.name}; target: {data.target}"
          f"{f' [{units}]' if units else ''}")
    units = f" {units}" if units else ""  # none for labels
    stops = sorted({STOP_REASONS.get(n.stop_reason_, str(n.stop_reason_)) for n in nets})
    share = first.effective_params_["validation_fraction"]
    held_out = f" on the {share:.0%} of rows held out" if share else ""
    print(f"epochs: {', '.join(str(n.n_epochs_) for n in nets)} (stopped by "
          f"{', '.join(stops)}); best epoch "
          f"{', '.join(str(n.best_epoch_) for n in nets)}{held_out}")
    averaged = [n.history_[-1].get("averaged_epochs") for n in nets]
    if any(averaged):
        print("kept weights: " + ", ".join(
            f"the average of the last {count} epochs" if count else "the best epoch"
            for count in averaged))
    scores = [_validation_loss(n) for n in nets]
    if all(score is not None for score in scores):
        metric = "log-loss" if data.task == "classification" else "MAE"
        print(f"validation {metric}: {', '.join(f'{score:.4g}' for score in scores)}{units}")
    print(f"training time: {seconds:.1f} s")
    print(f"model saved to {output}")


def _validation_loss(net) -> float | None:
    """The held-out loss of the weights the network kept (MAE, or log-loss for a
    classifier): its best epoch's, or those of the average of epochs it kept instead."""
    if net.best_epoch_ is None:
        return None
    if net.history_[-1].get("averaged_epochs"):
        return float(net.history_[-1, "averaged_valid_loss"])
    return float(net.history_[net.best_epoch_ - 1, "valid_loss"])
