"""Reading a dataset's files: formula CSVs, compositions as codes, duplicate rows merged,
and :func:`load_dataset`, which puts the catalog, the files and these together."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..featurizer import FormulaError, element_fractions
from ._catalog import DatasetInfo, describe_dataset, list_datasets
from ._errors import DatasetError
from ._files import dataset_paths

#: How duplicate compositions are merged (``dedupe``): the lowest target or the mean.
DEDUPE_MODES = ("min", "mean")

_NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "null", "None"]


def read_formula_csv(
    path: str | os.PathLike, formula_column: str, target_column: str, *,
    target_dtype: str | None = "float64",
) -> pd.DataFrame:
    """Read a formula column and a target column of a CSV file, skmatnet's way.

    Formulas are read as text and never as missing values ("NaN" is sodium
    nitride); only the target may be missing (empty, ``NA``, ``NaN``, ...).

    Parameters
    ----------
    path : path-like
    formula_column, target_column : str
    target_dtype : str or None, default="float64"
        ``None`` keeps the target as pandas reads it (for a caller that checks
        it for non-numbers itself).

    Returns
    -------
    DataFrame
        The two columns under their own names.

    Raises
    ------
    ValueError, pandas.errors.ParserError, OSError
        As :func:`pandas.read_csv` does (e.g. a missing column).
    """
    dtype = {formula_column: str}
    if target_dtype is not None:
        dtype[target_column] = target_dtype
    return pd.read_csv(
        path,
        usecols=[formula_column, target_column],
        dtype=dtype,
        keep_default_na=False,
        na_values={target_column: _NA_VALUES},
    )


def _read_csv(path: Path, info: DatasetInfo) -> pd.DataFrame:
    formula, target = info.formula_column, info.target_column
    try:
        frame = read_formula_csv(path, formula, target)
    except (ValueError, pd.errors.ParserError) as exc:
        detail = " ".join(str(exc).split())  # one line, whatever pandas wrote
        try:
            columns = list(pd.read_csv(path, nrows=0).columns)
        except (ValueError, pd.errors.ParserError, OSError):
            columns = None
        if columns is not None and not {formula, target} <= set(columns):
            detail += f" (expected columns {formula!r} and {target!r}; the file has {columns})"
        raise DatasetError(f"cannot read {path}: {detail}") from exc
    return pd.DataFrame({"formula": frame[formula], "target": frame[target]})


def composition_codes(fractions: np.ndarray) -> np.ndarray:
    """One integer per distinct fraction row (bit-identical float32 rows share a code).

    Parameters
    ----------
    fractions : array-like of shape (n_samples, n_features)
        Element fractions (:func:`skmatnet.element_fractions`), compared as float32.

    Returns
    -------
    ndarray of int of shape (n_samples,)
        Codes numbered from 0 in order of first appearance.
    """
    rows = np.ascontiguousarray(fractions, dtype=np.float32)
    keys = np.fromiter((row.tobytes() for row in rows), dtype=object, count=len(rows))
    codes, _ = pd.factorize(keys)
    return codes


def dedupe_rows(codes: np.ndarray, target: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows to keep, one per composition, and their targets.

    Parameters
    ----------
    codes : ndarray of int
        Composition of each row (:func:`composition_codes`).
    target : ndarray of float
    how : {"min", "mean"}
        ``"min"``: per composition the row with the lowest target (NaN last;
        ties keep the first row). ``"mean"``: the composition's first row, with
        the mean target of the composition.

    Returns
    -------
    keep : ndarray of int
        Row indices, in source order.
    target : ndarray of float
        The target of each kept row.
    """
    target = np.asarray(target, dtype=np.float64)
    if how == "min":
        # Sort by composition, then target; take each group's first row.
        order = np.lexsort((target, codes))
        first = np.ones(len(order), dtype=bool)
        first[1:] = codes[order[1:]] != codes[order[:-1]]
        keep = np.sort(order[first])
        return keep, target[keep]
    _, keep = np.unique(codes, return_index=True)
    keep = np.sort(keep)
    means = np.bincount(codes, weights=target) / np.bincount(codes)
    return keep, means[codes[keep]]


def load_dataset(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    return_X_y: bool = False,
    dedupe: str | None = "min",
    download: bool = True,
    target: str | None = None,
) -> pd.DataFrame | tuple[pd.Series, np.ndarray]:
    """Load a materials-property dataset as formulas and targets.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`: ``"jarvis_formation_energy"``,
        ``"jarvis_optb88vdw_bandgap"``, ``"mp_formation_energy"``,
        ``"oqmd_formation_enthalpy"`` or ``"oqmd_bandgap"``.
    data_home : str or path-like, default=None
        A directory holding the files in the layout ``<data_home>/<file path>``
        (e.g. ``<data_home>/jarvis/formation_energy_train.csv``). Looked in
        first; only read, never written.
    return_X_y : bool, default=False
        Return ``(formulas, target)`` instead of a DataFrame. The split column
        is then dropped: load the DataFrame to use a published split.
    dedupe : {"min", "mean"} or None, default="min"
        How to treat rows with the same composition. Compositions are compared
        through their 86-element fraction vectors (:func:`element_fractions`),
        so ``Fe2O3``, ``O3Fe2`` and ``Fe4O6`` are one composition.

        - ``"min"``: keep, per composition, the row with the lowest target
          (the most stable structure: the BRNet protocol); ties keep the first
          row. The kept row keeps its own formula string and split.
        - ``"mean"``: one row per composition at its first occurrence (its
          formula string and split), with the mean target of the composition.
        - ``None``: keep every row as published; formulas are then not parsed.
    download : bool, default=True
        Whether to download files found nowhere locally into the cache.
    target : {None, "is_metal"}, default=None
        ``None``: the dataset's property. ``"is_metal"`` (band-gap datasets
        only): a boolean label, ``True`` where the band gap is 0, for
        classification. Deduplication runs on the band gap first, so with
        ``dedupe="min"`` a composition is a metal when any of its structures
        in the dataset is one.

    Returns
    -------
    data : DataFrame
        Columns ``formula`` (str), ``target`` (float64; bool for
        ``target="is_metal"``) and, for datasets with
        a published split, ``split`` (categorical; categories in file order,
        e.g. ``["train", "test"]``). Rows keep the source order (the files'
        rows one after the other, e.g. train then test); the index is a fresh
        ``RangeIndex``. Returned when ``return_X_y=False``.
    (formulas, target) : tuple of Series and ndarray of float64
        Returned when ``return_X_y=True``.

    Raises
    ------
    ValueError
        If ``name`` or ``dedupe`` is not valid, or ``target`` is not one the
        dataset offers.
    ChecksumError
        If a file in ``data_home`` or ``SKMATNET_DATA`` does not have the
        published sha256 (a corrupt copy in the cache is deleted and
        downloaded again instead).
    DataNotFoundError
        If a file is not found locally and ``download=False``.
    DownloadError
        If a download fails (e.g. offline); the message names the URL.
    FormulaError
        If a formula cannot be parsed (only when ``dedupe`` is set); the
        message names the file.

    Notes
    -----
    Each file is looked up in ``data_home``, then in the directory of the
    environment variable ``SKMATNET_DATA``, then in the cache
    (:func:`get_cache_dir`), and downloaded into the cache when found nowhere.
    Every file's sha256 is checked before use; the result is remembered for
    the process, keyed on path, size and modification time.

    Deduplicating a dataset with a published split can move a composition
    across parts: the kept row is in the part its own file belongs to.

    Examples
    --------
    >>> data = load_dataset("jarvis_formation_energy")  # doctest: +SKIP
    >>> len(data), int((data["split"] == "test").sum())  # doctest: +SKIP
    (26741, 2681)
    """
    info = describe_dataset(name)
    if dedupe not in (None, *DEDUPE_MODES):
        raise ValueError(f"dedupe must be 'min', 'mean' or None, got {dedupe!r}")
    if target is not None and (target != "is_metal" or "band gap" not in info.target):
        gaps = [n for n in list_datasets() if "band gap" in describe_dataset(n).target]
        raise ValueError(
            f"target must be None or 'is_metal' (band-gap datasets: {', '.join(gaps)}), got "
            f"{target!r} for {name!r}"
        )
    is_metal = target == "is_metal"  # (the name target is reused below)
    paths = dataset_paths(name, data_home=data_home, download=download)

    frames = []
    for file in info.files:
        path = paths[file.path]
        frame = _read_csv(path, info)
        if dedupe is not None:
            try:
                frame_fractions = element_fractions(frame["formula"])
            except FormulaError as exc:
                raise FormulaError(f"in {path}: {exc}", exc.problems) from exc
            frames.append((frame, frame_fractions, file.split))
        else:
            frames.append((frame, None, file.split))

    data = pd.concat([frame for frame, _, _ in frames], ignore_index=True)
    if info.has_split:
        splits = np.repeat([split for _, _, split in frames], [len(f) for f, _, _ in frames])
        data["split"] = pd.Categorical(splits, categories=list(dict.fromkeys(info.splits)))

    if dedupe is not None:
        codes = composition_codes(np.concatenate([fr for _, fr, _ in frames]))
        keep, target = dedupe_rows(codes, data["target"].to_numpy(), dedupe)
        data = data.iloc[keep].reset_index(drop=True)
        data["target"] = target

    if is_metal:
        data["target"] = data["target"].to_numpy() <= 0
    if return_X_y:
        dtype = bool if is_metal else np.float64
        return data["formula"], data["target"].to_numpy(dtype=dtype)
    return data
