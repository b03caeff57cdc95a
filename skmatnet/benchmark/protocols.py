"""The benchmark's data preparation and its two evaluation protocols.

Everything a benchmark run compares is decided here, once, before any model
is trained: which rows there are (a dataset of :mod:`skmatnet.datasets` or a
CSV file, deduplicated per composition and optionally subsampled), their
86-element fraction features, and how they are split. Every model then sees
exactly the same rows in the same roles.

``brnet``
    81:9:10 train/validation/test, stratified on the number of elements,
    seed 1234567 (:func:`skmatnet.model_selection.train_val_test_split`).
    Networks early-stop on the validation part; the baselines select their
    hyperparameters on it.
``tatis``
    90:10 train/test (stratified, same seed), then K-fold cross-validation of
    the 90 % (:class:`skmatnet.model_selection.ElementCountStratifiedKFold`):
    one model per fold, trained on the other folds and early-stopped (or
    selected) on its own fold.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..datasets import describe_dataset, list_datasets, load_dataset
from ..featurizer import FormulaError, element_fractions
from ..model_selection import ElementCountStratifiedKFold, n_elements, train_val_test_split

__all__ = [
    "PROTOCOLS",
    "BenchmarkData",
    "BenchmarkError",
    "Split",
    "load_benchmark_data",
    "make_split",
]

#: The evaluation protocols :func:`make_split` knows.
PROTOCOLS = ("brnet", "tatis")

_NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "null", "None"]


class BenchmarkError(ValueError):
    """A benchmark cannot run as asked (bad input, unknown name, missing dependency).

    Attributes
    ----------
    result : BenchmarkResult or None
        The partial result, when the error is raised after some models
        finished (their results are written to the output directory).
    """

    def __init__(self, message: str, result: Any = None):
        super().__init__(message)
        self.result = result


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
    """

    name: str
    formulas: np.ndarray
    y: np.ndarray
    X: np.ndarray
    target: str
    units: str
    source: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _dedupe(formulas: np.ndarray, y: np.ndarray, X: np.ndarray, how: str | None):
    """Keep one row per composition: the lowest target ("min") or the mean ("mean")."""
    if how is None:
        return formulas, y, X
    rows = np.ascontiguousarray(X, dtype=np.float32)
    keys = np.fromiter((row.tobytes() for row in rows), dtype=object, count=len(rows))
    codes, _ = pd.factorize(keys)
    if how == "min":
        order = np.lexsort((y, codes))
        first = np.ones(len(order), dtype=bool)
        first[1:] = codes[order[1:]] != codes[order[:-1]]
        keep = np.sort(order[first])
        return formulas[keep], y[keep], X[keep]
    _, keep = np.unique(codes, return_index=True)
    keep = np.sort(keep)
    means = np.bincount(codes, weights=y) / np.bincount(codes)
    return formulas[keep], means[codes[keep]], X[keep]


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
        frame = pd.read_csv(
            path,
            usecols=[formula_column, target_column],
            dtype={formula_column: str},
            keep_default_na=False,  # "NaN" is sodium nitride
            na_values={target_column: _NA_VALUES},
        )
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
    if name in list_datasets():
        info = describe_dataset(name)
        # The loader's own deduplication (the same rule as for CSV files below).
        formulas, y = load_dataset(name, return_X_y=True, dedupe=dedupe)
        formulas = np.asarray(formulas, dtype=object)
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
            "files": [{"path": str(path.resolve()), "sha256": _file_sha256(path)}],
        }
        name = path.stem
        target, units = target_column, ""
        n_raw, deduped = len(y), False
    finite = np.isfinite(y)
    n_missing = int(len(y) - finite.sum())
    formulas, y = formulas[finite], y[finite]
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
    )


@dataclass
class Split:
    """Row indices of one protocol's split, computed once for every model.

    Attributes
    ----------
    protocol : str
        ``"brnet"`` or ``"tatis"``.
    train, val, test : ndarray of int
        Row indices (into :class:`BenchmarkData`). For ``tatis`` ``train`` is
        the 90 % that the folds divide and ``val`` is empty.
    folds : list of (ndarray, ndarray)
        ``tatis`` only: per fold, the (training, validation) row indices; the
        validation parts are disjoint and cover ``train``.
    seed : int
        Seed of the split.
    """

    protocol: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    folds: list = field(default_factory=list)
    seed: int = 1234567

    @property
    def n_folds(self) -> int:
        """int : Number of folds (0 for ``brnet``)."""
        return len(self.folds)

    def fits(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """The (label, training rows, validation rows) of every model to fit."""
        if self.protocol == "brnet":
            return [("", self.train, self.val)]
        k = self.n_folds
        return [(f"fold {i + 1}/{k}", tr, va) for i, (tr, va) in enumerate(self.folds)]

    def to_frame(self, data: BenchmarkData) -> pd.DataFrame:
        """One line per row: its part (train/val/test) and fold (-1 when none)."""
        part = np.full(len(data), "", dtype=object)
        part[self.train], part[self.val], part[self.test] = "train", "val", "test"
        fold = np.full(len(data), -1, dtype=np.int64)
        for i, (_, va) in enumerate(self.folds):
            fold[va] = i
        frame = pd.DataFrame({"row": np.arange(len(data)), "formula": data.formulas,
                              "target": data.y, "part": part})
        if self.folds:
            frame["fold"] = fold
        return frame

    def sha256(self, data: BenchmarkData) -> str:
        """Fingerprint of the rows and their roles (changes with data, protocol or seed)."""
        text = self.to_frame(data).to_csv(index=False, float_format="%.10g")
        return hashlib.sha256(text.encode()).hexdigest()


def make_split(
    data: BenchmarkData, protocol: str = "brnet", *, seed: int = 1234567, n_folds: int = 10
) -> Split:
    """Split the rows once, as ``protocol`` says.

    Parameters
    ----------
    data : BenchmarkData
    protocol : {"brnet", "tatis"}, default="brnet"
    seed : int, default=1234567
        Seed of the train/test split and of the fold shuffling.
    n_folds : int, default=10
        Folds of the ``tatis`` cross-validation (at least 2).

    Returns
    -------
    Split
    """
    if protocol not in PROTOCOLS:
        raise BenchmarkError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    strata = n_elements(data.X)
    rows = np.arange(len(data))
    if protocol == "brnet":
        train, val, test = train_val_test_split(
            rows, sizes=(0.81, 0.09, 0.10), stratify=strata, random_state=seed
        )
        return Split("brnet", np.sort(train), np.sort(val), np.sort(test), seed=seed)
    if isinstance(n_folds, bool) or not isinstance(n_folds, (int, np.integer)) or n_folds < 2:
        raise BenchmarkError(f"the tatis protocol needs at least 2 folds, got {n_folds!r}")
    train, _, test = train_val_test_split(
        rows, sizes=(0.9, 0.0, 0.1), stratify=strata, random_state=seed
    )
    train, test = np.sort(train), np.sort(test)
    if len(train) < 2 * n_folds:
        raise BenchmarkError(f"{len(train)} training rows are too few for {n_folds} folds")
    cv = ElementCountStratifiedKFold(n_splits=int(n_folds), shuffle=True, random_state=seed)
    folds = [(train[tr], train[va]) for tr, va in cv.split(data.X[train])]
    return Split("tatis", train, train[:0], test, folds=folds, seed=seed)
