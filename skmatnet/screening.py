"""Screening: rank every candidate composition of some chemical systems by a fitted model.

The BRNet paper's application is a combinatorial search: predict the formation enthalpy
of every composition of a chemical system and keep the most stable. Over many elements the
candidates run into millions (ternaries) or billions (quaternaries), so they are never held
in memory: :class:`CompositionSpace` enumerates them as a stream of chunks, each built
directly as its element-fraction matrix (no formula strings are printed and parsed again;
strings are made only for the rows that are kept), and :func:`screen` predicts chunk by chunk
and keeps the top or bottom ``k``, or every candidate past a threshold, writing Parquet or
CSV. With ``scheduler=`` the chunks are Dask tasks; the model is sent to each worker once.

Enumeration:

- a candidate of an ``n``-element system has every one of its elements present;
- ``max_atoms=A``: integer amounts with at most ``A`` atoms per formula unit, in reduced
  form (the amounts' greatest common divisor is 1), so ``Li2O2`` is not listed besides
  ``LiO``;
- ``grid=G``: atomic fractions on the grid ``k / G`` (``LiO`` appears as 50:50 of ``G=4``);
- a composition belongs to exactly one system (the set of its elements), so candidates of
  different systems never repeat.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._io import atomic_open
from .elements import ELEMENT_INDEX, ELEMENTS, N_ELEMENTS, PERIODIC_TABLE

__all__ = [
    "CandidateChunk",
    "CompositionSpace",
    "ScreeningResult",
    "check_output",
    "screen",
]

#: Candidates per chunk: about 22 MB of float32 element fractions.
DEFAULT_CHUNK_SIZE = 65_536


# ---------------------------------------------------------------------------
# Enumeration
# ---------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _patterns(n: int, max_atoms: int | None, grid: int | None) -> np.ndarray:
    """All amount vectors of an ``n``-element system: int array of shape (m, n), rows >= 1.

    ``max_atoms``: every vector with sum <= max_atoms and gcd 1, by increasing sum.
    ``grid``: every vector with sum == grid (distinct vectors, distinct fractions).
    """
    sums = range(n, max_atoms + 1) if max_atoms is not None else (grid,)
    rows = []
    for total in sums:
        # Stars and bars: n - 1 cut points among total - 1 gaps give n parts >= 1.
        for cuts in combinations(range(1, total), n - 1):
            parts = np.diff((0, *cuts, total))
            if max_atoms is None or math.gcd(*parts.tolist()) == 1:
                rows.append(parts)
    if not rows:
        return np.zeros((0, n), dtype=np.int64)
    return np.array(rows, dtype=np.int64).reshape(len(rows), n)


@lru_cache(maxsize=64)
def _pattern_texts(n: int, max_atoms: int | None, grid: int | None) -> list[list[str]]:
    """The amounts of :func:`_patterns` as formula text ("" for 1), per pattern, reduced
    (a grid's 2:2 is written ``LiO``, as its fractions are those of LiO)."""
    texts = []
    for row in _patterns(n, max_atoms, grid).tolist():
        divisor = math.gcd(*row)
        texts.append(["" if k == divisor else str(k // divisor) for k in row])
    return texts


def _unrank(rank: int, pool: int, k: int) -> list[int]:
    """The ``rank``-th ``k``-combination of ``range(pool)`` in lexicographic order."""
    combo, start = [], 0
    for slot in range(k):
        for value in range(start, pool):
            count = math.comb(pool - value - 1, k - slot - 1)
            if rank < count:
                combo.append(value)
                start = value + 1
                break
            rank -= count
    return combo


def _combination_block(pool: int, k: int, start: int, stop: int) -> np.ndarray:
    """Combinations ``start`` to ``stop`` (exclusive) of ``range(pool)``, as an int array."""
    stop = min(stop, math.comb(pool, k))
    out = np.empty((max(stop - start, 0), k), dtype=np.int64)
    if not len(out):
        return out
    combo = _unrank(start, pool, k)
    for row in range(len(out)):
        out[row] = combo
        # Next combination in lexicographic order.
        i = k - 1
        while i >= 0 and combo[i] == pool - k + i:
            i -= 1
        if i < 0:
            break
        combo[i] += 1
        for j in range(i + 1, k):
            combo[j] = combo[j - 1] + 1
    return out


def _element_list(value: Any, what: str) -> list[str]:
    """Symbols from a list or a ``"Li,Fe,O"`` / ``"Li-Fe-O"`` string, checked, in order."""
    if isinstance(value, str):
        items = [s.strip() for s in value.replace("-", ",").replace(" ", ",").split(",")]
    else:
        try:
            items = [str(s).strip() for s in value]
        except TypeError:
            raise TypeError(f"{what} must be element symbols, got {value!r}") from None
    items = [s for s in items if s]
    for symbol in items:
        if symbol not in ELEMENT_INDEX:
            reason = ("is not one of the 86 elements the networks know (noble gases and Po, "
                      "At, Rn, Fr, Ra are left out)" if symbol in PERIODIC_TABLE
                      else "is not an element symbol")
            raise ValueError(f"{what}: {symbol!r} {reason}")
    return items


def _component_range(value: Any, largest: int) -> tuple[int, int]:
    if value is None:
        return (min(2, largest), largest)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        low = high = int(value)
    else:
        try:
            low, high = (int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError("n_components must be an int or a (min, max) pair, "
                             f"got {value!r}") from None
    if not 1 <= low <= high:
        raise ValueError(f"n_components must satisfy 1 <= min <= max, got {value!r}")
    return low, high


@dataclass(frozen=True)
class _Block:
    """A picklable description of one chunk: systems ``start:stop`` of group ``group``."""

    group: int
    start: int
    stop: int
    offset: int  # id of the chunk's first candidate


@dataclass
class CandidateChunk:
    """A chunk of candidates: ``len(systems) * len(patterns)`` compositions.

    Row ``r`` is pattern ``r % len(patterns)`` of system ``r // len(patterns)``.

    Attributes
    ----------
    systems : ndarray of shape (s, n)
        Column indices (in :data:`skmatnet.elements.ELEMENTS`) of each system's elements.
    patterns : ndarray of shape (m, n)
        The integer amounts (``max_atoms``) or grid counts (``grid``) of each candidate.
    start : int
        The id of the first candidate: candidates are numbered in enumeration order.
    """

    systems: np.ndarray
    patterns: np.ndarray
    start: int
    _texts: list = field(default_factory=list, repr=False)

    def __len__(self) -> int:
        return len(self.systems) * len(self.patterns)

    @property
    def ids(self) -> np.ndarray:
        """ndarray of int64 : The candidates' ids."""
        return np.arange(self.start, self.start + len(self), dtype=np.int64)

    def fractions(self) -> np.ndarray:
        """The element fractions, float32 of shape (len(self), 86), built directly.

        Equal bit for bit to :func:`skmatnet.element_fractions` of :meth:`formulas`
        (amount / total in float64, rounded to float32).
        """
        s, (m, n) = len(self.systems), self.patterns.shape
        out = np.zeros((s * m, N_ELEMENTS), dtype=np.float32)
        if not len(out):
            return out
        shares = (self.patterns / self.patterns.sum(axis=1, keepdims=True)).astype(np.float32)
        rows = np.arange(s * m).reshape(s, m)
        for j in range(n):
            out[rows, self.systems[:, j][:, None]] = shares[:, j][None, :]
        return out

    def formulas(self, rows: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """Formula strings of ``rows`` (default: all), e.g. ``"Li2MnO3"``."""
        m = len(self.patterns)
        rows = range(len(self)) if rows is None else np.asarray(rows, dtype=np.int64).tolist()
        out = []
        for r in rows:
            system, texts = self.systems[r // m], self._texts[r % m]
            out.append("".join(ELEMENTS[e] + t for e, t in zip(system.tolist(), texts,
                                                                 strict=True)))
        return out

    def system_names(self, rows: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """Chemical systems of ``rows``, e.g. ``"Li-Mn-O"``."""
        m = len(self.patterns)
        rows = range(len(self)) if rows is None else np.asarray(rows, dtype=np.int64).tolist()
        return ["-".join(ELEMENTS[e] for e in self.systems[r // m].tolist()) for r in rows]


class CompositionSpace:
    """Candidate compositions of some elements or chemical systems, enumerated in chunks.

    Parameters
    ----------
    elements : str or sequence of str, optional
        Elements to combine (``"Li,Fe,Mn,O"`` or a list): every system of
        ``n_components`` of them. Give ``elements`` or ``systems``.
    systems : sequence of str or of sequences, optional
        Chemical systems, e.g. ``["Li-Mn-O", "Na-Mn-O"]``: the compositions with exactly
        these elements (with ``include_subsystems``, also those of their subsystems).
    max_atoms : int, optional
        Integer amounts, at most this many atoms per formula unit, in reduced form.
    grid : int, optional
        Atomic fractions on the grid ``1/grid`` instead. Give ``max_atoms`` or ``grid``.
    n_components : int or (int, int), optional
        Number of elements per candidate (a number or a range). Default: 2 up to the number
        of elements (``elements``), or each system's own size (``systems``).
    include_subsystems : bool, default=False
        With ``systems``: also the subsystems within ``n_components`` (``Li-O``, ``Mn-O``
        and ``Li-Mn`` of ``Li-Mn-O``), each once.

    Examples
    --------
    >>> space = CompositionSpace(systems=["Li-Mn-O"], max_atoms=6)
    >>> len(space)
    19
    >>> next(space.chunks()).formulas()[:4]
    ['LiMnO', 'LiMnO2', 'LiMn2O', 'Li2MnO']
    """

    def __init__(self, elements: Any = None, *, systems: Any = None,
                 max_atoms: int | None = None, grid: int | None = None,
                 n_components: Any = None, include_subsystems: bool = False):
        if (elements is None) == (systems is None):
            raise ValueError("give the candidates' elements or their chemical systems "
                             "(one of elements=, systems=)")
        if (max_atoms is None) == (grid is None):
            raise ValueError("give max_atoms (atoms per formula unit) or grid (fraction "
                             "steps), one of them")
        for name, value in (("max_atoms", max_atoms), ("grid", grid)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or value < 1):
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.max_atoms = None if max_atoms is None else int(max_atoms)
        self.grid = None if grid is None else int(grid)
        # Groups of systems of one size: (n, pool of element indices or None, systems array
        # or None). Element pools are enumerated lazily as combinations; explicit systems are
        # stored (they were typed by someone, so they are few).
        self._groups: list[tuple[int, np.ndarray | None, np.ndarray | None]] = []
        if elements is not None:
            symbols = list(dict.fromkeys(_element_list(elements, "elements")))
            if not symbols:
                raise ValueError("elements is empty")
            low, high = _component_range(n_components, len(symbols))
            pool = np.array([ELEMENT_INDEX[s] for s in symbols], dtype=np.int64)
            for n in range(low, min(high, len(symbols)) + 1):
                self._groups.append((n, pool, None))
            self.elements = tuple(symbols)
        else:
            if isinstance(systems, str):
                systems = [systems]
            seen: dict[frozenset, list[int]] = {}
            for item in systems:
                symbols = _element_list(item, f"system {item!r}")
                if len(set(symbols)) != len(symbols):
                    raise ValueError(f"system {item!r} names an element twice")
                if not symbols:
                    raise ValueError("a chemical system is empty")
                sizes = _component_range(n_components, len(symbols)) if include_subsystems \
                    else None
                subsets = ([symbols] if sizes is None else
                           [list(c) for n in range(sizes[0], min(sizes[1], len(symbols)) + 1)
                            for c in combinations(symbols, n)])
                for subset in subsets:
                    if sizes is None and n_components is not None:
                        low, high = _component_range(n_components, len(subset))
                        if not low <= len(subset) <= high:
                            continue
                    seen.setdefault(frozenset(subset), [ELEMENT_INDEX[s] for s in subset])
            by_size: dict[int, list[list[int]]] = {}
            for indices in seen.values():
                by_size.setdefault(len(indices), []).append(indices)
            for n in sorted(by_size):
                self._groups.append((n, None, np.array(by_size[n], dtype=np.int64)))
            self.elements = tuple(dict.fromkeys(ELEMENTS[i] for v in seen.values() for i in v))
        self.n_components = n_components
        self.include_subsystems = bool(include_subsystems)

    def _n_systems(self, group: int) -> int:
        n, pool, explicit = self._groups[group]
        return len(explicit) if explicit is not None else math.comb(len(pool), n)

    def _group_patterns(self, group: int) -> np.ndarray:
        return _patterns(self._groups[group][0], self.max_atoms, self.grid)

    def __len__(self) -> int:
        return sum(self._n_systems(g) * len(self._group_patterns(g))
                   for g in range(len(self._groups)))

    @property
    def n_systems(self) -> int:
        """int : The number of chemical systems."""
        return sum(self._n_systems(g) for g in range(len(self._groups)))

    def __repr__(self) -> str:
        shown = ",".join(self.elements[:8]) + (",..." if len(self.elements) > 8 else "")
        what = (f"systems of {len(self.elements)} elements ({shown})" if self._groups and
                self._groups[0][1] is not None else f"{self.n_systems:,} systems")
        amounts = f"max_atoms={self.max_atoms}" if self.max_atoms else f"grid={self.grid}"
        return f"CompositionSpace({what}, {amounts}: {len(self):,} candidates)"

    def blocks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[_Block]:
        """Picklable chunk descriptions, in enumeration order (see :meth:`chunk`)."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size!r}")
        offset = 0
        for group in range(len(self._groups)):
            m = len(self._group_patterns(group))
            if m == 0:
                continue
            per_chunk = max(1, chunk_size // m)
            total = self._n_systems(group)
            for start in range(0, total, per_chunk):
                stop = min(start + per_chunk, total)
                yield _Block(group, start, stop, offset)
                offset += (stop - start) * m

    def chunk(self, block: _Block) -> CandidateChunk:
        """The candidates a block describes."""
        n, pool, explicit = self._groups[block.group]
        if explicit is not None:
            systems = explicit[block.start:block.stop]
        else:
            systems = pool[_combination_block(len(pool), n, block.start, block.stop)]
        return CandidateChunk(systems=systems, patterns=self._group_patterns(block.group),
                              start=block.offset,
                              _texts=_pattern_texts(n, self.max_atoms, self.grid))

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[CandidateChunk]:
        """The candidates as chunks of about ``chunk_size`` (whole systems per chunk)."""
        return (self.chunk(block) for block in self.blocks(chunk_size))

    def formulas(self) -> Iterator[str]:
        """Every candidate's formula, in order (for small spaces and checks)."""
        for chunk in self.chunks():
            yield from chunk.formulas()


# ---------------------------------------------------------------------------
# Prediction
# ---------------------------------------------------------------------------


def _final_estimator(model: Any) -> Any:
    return model.steps[-1][1] if hasattr(model, "steps") else model


#: Prediction batch of networks on a CPU while screening: 10-15% faster than the estimators'
#: 4096 (chosen for GPUs) for the published BRNet on one thread (benchmarks/screening_speed.py).
CPU_BATCH_SIZE = 1024


def _networks(estimator: Any) -> list:
    """The skmatnet networks inside ``estimator`` (itself, a pipeline's last step, or the
    members of an ensemble), whose prediction batch :class:`_Predictor` may set."""
    from ._base import MatNetBase

    estimator = _final_estimator(estimator)
    if isinstance(estimator, MatNetBase):
        return [estimator]
    return [net for member in getattr(estimator, "estimators_", ()) for net in _networks(member)]


@contextlib.contextmanager
def _prediction_batch(networks: list, batch_size: int | None) -> Iterator[None]:
    """Predict with ``batch_size`` rows per batch, then give the networks theirs back."""
    if batch_size is None or not networks:
        yield
        return
    saved = [net.iterator_valid__batch_size for net in networks]
    try:
        for net in networks:
            net.set_params(iterator_valid__batch_size=int(batch_size))
        yield
    finally:
        for net, size in zip(networks, saved, strict=True):
            net.set_params(iterator_valid__batch_size=size)


def _gives_std(estimator: Any) -> bool:
    """Whether ``predict(X, return_std=True)`` works: ensembles, Gaussian processes,
    Bayesian ridge. A single network has the argument only to say it gives no std."""
    from .estimators import MatNetRegressor

    if isinstance(estimator, MatNetRegressor):
        return False
    return "return_std" in inspect.signature(estimator.predict).parameters


def _starts_with_featurizer(model: Any) -> bool:
    from sklearn.pipeline import Pipeline

    from .featurizer import ElementFractionTransformer

    return isinstance(model, Pipeline) and isinstance(model.steps[0][1],
                                                      ElementFractionTransformer)


class _Predictor:
    """How to ask ``model`` about a chunk: fractions or formulas in, columns out."""

    def __init__(self, model: Any, return_std: bool | str = "auto",
                 batch_size: int | None = None):
        from sklearn.pipeline import Pipeline

        if not hasattr(model, "predict"):
            raise TypeError(f"the model must have a predict method, got {type(model).__name__}")
        self.from_fractions = True
        head = model
        if isinstance(model, Pipeline):
            if _starts_with_featurizer(model):
                # The fractions are built directly: skip the featurizer.
                head = model[1:] if len(model.steps) > 1 else None
            elif getattr(model, "n_features_in_", N_ELEMENTS) != N_ELEMENTS:
                self.from_fractions = False
        elif _starts_with_featurizer(getattr(model, "estimators_", [None])[0]):
            # An ensemble of formula pipelines (skmatnet train --ensemble): each member
            # featurizes, so it is given the formulas.
            self.from_fractions = False
        elif getattr(model, "n_features_in_", N_ELEMENTS) != N_ELEMENTS:
            raise ValueError(
                f"the model takes {model.n_features_in_} features, not the 86 element "
                "fractions: give a model trained on element fractions, or a pipeline that "
                "starts with ElementFractionTransformer"
            )
        if head is None:
            raise ValueError("the pipeline has only the featurizer: it predicts nothing")
        self.model = head if self.from_fractions else model
        final = _final_estimator(model)
        self.classes = getattr(final, "classes_", None) if hasattr(final, "predict_proba") \
            else None
        supports_std = _gives_std(final)
        if return_std is True and not supports_std:
            raise ValueError(f"{type(final).__name__} gives no standard deviation "
                             "(return_std); an ensemble does (MatNetEnsembleRegressor)")
        self.return_std = supports_std if return_std == "auto" else bool(return_std)
        if self.classes is not None:
            self.value_column = f"probability_{self.classes[-1]}"
        else:
            self.value_column = "prediction"
        self.networks = _networks(model)
        if batch_size is None and self.networks and all(
                str(getattr(net, "device", "cpu")).startswith("cpu") for net in self.networks):
            batch_size = CPU_BATCH_SIZE
        self.batch_size = batch_size

    def __call__(self, chunk: CandidateChunk) -> dict[str, np.ndarray]:
        X = chunk.fractions() if self.from_fractions else np.asarray(chunk.formulas(),
                                                                     dtype=object)
        with _prediction_batch(self.networks, self.batch_size):
            return self._outputs(X)

    def _outputs(self, X: Any) -> dict[str, np.ndarray]:
        if self.classes is not None:
            proba = np.asarray(self.model.predict_proba(X))
            return {self.value_column: proba[:, -1].astype(np.float64),
                    "label": np.asarray(self.classes)[proba.argmax(axis=1)]}
        if self.return_std:
            mean, std = self.model.predict(X, return_std=True)
            return {"prediction": np.asarray(mean, dtype=np.float64).reshape(len(X), -1)[:, 0],
                    "std": np.asarray(std, dtype=np.float64).reshape(len(X), -1)[:, 0]}
        values = np.asarray(self.model.predict(X), dtype=np.float64).reshape(len(X), -1)
        return {"prediction": values[:, 0]}


# ---------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Selection:
    """Which candidates to keep: thresholds, then the top or bottom ``k``."""

    top: int | None = None
    bottom: int | None = None
    above: float | None = None
    below: float | None = None

    @property
    def k(self) -> int | None:
        return self.top if self.top is not None else self.bottom

    def mask(self, values: np.ndarray) -> np.ndarray:
        keep = np.isfinite(values)
        if self.above is not None:
            keep &= values > self.above
        if self.below is not None:
            keep &= values < self.below
        return keep

    def order(self, values: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """Indices of the best ``k`` (all without ``k``), best first, ties by id."""
        key = -values if self.top is not None else values
        order = np.lexsort((ids, key)) if self.k is not None else np.argsort(ids, kind="stable")
        return order[: self.k] if self.k is not None else order


def _chunk_frame(chunk: CandidateChunk, outputs: dict[str, np.ndarray],
                 selection: _Selection, value_column: str) -> pd.DataFrame:
    """The rows of one chunk that survive the selection, as a small frame."""
    values = outputs[value_column]
    rows = np.flatnonzero(selection.mask(values))
    ids = chunk.ids[rows]
    rows = rows[selection.order(values[rows], ids)]
    frame = pd.DataFrame({"id": chunk.ids[rows], "formula": chunk.formulas(rows),
                          "system": chunk.system_names(rows)})
    for name, column in outputs.items():
        frame[name] = column[rows]
    return frame


def _merge(best: pd.DataFrame | None, new: pd.DataFrame, selection: _Selection,
           value_column: str) -> pd.DataFrame:
    frame = new if best is None else pd.concat([best, new], ignore_index=True)
    order = selection.order(frame[value_column].to_numpy(), frame["id"].to_numpy())
    return frame.iloc[order].reset_index(drop=True)


def _screen_block(predictor: _Predictor, space: CompositionSpace, blocks: Sequence[_Block],
                  selection: _Selection) -> tuple[pd.DataFrame | None, int]:
    """Predict the chunks of ``blocks`` and keep what the selection keeps."""
    best, count = None, 0
    for block in blocks:
        chunk = space.chunk(block)
        count += len(chunk)
        frame = _chunk_frame(chunk, predictor(chunk), selection, predictor.value_column)
        if selection.k is not None:
            best = _merge(best, frame, selection, predictor.value_column)
        else:
            best = frame if best is None else pd.concat([best, frame], ignore_index=True)
    return best, count


def _screen_task(model: Any, space: CompositionSpace, blocks: Sequence[_Block],
                 selection: _Selection, return_std: Any,
                 batch_size: int | None) -> tuple[pd.DataFrame | None, int]:
    """One Dask task: :func:`_screen_block` with the worker's copy of the model."""
    return _screen_block(_Predictor(model, return_std, batch_size), space, blocks, selection)


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def check_output(path: str | os.PathLike) -> str:
    """Check an output file name before any work; return ``"parquet"`` or ``"csv"``.

    Raises
    ------
    ValueError
        Another suffix.
    FileNotFoundError
        Its folder does not exist.
    ImportError
        Parquet without pyarrow.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("writing Parquet needs pyarrow: pip install 'skmatnet[dask]' "
                              "(or pyarrow), or write a .csv file") from None
        kind = "parquet"
    elif suffix == ".csv":
        kind = "csv"
    else:
        raise ValueError(f"output {str(path)!r}: the file name must end in .parquet, .pq or "
                         ".csv")
    if not path.parent.exists():
        raise FileNotFoundError(f"output {str(path)!r}: the folder {str(path.parent)!r} does "
                                "not exist")
    return kind


class _Writer:
    """Rows appended to an open Parquet or CSV file (a handle of :func:`~skmatnet._io.
    atomic_open`, so that the file appears only once the screen has finished)."""

    def __init__(self, handle: Any, kind: str):
        self.handle, self.kind = handle, kind
        self._parquet = None  # the pyarrow writer, made with the first rows' schema
        self.rows = 0
        self.started = False

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            # One schema for every chunk: pandas' string columns may convert to string or
            # large_string, and an empty frame's to null.
            table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata()
            if self._parquet is None:
                schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_large_string(
                    f.type) or pa.types.is_null(f.type) else f for f in table.schema])
                self._parquet = pq.ParquetWriter(self.handle, schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        else:
            self.handle.write(frame.to_csv(index=False, header=not self.started).encode())
        self.started = True
        self.rows += len(frame)

    def finish(self, columns: Sequence[str]) -> None:
        if not self.started:  # nothing kept: an empty file with the columns
            self.write(pd.DataFrame({c: [] for c in columns}))
        self.close()

    def close(self) -> None:
        """Close the Parquet writer (idempotent; before the handle closes, also on errors)."""
        parquet, self._parquet = self._parquet, None
        if parquet is not None:
            parquet.close()


# ---------------------------------------------------------------------------
# screen()
# ---------------------------------------------------------------------------


@dataclass
class ScreeningResult:
    """What :func:`screen` found.

    Attributes
    ----------
    frame : pandas.DataFrame or None
        The kept candidates, best first (``top``/``bottom``) or in enumeration order:
        ``id``, ``formula``, ``system``, then ``prediction`` (and ``std`` for ensembles) or,
        for a classifier, ``probability_<class>`` and ``label``. ``None`` when everything
        past a threshold was streamed to ``path`` instead of being held in memory.
    path : pathlib.Path or None
        The file written.
    n_candidates : int
        Candidates predicted.
    n_kept : int
        Rows kept (in ``frame`` or ``path``).
    seconds : float
        Wall-clock time, enumeration to the last write.
    """

    frame: pd.DataFrame | None
    path: Path | None
    n_candidates: int
    n_kept: int
    seconds: float
    scheduler: str | None = None

    @property
    def candidates_per_second(self) -> float:
        """float : Candidates predicted per second, end to end."""
        return self.n_candidates / self.seconds if self.seconds > 0 else float("nan")


def _check_selection(top, bottom, above, below) -> _Selection:
    if top is not None and bottom is not None:
        raise ValueError("give top or bottom, not both")
    for name, value in (("top", top), ("bottom", bottom)):
        if value is not None and (isinstance(value, bool) or not isinstance(
                value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    for name, value in (("above", above), ("below", below)):
        if value is not None and not np.isfinite(float(value)):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if above is not None and below is not None and not float(above) < float(below):
        raise ValueError(f"above ({above}) must be less than below ({below})")
    return _Selection(top=None if top is None else int(top),
                      bottom=None if bottom is None else int(bottom),
                      above=None if above is None else float(above),
                      below=None if below is None else float(below))


def _grouped(blocks: Iterable[_Block], per_task: int) -> Iterator[list[_Block]]:
    group: list[_Block] = []
    for block in blocks:
        group.append(block)
        if len(group) == per_task:
            yield group
            group = []
    if group:
        yield group


def screen(model: Any, space: CompositionSpace, *, top: int | None = None,
           bottom: int | None = None, above: float | None = None, below: float | None = None,
           output: str | os.PathLike | None = None, return_std: bool | str = "auto",
           chunk_size: int = DEFAULT_CHUNK_SIZE, batch_size: int | None = None,
           scheduler: Any = None, chunks_per_task: int = 1,
           progress: Callable[[int, int], None] | None = None) -> ScreeningResult:
    """Predict every candidate of ``space`` with ``model`` and keep the best.

    Parameters
    ----------
    model : estimator or Pipeline
        Fitted, on element fractions (a network, an ensemble, any scikit-learn model of
        the 86 fractions) or a pipeline starting with
        :class:`~skmatnet.ElementFractionTransformer` (skipped: the fractions are built
        directly). A classifier ranks by the probability of its last class.
    space : CompositionSpace
        The candidates.
    top, bottom : int, optional
        Keep the ``k`` highest or lowest predictions (ties: enumeration order).
    above, below : float, optional
        Keep only predictions above / below these values (with ``top``/``bottom``: among
        those, the best ``k``). With neither ``top`` nor ``bottom``, every candidate past
        the thresholds is kept, and written chunk by chunk when ``output`` is given.
    output : path-like, optional
        A ``.parquet`` (needs pyarrow) or ``.csv`` file.
    return_std : bool or "auto", default="auto"
        Add the ensemble's ``std`` column ("auto": when the model gives one).
    chunk_size : int, default=65536
        Candidates per chunk (whole systems per chunk); memory is about 350 bytes per
        candidate of a chunk, whatever the size of ``space``.
    batch_size : int, optional
        Rows per forward pass of skmatnet networks (restored afterwards). Default: 1024
        for networks on a CPU (faster there than their own 4096), theirs on a GPU.
    scheduler : str or distributed.Client, optional
        Run the chunks as Dask tasks: ``"local:N"``, a scheduler address or a client
        (see :func:`skmatnet.connect_dask`). The model is sent to each worker once; at
        most two tasks per worker are queued, so client memory stays bounded. The
        result equals the local one.
    chunks_per_task : int, default=1
        Chunks per Dask task. On Dask, chunks are made smaller than ``chunk_size`` where
        the space is small, so that every worker gets at least four.
    progress : callable, optional
        Called as ``progress(done, total)`` with candidate counts after each chunk/task.

    Returns
    -------
    ScreeningResult
    """
    selection = _check_selection(top, bottom, above, below)
    if not isinstance(space, CompositionSpace):
        raise TypeError(f"space must be a CompositionSpace, got {type(space).__name__}")
    predictor = _Predictor(model, return_std, batch_size)  # checks the model first
    value_column = predictor.value_column
    kind = check_output(output) if output is not None else None
    total = len(space)
    start = time.perf_counter()
    best: pd.DataFrame | None = None
    kept: list[pd.DataFrame] = []
    done = 0

    def take(frame: pd.DataFrame | None, count: int) -> None:
        nonlocal best, done
        done += count
        if frame is not None and len(frame):
            if selection.k is not None:
                best = _merge(best, frame, selection, value_column)
            elif writer is not None:
                writer.write(frame)
            else:
                kept.append(frame)
        if progress is not None:
            progress(done, total)

    columns = ["id", "formula", "system", *_output_columns(predictor)]
    with contextlib.ExitStack() as stack:
        writer = None if kind is None else _Writer(
            stack.enter_context(atomic_open(output, parents=False)), kind)
        if writer is not None:
            stack.callback(writer.close)
        if scheduler is None:
            for block in space.blocks(chunk_size):
                take(*_screen_block(predictor, space, [block], selection))
        else:
            _run_on_dask(model, space, selection, return_std, batch_size, chunk_size,
                         scheduler, chunks_per_task, take)
        if writer is not None and selection.k is not None and best is not None:
            writer.write(best)
        if writer is not None:
            writer.finish(columns)
    if selection.k is not None:
        frame = best if best is not None else pd.DataFrame({c: [] for c in columns})
        n_kept = len(frame)
    elif writer is not None:
        n_kept, frame = writer.rows, None
    else:
        frame = (pd.concat(kept, ignore_index=True) if kept
                 else pd.DataFrame({c: [] for c in columns}))
        n_kept = len(frame)
    return ScreeningResult(frame=frame, path=None if output is None else Path(output),
                           n_candidates=done, n_kept=n_kept,
                           seconds=time.perf_counter() - start,
                           scheduler=None if scheduler is None else str(scheduler))


def _output_columns(predictor: _Predictor) -> list[str]:
    if predictor.classes is not None:
        return [predictor.value_column, "label"]
    return ["prediction", "std"] if predictor.return_std else ["prediction"]


def _run_on_dask(model, space, selection, return_std, batch_size, chunk_size, scheduler,
                 chunks_per_task, take) -> None:
    """The chunks as Dask tasks, a bounded number in flight; results taken in task order,
    so that a threshold stream is written in enumeration order, as locally."""
    from ._dask import connect_dask, import_distributed

    distributed = import_distributed()
    with connect_dask(scheduler) as client:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        # Enough tasks to keep every worker busy to the end (chunking changes no result).
        chunk_size = max(1, min(chunk_size, math.ceil(len(space) / (4 * n_workers))))
        model_future = client.scatter(model, broadcast=True, hash=False)
        tasks = enumerate(_grouped(space.blocks(chunk_size), max(1, int(chunks_per_task))))
        pending: dict[int, Any] = {}
        finished: dict[int, Any] = {}
        queue = distributed.as_completed()
        next_index = 0

        def submit_one() -> bool:
            try:
                index, blocks = next(tasks)
            except StopIteration:
                return False
            future = client.submit(_screen_task, model_future, space, blocks, selection,
                                   return_std, batch_size, pure=False, retries=2,
                                   key=f"screen-{index}-{os.getpid()}-{time.monotonic_ns()}")
            pending[future.key] = index
            queue.add(future)
            return True

        for _ in range(2 * n_workers):
            if not submit_one():
                break
        for future in queue:
            index = pending.pop(future.key)
            finished[index] = future.result()
            future.release()
            while next_index in finished:
                take(*finished.pop(next_index))
                next_index += 1
            submit_one()
