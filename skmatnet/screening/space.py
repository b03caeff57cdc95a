"""The candidates of a screen: :class:`CompositionSpace` and its chunks.

Over many elements the candidates run into millions (ternaries) or billions
(quaternaries), so they are never held in memory: a space is a list of groups of
systems of one size, counted without listing them, and cut into picklable
:class:`_Block` descriptions that a process (or a Dask worker) turns into a
:class:`CandidateChunk`, built directly as its element-fraction matrix.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np

from ..elements import ELEMENT_INDEX, ELEMENTS, N_ELEMENTS, PERIODIC_TABLE

__all__ = ["DEFAULT_CHUNK_SIZE", "CandidateChunk", "CompositionSpace"]

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

    def _positions(self, rows) -> Sequence[int]:
        return range(len(self)) if rows is None else np.asarray(rows, dtype=np.int64).tolist()

    def formulas(self, rows: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """Formula strings of ``rows`` (default: all), e.g. ``"Li2MnO3"``.

        Parameters
        ----------
        rows : sequence of int, ndarray or None, default=None
            Positions in this chunk (``0`` to ``len(self) - 1``, not candidate ids);
            ``None``: every row, in order.

        Returns
        -------
        list of str
        """
        m = len(self.patterns)
        rows = self._positions(rows)
        out = []
        for r in rows:
            system, texts = self.systems[r // m], self._texts[r % m]
            out.append("".join(ELEMENTS[e] + t for e, t in zip(system.tolist(), texts,
                                                                 strict=True)))
        return out

    def system_names(self, rows: Sequence[int] | np.ndarray | None = None) -> list[str]:
        """Chemical systems of ``rows``, e.g. ``"Li-Mn-O"``.

        Parameters
        ----------
        rows : sequence of int, ndarray or None, default=None
            Positions in this chunk (``0`` to ``len(self) - 1``, not candidate ids);
            ``None``: every row, in order.

        Returns
        -------
        list of str
        """
        m = len(self.patterns)
        rows = self._positions(rows)
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
        """Picklable chunk descriptions, in enumeration order (see :meth:`chunk`).

        Parameters
        ----------
        chunk_size : int, default=65536
            Candidates per chunk, at most: each chunk holds as many whole systems as fit
            (at least one, even where one system has more candidates). Must be positive.

        Yields
        ------
        _Block
            One chunk's group, systems and first candidate id.

        Raises
        ------
        ValueError
            For a ``chunk_size`` below 1.
        """
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
        """The candidates a block describes.

        Parameters
        ----------
        block : _Block
            A chunk description from :meth:`blocks` of this space.

        Returns
        -------
        CandidateChunk
        """
        n, pool, explicit = self._groups[block.group]
        if explicit is not None:
            systems = explicit[block.start:block.stop]
        else:
            systems = pool[_combination_block(len(pool), n, block.start, block.stop)]
        return CandidateChunk(systems=systems, patterns=self._group_patterns(block.group),
                              start=block.offset,
                              _texts=_pattern_texts(n, self.max_atoms, self.grid))

    def chunks(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Iterator[CandidateChunk]:
        """The candidates as chunks of about ``chunk_size`` (whole systems per chunk).

        Parameters
        ----------
        chunk_size : int, default=65536
            Candidates per chunk, at most: each chunk holds as many whole systems as fit
            (at least one, even where one system has more candidates). Must be positive.

        Returns
        -------
        iterator of CandidateChunk
            In enumeration order; a ``chunk_size`` below 1 raises ``ValueError`` when
            iteration starts.
        """
        return (self.chunk(block) for block in self.blocks(chunk_size))

    def formulas(self) -> Iterator[str]:
        """Every candidate's formula, in order (for small spaces and checks)."""
        for chunk in self.chunks():
            yield from chunk.formulas()
