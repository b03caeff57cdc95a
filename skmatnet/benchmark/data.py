"""The rows a benchmark compares the models on: a dataset or a CSV file, featurized once.

Which rows there are is decided here, before any model is trained: the rows of
a dataset of :mod:`skmatnet.datasets` or of a CSV file, deduplicated per
composition (the rule of :func:`skmatnet.load_dataset`) and optionally
subsampled, with their 86-element fraction features.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import file_sha256
from ..datasets import (
    DEDUPE_MODES,
    composition_codes,
    dedupe_rows,
    describe_dataset,
    list_datasets,
    load_dataset,
    read_formula_csv,
)
from ..featurizer import FormulaError, element_fractions
from .errors import BenchmarkError
from .tasks import TASKS

__all__ = ["TASKS", "BenchmarkData", "load_benchmark_data"]


@dataclass
class BenchmarkData:
    """The rows a benchmark runs on, with their features.

    Attributes
    ----------
    name : str
        The dataset name, or the CSV file's stem.
    formulas : ndarray of object, shape (n_samples,)
        Formula strings.
    y : ndarray of float64, shape (n_samples,)
        Targets.
    X : ndarray of float32, shape (n_samples, 86)
        Element fractions of the formulas.
    target : str
        What the target is.
    units : str
        Units of the target ("" when unknown).
    source : dict
        Where the rows came from: ``{"dataset": name}`` or ``{"csv": path}``,
        the files with their sha256, and the row counts before and after
        deduplication and subsampling.
    parts : ndarray of object, shape (n_samples,), or None
        The published split of each row (``"train"``, ``"val"`` or
        ``"test"``) where the dataset has one, else None. Only the
        ``published`` protocol reads it.
    task : {"regression", "classification"}
        What the target is: numbers, or labels (then ``y`` holds the labels:
        bool, int or str).
    threshold : float or None
        The threshold that turned a numeric target into the labels
        ``target > threshold``, if one did.
    """

    name: str
    formulas: np.ndarray
    y: np.ndarray
    X: np.ndarray
    target: str
    units: str
    source: dict = field(default_factory=dict)
    parts: np.ndarray | None = None
    task: str = "regression"
    threshold: float | None = None

    def __len__(self) -> int:
        return len(self.y)


def _dedupe(formulas: np.ndarray, y: np.ndarray, X: np.ndarray, how: str | None):
    """Keep one row per composition: the lowest target ("min") or the mean ("mean").

    The rule of :func:`skmatnet.load_dataset`, applied to the rows of a CSV file.
    """
    if how is None:
        return formulas, y, X
    keep, target = dedupe_rows(composition_codes(X), y, how)
    return formulas[keep], target, X[keep]


def _read_csv(path: Path, formula_column: str, target_column: str):
    if not path.is_file():
        raise BenchmarkError(
            f"{str(path)!r} is neither a dataset name ({', '.join(list_datasets())}) nor an "
            "existing CSV file"
        )
    try:
        header = pd.read_csv(path, nrows=0)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"cannot read {path} as CSV: {exc}") from exc
    missing = [c for c in (formula_column, target_column) if c not in header.columns]
    if missing:
        shown = ", ".join(map(str, list(header.columns)[:20]))
        raise BenchmarkError(
            f"{path} has no column {' or '.join(map(repr, missing))} (its columns: {shown}); "
            "name the columns with --formula-column / --target-column"
        )
    try:
        # The target is read as it is: _resolve_target decides whether it is numbers or labels.
        frame = read_formula_csv(path, formula_column, target_column, target_dtype=None)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"cannot read {path} as CSV: {exc}") from exc
    return frame[formula_column].to_numpy(dtype=object), frame[target_column]


def _resolve_target(raw: pd.Series, task: str, threshold: float | None,
                    where: str) -> tuple[str, np.ndarray]:
    """Decide numbers or labels: return the task and the target (float64 or labels, NaN = missing).

    ``auto`` takes a column with no number in it (or a boolean one) for labels,
    and any other for numbers, whose non-numbers are then errors that name
    their row: one typo in a numeric column must not turn it into labels.
    """
    if raw.dtype == bool:
        numeric, is_bool = raw.astype(np.float64), True
    else:
        numeric, is_bool = pd.to_numeric(raw, errors="coerce"), False
    present = raw.notna()
    non_numbers = numeric.isna() & present
    labels_only = is_bool or (present.any() and non_numbers[present].all())
    if threshold is not None:
        if task == "regression":
            raise BenchmarkError("a threshold makes labels: it needs task 'classification' "
                                 "or 'auto', not 'regression'")
        task = "classification"
    elif task == "auto":
        task = "classification" if labels_only else "regression"
    if task == "regression" or threshold is not None:
        if is_bool:
            raise BenchmarkError(f"{where} holds true/false labels: a classification task "
                                 "(--task classification or auto), without --threshold")
        if non_numbers.any():
            row = int(np.flatnonzero(non_numbers.to_numpy())[0])
            hint = "; labels need --task classification, without --threshold" \
                if labels_only and threshold is None else ""
            raise BenchmarkError(f"{where} is not numeric (row {row}: {raw.iloc[row]!r}){hint}")
        return task, numeric.to_numpy(dtype=np.float64)
    if is_bool:
        return task, raw.to_numpy(dtype=object)
    if not labels_only:
        if non_numbers.any():
            row = int(np.flatnonzero(non_numbers.to_numpy())[0])
            raise BenchmarkError(f"{where} mixes numbers and text labels (row {row}: "
                                 f"{raw.iloc[row]!r})")
        values = numeric.to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        if not np.array_equal(finite, np.round(finite)):
            raise BenchmarkError(
                f"{where} is continuous (e.g. {finite[finite != np.round(finite)][0]!r}): a "
                "classification task needs labels, or a threshold to make them "
                "(--threshold T: label = target > T)"
            )
        return task, values  # integer labels; cast once the missing ones are dropped
    return task, raw.to_numpy(dtype=object)


def _dedupe_labels(formulas: np.ndarray, y: np.ndarray, X: np.ndarray):
    """One row per composition for labels: its most frequent label (ties: the first row's)."""
    frame = pd.DataFrame({"code": composition_codes(X), "label": pd.Series(y, dtype=object)
                          .astype(str), "row": np.arange(len(y))})
    frame["count"] = frame.groupby(["code", "label"])["row"].transform("size")
    frame["first"] = frame.groupby(["code", "label"])["row"].transform("min")
    chosen = frame.sort_values(["code", "count", "first", "row"],
                               ascending=[True, False, True, True])
    keep = np.sort(chosen.drop_duplicates("code")["row"].to_numpy())
    return formulas[keep], y[keep], X[keep]


def load_benchmark_data(
    data: str | os.PathLike,
    *,
    formula_column: str = "formula",
    target_column: str = "target",
    dedupe: str | None = "min",
    max_rows: int | None = None,
    seed: int = 1234567,
    task: str = "auto",
    threshold: float | None = None,
    target: str | None = None,
) -> BenchmarkData:
    """Load a dataset or a CSV file, featurize it, deduplicate and subsample it.

    Parameters
    ----------
    data : str or path-like
        A name from :func:`skmatnet.datasets.list_datasets` or the path of a
        CSV file with a formula column and a numeric target column.
    formula_column, target_column : str, default="formula", "target"
        Columns of a CSV file (ignored for a dataset name).
    dedupe : {"min", "mean"} or None, default="min"
        One row per composition: the lowest target (the BRNet protocol: the
        most stable structure) or the mean; ``None`` keeps every row.
    max_rows : int or None, default=None
        Keep a random subset of this many rows (seeded by ``seed``), drawn
        after deduplication and before any split. For quick checks and tests;
        results on a subset are not comparable with the papers.
    seed : int, default=1234567
        Seed of the subsampling.
    task : {"auto", "regression", "classification"}, default="auto"
        ``auto``: labels (a boolean target, or a column without a number in
        it) make a classification task, numbers a regression task.
        ``classification`` also takes integer labels (0/1, 1/2/3).
    threshold : float or None, default=None
        Turn a numeric target into the labels ``target > threshold``
        (classification), after deduplication on the numbers: e.g. ``0`` on
        a band gap labels the rows with a gap ``True``, the metals ``False``.
    target : str or None, default=None
        A dataset's alternative target (``load_dataset(name, target=...)``,
        e.g. ``"is_metal"`` for the band-gap datasets). Not for CSV files.

    Returns
    -------
    BenchmarkData

    Raises
    ------
    BenchmarkError
        Unknown name and no such file, a CSV without the named columns, a
        non-numeric target for regression, a continuous one for
        classification without a threshold, no rows left, or bad
        ``dedupe``/``max_rows``/``task``.
    skmatnet.datasets.DatasetError
        A dataset file that is corrupt (``ChecksumError``), missing offline or
        not downloadable.
    skmatnet.FormulaError
        A formula that cannot be parsed.
    """
    if dedupe not in (None, *DEDUPE_MODES):
        raise BenchmarkError(f"dedupe must be 'min', 'mean' or None, got {dedupe!r}")
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 20
    ):
        raise BenchmarkError(f"max_rows must be an int of at least 20, got {max_rows!r}")
    if task not in TASKS:
        raise BenchmarkError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    if threshold is not None and (isinstance(threshold, bool) or
                                  not isinstance(threshold, (int, float, np.number))
                                  or not np.isfinite(threshold)):
        raise BenchmarkError(f"threshold must be a finite number, got {threshold!r}")
    name = os.fspath(data)
    parts = None
    if name in list_datasets():
        info = describe_dataset(name)
        # The loader's own deduplication (the same rule as for CSV files below).
        try:
            frame = load_dataset(name, dedupe=dedupe, target=target)
        except ValueError as exc:
            if target is None:
                raise
            raise BenchmarkError(str(exc)) from None
        formulas = frame["formula"].to_numpy(dtype=object)
        task, y = _resolve_target(frame["target"], task, threshold, f"{name}: the target")
        if "split" in frame:
            parts = frame["split"].to_numpy(dtype=object)
        source = {
            "dataset": name,
            "files": [{"path": f.path, "sha256": f.sha256, "url": f.url} for f in info.files],
        }
        target_name, units = info.target if target is None else target, info.units
        n_raw, deduped = info.n_rows, True
    else:
        path = Path(name).expanduser()
        if path.suffix.lower() != ".csv" and not path.exists():
            raise BenchmarkError(
                f"unknown dataset {name!r}; available: {', '.join(list_datasets())} "
                "(or give the path of a CSV file)"
            )
        if target is not None:
            raise BenchmarkError(f"target={target!r} names a dataset's alternative target; "
                                 "for a CSV file name the column (--target-column)")
        formulas, raw = _read_csv(path, formula_column, target_column)
        task, y = _resolve_target(raw, task, threshold, f"{path}: column {target_column!r}")
        source = {
            "csv": str(path.resolve()),
            "formula_column": formula_column,
            "target_column": target_column,
            "files": [{"path": str(path.resolve()), "sha256": file_sha256(path)}],
        }
        name = path.stem
        target_name, units = target_column, ""
        n_raw, deduped = len(y), False
    labels = task == "classification" and threshold is None
    finite = pd.notna(y) if labels else np.isfinite(y)
    n_missing = int(len(y) - finite.sum())
    formulas, y = formulas[finite], y[finite]
    if labels and y.dtype.kind == "f":
        y = y.astype(np.int64)  # integer labels (checked whole in _resolve_target)
    elif labels:
        y = _plain_labels(y)
    if parts is not None:
        parts = parts[finite]
    try:
        X = element_fractions(formulas)
    except FormulaError as exc:
        raise FormulaError(f"in {data}: {exc}", exc.problems) from exc
    if not deduped and labels:
        if dedupe is not None:
            formulas, y, X = _dedupe_labels(formulas, y, X)
    elif not deduped:
        formulas, y, X = _dedupe(formulas, y, X, dedupe)
    if threshold is not None:
        y = y > threshold
        target_name = f"{target_name} > {threshold:g}"
    n_deduped = len(y)
    if max_rows is not None and max_rows < len(y):
        keep = np.sort(np.random.RandomState(seed).choice(len(y), size=max_rows, replace=False))
        formulas, y, X = formulas[keep], y[keep], X[keep]
        if parts is not None:
            parts = parts[keep]
    if len(y) < 20:
        raise BenchmarkError(f"{data}: only {len(y)} usable rows; a benchmark needs at least 20")
    if task == "classification":
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise BenchmarkError(f"{data}: every row has the label {classes[0]!r}; a "
                                 "classification task needs at least two classes")
        # only for classification, so that regression fingerprints stay as they were
        source.update(task=task, target_option=target, threshold=threshold,
                      class_counts={str(c): int(n) for c, n in zip(classes, counts, strict=True)})
    source.update(
        n_rows_read=int(n_raw),
        n_missing_target=n_missing,
        dedupe=dedupe,
        n_after_dedupe=int(n_deduped),
        max_rows=max_rows,
        n_rows=len(y),
    )
    if task == "regression":
        y = np.asarray(y, dtype=np.float64)
    return BenchmarkData(
        name=name, formulas=formulas, y=y, X=np.ascontiguousarray(X, dtype=np.float32),
        target=target_name, units="" if task == "classification" else units, source=source,
        parts=parts, task=task, threshold=threshold,
    )


def _plain_labels(y: np.ndarray) -> np.ndarray:
    """Labels as one numpy type: bools as bool, text as str objects."""
    values = list(y)
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.asarray(values, dtype=bool)
    return np.asarray([str(v) for v in values], dtype=object)
