"""``skmatnet train`` and ``skmatnet predict``: the handlers behind :mod:`skmatnet.cli`'s parsers.

``train`` reads its rows as ``skmatnet benchmark`` does
(:func:`skmatnet.benchmark.load_benchmark_data`), fits
``Pipeline([ElementFractionTransformer(), <Net>Regressor.from_recipe("recommended")])``
(the classifier for a label target, a :class:`~skmatnet.MatNetEnsembleRegressor`
of such pipelines with ``--ensemble``) and saves it with
:func:`skmatnet.save_model`. ``predict`` loads such a file with
:func:`skmatnet.load_model` and writes its predictions as CSV.

Errors a user can fix are reported as one line, as everywhere in the command.
"""

from __future__ import annotations

import argparse
import io
import reprlib
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from .cli import CommandError, _guarded, _one_line

__all__ = ["predict", "train"]


# ---------------------------------------------------------------------------
# skmatnet train
# ---------------------------------------------------------------------------


def train(args: argparse.Namespace) -> int:
    """``skmatnet train``: fit, save, summarise; return the exit status."""
    return _guarded(_train, args)


def _output_path(args: argparse.Namespace) -> Path:
    # Checked before training, so that a typo does not cost the whole fit.
    path = Path(args.output or f"{args.model}.skmatnet")
    if path.is_dir():
        raise CommandError(f"-o {path}: is a directory; give the model file's name")
    if not path.parent.is_dir():
        raise CommandError(f"-o {path}: directory {path.parent} does not exist")
    return path


def _check_device(device: str) -> None:
    import torch

    if device == "auto":
        return
    try:
        torch.device(device)
    except RuntimeError:
        raise CommandError(f"--device {device!r}: expected auto, cpu or cuda") from None
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"device {device!r} was asked for but CUDA is not available; use "
                            "--device auto or cpu")


def _network(args: argparse.Namespace, kind: str):
    """The unfitted estimator of ``--model`` for ``kind`` ("regressor" or "classifier")."""
    import skmatnet

    from ._registry import get_spec

    cls = getattr(skmatnet, getattr(get_spec(args.model), kind))
    # --tiny: the estimator's own test-suite settings, as `skmatnet benchmark --tiny` uses them.
    params = cls._get_test_params() if args.tiny else {}
    params.update(random_state=args.seed, device=args.device, verbose=0)
    for key in ("max_epochs", "max_time"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    return cls.from_recipe("recommended", **params)


def _train(args: argparse.Namespace) -> int:
    import torch
    from sklearn.pipeline import Pipeline

    from .benchmark.data import load_benchmark_data
    from .ensemble import MatNetEnsembleRegressor
    from .featurizer import ElementFractionTransformer

    output = _output_path(args)
    _check_device(args.device)
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
    torch.set_num_threads(args.threads)
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


def _progress(args: argparse.Namespace, net):
    """The per-epoch progress printer of ``skmatnet benchmark``, on stderr."""
    from ._recipes import DEFAULT_SCHEDULE_EPOCHS
    from .benchmark._callbacks import EpochProgress

    epochs = net.max_epochs
    if epochs is None and net.max_time is None:
        epochs = DEFAULT_SCHEDULE_EPOCHS
    label = args.model if not args.ensemble else f"{args.model} ensemble of {args.ensemble}"
    return EpochProgress(label, epochs, enabled=not args.quiet)


def _drop_progress(model, nets) -> None:
    # The printer only matters while fitting; a model file holds plain parameters only.
    from .ensemble import MatNetEnsembleRegressor

    for fitted in nets:
        fitted.set_params(callbacks=None)
    if isinstance(model, MatNetEnsembleRegressor):  # its unfitted template is saved too
        model.estimator[-1].set_params(callbacks=None)


def _save(model, output: Path) -> None:
    from .persistence import save_model

    try:
        save_model(model, output)
    except OSError as exc:
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None


def _save_interrupted(model, output: Path) -> int:
    """After Ctrl-C: save a single network's best epoch so far (an ensemble is lost)."""
    from .ensemble import MatNetEnsembleRegressor

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
    from .benchmark.models import _STOP_REASONS

    first = nets[0]
    what = type(first).__name__ if len(nets) == 1 else \
        f"an ensemble of {len(nets)} {type(first).__name__}s"
    units = f" {data.units}" if data.units else ""  # none for labels
    print(f"trained {what} on {len(data)} rows of {data.name}; target: {data.target}"
          f"{f' [{data.units}]' if data.units else ''}")
    stops = sorted({_STOP_REASONS.get(n.stop_reason_, str(n.stop_reason_)) for n in nets})
    held_out = (f" on the {first.validation_fraction:.0%} of rows held out"
                if first.validation_fraction else "")
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


# ---------------------------------------------------------------------------
# skmatnet predict
# ---------------------------------------------------------------------------


def predict(args: argparse.Namespace) -> int:
    """``skmatnet predict``: read formulas, predict, write CSV; return the exit status."""
    return _guarded(_predict, args)


def _source_name(source: str) -> str:
    return "standard input" if source == "-" else source


def _read_formulas(source: str, column: str | None) -> tuple[pd.DataFrame, str,
                                                             Callable[[int], str]]:
    """The input table, its formula column, and where each row is in the input (for errors).

    CSV when ``--formula-column`` is given, the file ends in ``.csv``, or its first
    line holds a comma or is the header ``formula``; else one formula a line.
    Every value is read as text, so the input columns are written back unchanged
    (``NaN`` is sodium nitride, ``007`` an identifier).
    """
    name = _source_name(source)
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        text = raw.decode("utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{source}: no such file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{name} is not UTF-8 text (expected CSV or one formula a "
                            "line)") from None
    except OSError as exc:
        raise CommandError(f"cannot read {name}: {exc.strerror or exc}") from None
    lines = text.splitlines()
    first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        raise CommandError(f"{name} is empty: no formulas to predict")
    as_csv = (column is not None or source.lower().endswith(".csv") or "," in first
              or first == "formula")
    column = column or "formula"
    if not as_csv:
        numbered = [(number, line.strip()) for number, line in enumerate(lines, 1)
                    if line.strip()]
        numbers = [number for number, _ in numbered]
        frame = pd.DataFrame({column: [formula for _, formula in numbered]}, dtype=object)
        return frame, column, lambda row: f"line {numbers[row]}"
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise CommandError(f"cannot read {name} as CSV: {_one_line(exc)}") from None
    if column not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise CommandError(f"{name} has no column {column!r} (its columns: {shown}); name the "
                            "formula column with --formula-column")
    if not len(frame):
        raise CommandError(f"{name} has a header but no rows: no formulas to predict")
    return frame, column, lambda row: f"row {row + 1}"


def _check_formulas(formulas: np.ndarray, name: str, where: Callable[[int], str]) -> np.ndarray:
    """The element fractions of ``formulas``; a bad one is named by its place and value."""
    from .featurizer import FormulaError, element_fractions

    try:
        return element_fractions(formulas)
    except FormulaError as exc:
        shown = "; ".join(f"{where(row)}: {reprlib.repr(value)}: {reason}"
                          for row, value, reason in exc.problems[:3])
        more = f"; and {len(exc.problems) - 3} more" if len(exc.problems) > 3 else ""
        raise CommandError(f"{name}: {len(exc.problems)} of {len(formulas)} formulas cannot "
                            f"be read: {shown}{more}") from None


def _load(path: str):
    """The model in ``path``; its warnings (another version wrote it, no GPU) as one line each."""
    if not Path(path).is_file():
        raise CommandError(f"{path}: no such model file")
    from .persistence import ModelFileError, load_model

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = load_model(path)
        except ModelFileError as exc:
            raise CommandError(exc) from None
    for warning in caught:
        print(f"skmatnet: warning: {_one_line(warning.message)}", file=sys.stderr)
    return model


def _takes_formulas(model) -> bool:
    """Whether the model featurizes formulas itself (a pipeline, or an ensemble of them)."""
    from sklearn.pipeline import Pipeline

    members = getattr(model, "estimators_", None)
    return isinstance(members[0] if members else model, Pipeline)


def _predictions(model, inputs) -> dict[str, np.ndarray]:
    """The output columns: prediction [and std], or the label and each class's probability."""
    from sklearn.base import is_classifier

    from .ensemble import MatNetEnsembleRegressor

    if isinstance(model, MatNetEnsembleRegressor):
        mean, std = model.predict(inputs, return_std=True)
        return {"prediction": mean, "std": std}
    if is_classifier(model):
        columns = {"prediction": model.predict(inputs)}
        probabilities = model.predict_proba(inputs)
        for i, label in enumerate(model.classes_):
            columns[f"probability_{label}"] = probabilities[:, i]
        return columns
    values = np.asarray(model.predict(inputs))
    if values.ndim == 1 or values.shape[1] == 1:
        return {"prediction": values.reshape(len(values))}
    return {f"prediction_{i}": values[:, i] for i in range(values.shape[1])}


def _predict(args: argparse.Namespace) -> int:
    from ._io import atomic_write

    # The input first: its mistakes are found in a second, before torch is imported.
    frame, column, where = _read_formulas(args.formulas, args.formula_column)
    formulas = frame[column].to_numpy(dtype=object)
    fractions = _check_formulas(formulas, _source_name(args.formulas), where)
    model = _load(args.model)
    predictions = _predictions(model, formulas if _takes_formulas(model) else fractions)
    table = frame.assign(**predictions).to_csv(index=False)
    if args.output is None:
        sys.stdout.write(table)
        return 0
    try:
        atomic_write(args.output, table, parents=False)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"skmatnet: {len(frame)} predictions written to {args.output}", file=sys.stderr)
    return 0
