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
    composition_codes,
    dedupe_rows,
    describe_dataset,
    list_datasets,
    load_dataset,
    read_formula_csv,
)
from ..featurizer import FormulaError, element_fractions
from .errors import BenchmarkError

__all__ = ["BenchmarkData", "load_benchmark_data"]


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
    """

    name: str
    formulas: np.ndarray
    y: np.ndarray
    X: np.ndarray
    target: str
    units: str
    source: dict = field(default_factory=dict)
    parts: np.ndarray | None = None

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
        # The target is checked for non-numbers below, to name the first bad row.
        frame = read_formula_csv(path, formula_column, target_column, target_dtype=None)
    except (ValueError, OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"cannot read {path} as CSV: {exc}") from exc
    target = pd.to_numeric(frame[target_column], errors="coerce")
    bad = target.isna() & frame[target_column].notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise BenchmarkError(
            f"{path}: column {target_column!r} is not numeric (row {row}: "
            f"{frame[target_column].iloc[row]!r})"
        )
    return frame[formula_column].to_numpy(dtype=object), target.to_numpy(dtype=np.float64)


def load_benchmark_data(
    data: str | os.PathLike,
    *,
    formula_column: str = "formula",
    target_column: str = "target",
    dedupe: str | None = "min",
    max_rows: int | None = None,
    seed: int = 1234567,
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

    Returns
    -------
    BenchmarkData

    Raises
    ------
    BenchmarkError
        Unknown name and no such file, a CSV without the named columns, a
        non-numeric target, no rows left, or bad ``dedupe``/``max_rows``.
    skmatnet.datasets.DatasetError
        A dataset file that is corrupt (``ChecksumError``), missing offline or
        not downloadable.
    skmatnet.FormulaError
        A formula that cannot be parsed.
    """
    if dedupe not in (None, "min", "mean"):
        raise BenchmarkError(f"dedupe must be 'min', 'mean' or None, got {dedupe!r}")
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 20
    ):
        raise BenchmarkError(f"max_rows must be an int of at least 20, got {max_rows!r}")
    name = os.fspath(data)
    parts = None
    if name in list_datasets():
        info = describe_dataset(name)
        # The loader's own deduplication (the same rule as for CSV files below).
        frame = load_dataset(name, dedupe=dedupe)
        formulas = frame["formula"].to_numpy(dtype=object)
        y = frame["target"].to_numpy(dtype=np.float64)
        if "split" in frame:
            parts = frame["split"].to_numpy(dtype=object)
        source = {
            "dataset": name,
            "files": [{"path": f.path, "sha256": f.sha256, "url": f.url} for f in info.files],
        }
        target, units = info.target, info.units
        n_raw, deduped = info.n_rows, True
    else:
        path = Path(name).expanduser()
        if path.suffix.lower() != ".csv" and not path.exists():
            raise BenchmarkError(
                f"unknown dataset {name!r}; available: {', '.join(list_datasets())} "
                "(or give the path of a CSV file)"
            )
        formulas, y = _read_csv(path, formula_column, target_column)
        source = {
            "csv": str(path.resolve()),
            "formula_column": formula_column,
            "target_column": target_column,
            "files": [{"path": str(path.resolve()), "sha256": file_sha256(path)}],
        }
        name = path.stem
        target, units = target_column, ""
        n_raw, deduped = len(y), False
    finite = np.isfinite(y)
    n_missing = int(len(y) - finite.sum())
    formulas, y = formulas[finite], y[finite]
    if parts is not None:
        parts = parts[finite]
    try:
        X = element_fractions(formulas)
    except FormulaError as exc:
        raise FormulaError(f"in {data}: {exc}", exc.problems) from exc
    if not deduped:
        formulas, y, X = _dedupe(formulas, y, X, dedupe)
    n_deduped = len(y)
    if max_rows is not None and max_rows < len(y):
        keep = np.sort(np.random.RandomState(seed).choice(len(y), size=max_rows, replace=False))
        formulas, y, X = formulas[keep], y[keep], X[keep]
        if parts is not None:
            parts = parts[keep]
    if len(y) < 20:
        raise BenchmarkError(f"{data}: only {len(y)} usable rows; a benchmark needs at least 20")
    source.update(
        n_rows_read=int(n_raw),
        n_missing_target=n_missing,
        dedupe=dedupe,
        n_after_dedupe=int(n_deduped),
        max_rows=max_rows,
        n_rows=len(y),
    )
    return BenchmarkData(
        name=name, formulas=formulas, y=np.asarray(y, dtype=np.float64),
        X=np.ascontiguousarray(X, dtype=np.float32), target=target, units=units, source=source,
        parts=parts,
    )
