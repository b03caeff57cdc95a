"""``skmatnet predict MODEL FORMULAS``: a saved model's predictions, as CSV.

The model is read with :func:`skmatnet.load_model`; the formulas from a CSV
file, a text file of one formula a line, or standard input.
"""

from __future__ import annotations

import argparse
import io
import reprlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..pretrained import _takes_formulas  # light: reads no model file, imports no torch
from ._common import (
    CommandError,
    add_command,
    check_device,
    check_output_file,
    load_model_file,
    one_line,
    set_threads,
)
from ._options import (
    add_device,
    add_formula_column,
    add_model_argument,
    add_reporting,
    add_threads,
)

__all__ = ["EXAMPLES", "add_parser", "run"]

EXAMPLES = [
    "  skmatnet predict brnet.skmatnet candidates.csv -o predictions.csv",
    "  skmatnet predict brnet.skmatnet formulas.txt      # one formula a line; CSV on stdout",
    "  echo Fe2O3 | skmatnet predict brnet.skmatnet -",
    "  skmatnet predict ensemble.skmatnet candidates.csv --interval 0.9   # adds lower, upper",
]


def add_parser(commands: Any) -> None:
    """Add ``predict`` to ``commands`` (an argparse subparsers object)."""
    predict = add_command(
        commands, "predict",
        help="predict the property of formulas with a saved model",
        description="Predict with a model file written by 'skmatnet train' or "
                    "skmatnet.save_model. Writes CSV: the input columns, then 'prediction' "
                    "(the mean of an ensemble), 'std' (the spread of an ensemble) or, for a "
                    "classifier, the label and one 'probability_<label>' column per class. "
                    "When the model's card gives the target's units (models of 'skmatnet "
                    "train', or saved with metadata={'units': ...}), the numeric columns are "
                    "named with them: 'prediction (eV/atom)', 'std (eV/atom)'. With --interval, an "
                    "ensemble adds 'lower' and 'upper': bounds that hold for that share of "
                    "new rows when the ensemble was calibrated (calibrate=True).",
        examples=EXAMPLES,
    )
    add_model_argument(predict)
    predict.add_argument("formulas", metavar="FORMULAS",
                         help="a CSV file with a formula column, a text file with one formula "
                              "a line, or - for standard input (either kind)")
    predict.add_argument("-o", "--output", metavar="FILE",
                         help="CSV file to write (default: standard output)")
    add_formula_column(predict, default=None, note="; implies that the input is CSV")
    predict.add_argument("--interval", type=_coverage, metavar="COVERAGE",
                         help="an ensemble only: add the columns 'lower' and 'upper', bounds "
                              "that should hold for this share of new rows, e.g. 0.9 "
                              "(MatNetEnsembleRegressor.predict_interval)")
    running = predict.add_argument_group("running")
    add_device(running, model_file=True)
    add_threads(running)
    add_reporting(predict.add_argument_group("output"))
    predict.set_defaults(handler=run)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet predict``: read formulas, predict, write CSV; return the exit status."""
    from .._io import atomic_write

    if args.output is not None:
        check_output_file(args.output, "CSV file")
    # The input next: its mistakes are found in a second, before torch is imported.
    frame, column, where = _read_formulas(args.formulas, args.formula_column)
    formulas = frame[column].to_numpy(dtype=object)
    fractions = _check_formulas(formulas, _source_name(args.formulas), where)
    check_device(args.device)
    set_threads(args.threads)
    model = load_model_file(args.model, args.device)
    inputs = formulas if _takes_formulas(model) else fractions
    predictions = _predictions(model, inputs)
    if args.interval is not None:
        predictions.update(_interval(model, inputs, args.interval, args.model, args.quiet))
    predictions = _with_units(predictions, model)
    table = frame.assign(**predictions).to_csv(index=False)
    if args.output is None:
        sys.stdout.write(table)
        return 0
    try:
        atomic_write(args.output, table, parents=False)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    if not args.quiet:
        print(f"skmatnet: {len(frame)} predictions written to {args.output}", file=sys.stderr)
    return 0


def _coverage(text: str) -> float:
    """``--interval``'s value: a share strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a share between 0 and 1 such as 0.9, got "
                                         f"{text!r}")
    return value


def _interval(model, inputs, coverage: float, name: str, quiet: bool) -> dict[str, np.ndarray]:
    """The ``lower`` and ``upper`` columns of an ensemble's intervals."""
    import warnings

    from ..ensemble import MatNetEnsembleRegressor

    if not isinstance(model, MatNetEnsembleRegressor):
        raise CommandError(f"--interval needs an ensemble (MatNetEnsembleRegressor); {name} "
                           f"holds a {type(model).__name__}, which gives no spread")
    if getattr(model, "calibration_scores_", None) is None and not quiet:
        print(f"skmatnet: {name} was not calibrated (calibrate=True), so its intervals are the "
              "Gaussian ones of the members' spread, which are usually too narrow",
              file=sys.stderr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bounds = model.predict_interval(inputs, coverage=coverage)
    for warning in caught:
        if not quiet:
            print(f"skmatnet: {warning.message}", file=sys.stderr)
    return {"lower": bounds[:, 0], "upper": bounds[:, 1]}


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
        raise CommandError(f"cannot read {name} as CSV: {one_line(exc)}") from None
    if column not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:20]))
        raise CommandError(f"{name} has no column {column!r} (its columns: {shown}); name the "
                           "formula column with --formula-column")
    if not len(frame):
        raise CommandError(f"{name} has a header but no rows: no formulas to predict")
    return frame, column, lambda row: f"row {row + 1}"


def _check_formulas(formulas: np.ndarray, name: str, where: Callable[[int], str]) -> np.ndarray:
    """The element fractions of ``formulas``; a bad one is named by its place and value."""
    from ..featurizer import FormulaError, element_fractions

    try:
        return element_fractions(formulas)
    except FormulaError as exc:
        shown = "; ".join(f"{where(row)}: {reprlib.repr(value)}: {reason}"
                          for row, value, reason in exc.problems[:3])
        more = f"; and {len(exc.problems) - 3} more" if len(exc.problems) > 3 else ""
        raise CommandError(f"{name}: {len(exc.problems)} of {len(formulas)} formulas cannot "
                           f"be read: {shown}{more}") from None


def _with_units(columns: dict[str, np.ndarray], model) -> dict[str, np.ndarray]:
    """The regression columns named with the target's units from the model's card, if it
    gives them: ``prediction (eV/atom)``; a classifier's labels and probabilities have none."""
    from sklearn.base import is_classifier

    units = getattr(model, "model_card_", {}).get("units")
    if not units or not isinstance(units, str) or is_classifier(model):
        return columns
    return {f"{name} ({units})": values for name, values in columns.items()}


def _predictions(model, inputs) -> dict[str, np.ndarray]:
    """The output columns: prediction [and std], or the label and each class's probability."""
    from sklearn.base import is_classifier

    from ..ensemble import MatNetEnsembleRegressor

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
