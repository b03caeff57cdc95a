"""Energy above the convex hull of known compounds, vectorised per chemical system.

A composition is stable when its formation energy per atom lies on or below the lower convex
hull of the known phases of its chemical system (the elements at zero included): its energy
above the hull is zero or negative. :class:`HullReference` holds the known compounds and,
for any batch of compositions, gives the hull energy at each by one computation per chemical
system, not per composition:

1. the references whose elements are a subset of the system (its subsystems included),
   the elements at zero energy (lowered by an elemental reference below zero), are points
   ``(fractions, energy)`` in composition space;
2. their lower convex hull comes from qhull (:class:`scipy.spatial.ConvexHull`) as in
   pymatgen's ``PhaseDiagram``: reduced coordinates (the first fraction dropped), one extra
   point high above the centre so that the hull is always full-dimensional, the facets
   through that point dropped, and the vertical facets too (their projection onto
   composition space has no volume);
3. for ``m`` compositions and ``F`` lower facets, the barycentric coordinates of every
   composition in every facet are one matrix product (``F x m x n``); the hull energy is the
   facet plane's value at the facet that contains the composition (all coordinates
   ``>= -1e-9``).

The facets are computed once per system and cached, so ranking millions of candidates of a
few thousand systems costs a few thousand qhull calls. :meth:`HullReference.phase_diagram`
builds pymatgen's ``PhaseDiagram`` of the same references, the reference implementation the
tests hold this one to (``get_e_above_hull(..., allow_negative=True)``, to 1e-9 eV/atom).
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from collections.abc import Sequence
from itertools import combinations
from math import erf, sqrt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..elements import ELEMENT_INDEX, ELEMENTS, N_ELEMENTS

__all__ = ["HullReference", "probability_below_hull"]

#: Barycentric coordinates above this are inside a facet (shared edges, rounding).
_INSIDE = -1e-9
#: Systems whose facets are kept (a least-recently-used cache; each is a few kB).
_CACHE_SIZE = 65_536
#: Energy columns recognised in a CSV or DataFrame when ``energy_column`` is not given.
_ENERGY_NAMES = ("energy", "formation_energy", "formation_energy_per_atom", "e_form",
                 "delta_e", "target")


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import ndtr
    except ImportError:  # pragma: no cover - scipy is a dependency
        return np.vectorize(lambda v: 0.5 * (1 + erf(v / sqrt(2))))(z)
    return ndtr(z)


def probability_below_hull(e_above_hull: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The probability that a composition lies on or below the hull: ``Phi(-e / std)``.

    The prediction is taken as normal with the ensemble's mean and (calibrated) standard
    deviation; the hull of known compounds is taken as exact.

    Parameters
    ----------
    e_above_hull : array-like of shape (n,)
        Predicted (mean) energy above the hull, eV/atom.
    std : array-like of shape (n,)
        The prediction's standard deviation. Where it is 0, the probability is 1 at or below
        the hull and 0 above.

    Returns
    -------
    ndarray of shape (n,)
    """
    e = np.asarray(e_above_hull, dtype=np.float64)
    s = np.asarray(std, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, -e / np.where(s > 0, s, 1.0), np.where(e <= 0, np.inf, -np.inf))
    return _normal_cdf(z)


def _read_references(references: Any, formula_column: str,
                     energy_column: str | None) -> tuple[pd.DataFrame, str]:
    """A frame of formulas and energies, and a description of where it came from."""
    if isinstance(references, pd.DataFrame):
        frame, source = references, "the references DataFrame"
    elif isinstance(references, (str, os.PathLike)):
        text = str(references)
        path = Path(text)
        from ..datasets import list_datasets, load_dataset

        if not path.is_file() and text in list_datasets():
            # dedupe="min": the lowest energy per composition, as a hull wants.
            frame = load_dataset(text, dedupe="min")
            return (frame.rename(columns={"target": "energy"})[["formula", "energy"]],
                    f"dataset {text!r}")
        if not path.is_file():
            raise FileNotFoundError(
                f"references {text!r}: neither a file nor a dataset name (one of "
                f"{', '.join(list_datasets())})")
        frame, source = pd.read_csv(path), f"{path.name}"
    else:
        raise TypeError("references must be a dataset name, a CSV path or a DataFrame of "
                        f"formulas and energies, got {type(references).__name__}")
    if formula_column not in frame.columns:
        raise ValueError(f"{source}: no {formula_column!r} column (columns: "
                         f"{', '.join(map(str, frame.columns))}); name it with "
                         "formula_column")
    if energy_column is None:
        named = [c for c in _ENERGY_NAMES if c in frame.columns]
        numeric = [c for c in frame.columns if c != formula_column
                   and pd.api.types.is_numeric_dtype(frame[c])]
        if named:
            energy_column = named[0]
        elif len(numeric) == 1:
            energy_column = numeric[0]
        else:
            raise ValueError(f"{source}: which column is the formation energy per atom? "
                             f"name it with energy_column (columns: "
                             f"{', '.join(map(str, frame.columns))})")
    elif energy_column not in frame.columns:
        raise ValueError(f"{source}: no {energy_column!r} column (columns: "
                         f"{', '.join(map(str, frame.columns))})")
    out = pd.DataFrame({"formula": frame[formula_column].to_numpy(),
                        "energy": pd.to_numeric(frame[energy_column], errors="coerce")})
    # Rows named as a person reads the file: the CSV's line numbers start at 2.
    out.index = np.arange(len(out)) + (2 if source.endswith(".csv") else 0)
    bad = out.index[~np.isfinite(out["energy"].to_numpy(dtype=np.float64))]
    if len(bad):
        row = bad[0]
        raw = frame[energy_column].iloc[int(np.flatnonzero(out.index == row)[0])]
        where = "line" if source.endswith(".csv") else "row"
        raise ValueError(f"{source}: {where} {row} ({out.loc[row, 'formula']!r}) has no "
                         f"finite energy (got {raw if not isinstance(raw, str) else repr(raw)})"
                         f"; {len(bad)} such row"
                         f"{'s' * (len(bad) != 1)}: drop or fill them")
    return out, source


def _parse(formula: Any, what: str) -> dict[int, float]:
    from ..featurizer import parse_formula

    if formula is None or (isinstance(formula, float) and formula != formula):
        raise ValueError(f"{what}: the formula is missing")
    if not isinstance(formula, str):
        raise ValueError(f"{what}: the formula {formula!r} is not text")
    try:
        amounts = parse_formula(formula)
    except ValueError as exc:
        raise ValueError(f"{what}: {formula!r}: {exc}") from None
    return {ELEMENT_INDEX[s]: float(a) for s, a in amounts.items() if a > 0}


class _Hull:
    """The lower hull of one chemical system: facets as barycentric maps and energies."""

    def __init__(self, elements: tuple[int, ...], fractions: np.ndarray, energies: np.ndarray):
        self.elements = elements
        n = len(elements)
        self.n = n
        if n == 1:
            self.maps = None
            self.energy = float(energies.min())
            return
        # One point per composition (its lowest energy).
        keys = np.round(fractions, 12)
        order = np.lexsort((energies, *keys.T[::-1]))
        keys, fractions, energies = keys[order], fractions[order], energies[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = np.any(keys[1:] != keys[:-1], axis=1)
        fractions, energies = fractions[first], energies[first]
        self.points, self.point_energies = fractions, energies
        if len(fractions) == n:  # the elements only: one facet
            facets = [np.arange(n)]
        else:
            from scipy.spatial import ConvexHull

            data = np.column_stack([fractions[:, 1:], energies])
            extra = np.full(n, 1.0 / n)
            extra[-1] = max(float(data.max()), 0.0) + 1.0
            data = np.vstack([data, extra])
            hull = ConvexHull(data, qhull_options="Qt i")
            facets = [f for f in hull.simplices if f.max() != len(data) - 1]
        maps, facet_energies = [], []
        for facet in facets:
            matrix = np.column_stack([fractions[facet][:, 1:], np.ones(n)])  # (n, n) rows
            if abs(np.linalg.det(matrix)) <= 1e-14:  # vertical: no area in composition
                continue
            # lambda = inv(matrix.T) @ [x_reduced, 1]
            maps.append(np.linalg.inv(matrix.T))
            facet_energies.append(energies[facet])
        self.maps = np.array(maps)            # (F, n, n)
        self.facet_energies = np.array(facet_energies)  # (F, n)

    def energy_at(self, fractions: np.ndarray) -> np.ndarray:
        """Hull energies at compositions given as fractions over this system's elements,
        float64 of shape (m, n), rows summing to 1."""
        if self.maps is None:
            return np.full(len(fractions), self.energy)
        q = np.column_stack([fractions[:, 1:], np.ones(len(fractions))])      # (m, n)
        lam = np.einsum("fij,mj->fmi", self.maps, q)                          # (F, m, n)
        values = np.einsum("fmi,fi->fm", lam, self.facet_energies)           # (F, m)
        worst = lam.min(axis=2)                                               # (F, m)
        inside = worst >= _INSIDE
        out = np.where(inside, values, -np.inf).max(axis=0)
        lost = ~inside.any(axis=0)
        if lost.any():  # rounding at an edge: the facet it is least outside of
            best = worst[:, lost].argmax(axis=0)
            out[lost] = values[best, np.flatnonzero(lost)]
        return out


def _pack_groups(groups: dict) -> dict:
    """The per-system arrays as one array of each kind per system size (pickled fast)."""
    order = list(groups)
    packed: dict[int, tuple] = {}
    for size in sorted({len(k) for k in order}):
        positions = np.array([i for i, k in enumerate(order) if len(k) == size])
        keys = [order[i] for i in positions]
        counts = np.array([len(groups[k][1]) for k in keys])
        packed[size] = (positions, np.array(keys, dtype=np.int64), counts,
                        np.concatenate([groups[k][0] for k in keys]),
                        np.concatenate([groups[k][1] for k in keys]))
    return packed


def _unpack_groups(packed: dict) -> dict:
    """The dict :func:`_pack_groups` packed, in its order (the hulls stack their rows so)."""
    entries: dict[int, tuple] = {}
    for positions, keys, counts, fractions, energies in packed.values():
        bounds = np.cumsum(counts)[:-1]
        for position, key, f, e in zip(positions.tolist(), keys.tolist(),
                                       np.split(fractions, bounds),
                                       np.split(energies, bounds), strict=True):
            entries[position] = (tuple(key), (f, e))
    return dict(entries[i] for i in range(len(entries)))


def _restore_hull_reference(state: bytes) -> HullReference:
    reference = HullReference.__new__(HullReference)
    reference.__dict__.update(pickle.loads(state))
    reference._groups = _unpack_groups(reference._groups)
    return reference


class HullReference:
    """Known compounds' formation energies, and the energy above their convex hull.

    Parameters
    ----------
    references : str, path-like or pandas.DataFrame
        Formation energies per atom (eV/atom) of known compositions: a dataset name of
        :func:`skmatnet.datasets.list_datasets` (e.g. ``"mp_formation_energy"``, loaded with
        the lowest energy per composition), a CSV file, or a DataFrame, with a formula column
        and an energy column. The elements are added at zero energy.
    formula_column : str, default="formula"
        The formula column of a CSV file or DataFrame.
    energy_column : str, optional
        The energy column. Default: the first of ``energy``, ``formation_energy``,
        ``formation_energy_per_atom``, ``e_form``, ``delta_e``, ``target`` present, else the
        only numeric column besides the formulas.

    Attributes
    ----------
    table : pandas.DataFrame
        The references used: ``formula``, ``energy``, ``system`` (elements joined by ``-``,
        in :data:`~skmatnet.ELEMENTS` order), one row per composition.
    n_duplicates : int
        Rows dropped because a composition (compared by its fractions: ``Fe2O3`` and
        ``Fe4O6`` are one) appears more than once; the lowest energy is kept, as the most
        stable structure of that composition is the one on the hull.

    Raises
    ------
    ValueError
        A row whose formula does not parse or names an element outside the 86 the networks
        know (noble gases, Po, At, Rn, Fr, Ra), or whose energy is missing or not finite:
        the message names the row (the line, for a CSV file) and the value.

    Notes
    -----
    The hull is the lower convex hull of the references of a candidate's chemical system and
    of all its subsystems, with every element at zero (or at its lowest elemental reference,
    where that is below zero). A candidate of a system with no references but its elements
    has the elements' plane as its hull (energy above hull = its formation energy). The
    facets of each system are computed once (cached, least recently used, 65,536 systems).

    Examples
    --------
    >>> hull = HullReference(pd.DataFrame({"formula": ["LiO", "Li2O"],
    ...                                    "energy": [-1.0, -2.0]}))
    >>> hull.e_above_hull(["Li2O", "LiO", "LiO2"], [-2.0, -1.0, -0.5]).round(4).tolist()
    [0.0, 0.5, 0.5]
    """

    def __init__(self, references: Any, *, formula_column: str = "formula",
                 energy_column: str | None = None):
        frame, source = _read_references(references, formula_column, energy_column)
        where = "line" if source.endswith(".csv") else "row"
        self.source = source
        parsed = [_parse(f, f"{source}: {where} {row}")
                  for row, f in zip(frame.index, frame["formula"], strict=True)]
        keys, systems, fractions = [], [], []
        for amounts in parsed:
            elements = tuple(sorted(amounts))
            total = sum(amounts.values())
            fraction = tuple(amounts[e] / total for e in elements)
            systems.append(elements)
            fractions.append(fraction)
            keys.append((elements, tuple(round(x, 12) for x in fraction)))
        table = pd.DataFrame({"formula": frame["formula"].to_numpy(),
                              "energy": frame["energy"].to_numpy(dtype=np.float64),
                              "key": keys})
        table["order"] = np.arange(len(table))
        kept = table.sort_values(["energy", "order"], kind="stable").drop_duplicates("key")
        kept = kept.sort_values("order")
        self.n_duplicates = len(table) - len(kept)
        # system (sorted element indices) -> (fractions over them, energies)
        groups: dict[tuple[int, ...], tuple[list, list]] = {}
        energies = table["energy"].to_numpy()
        for i in kept["order"].to_numpy():
            entry = groups.setdefault(systems[i], ([], []))
            entry[0].append(fractions[i])
            entry[1].append(energies[i])
        self._groups = {k: (np.array(f, dtype=np.float64), np.array(e, dtype=np.float64))
                        for k, (f, e) in groups.items()}
        self._sizes = sorted({len(k) for k in self._groups})
        self.table = pd.DataFrame({
            "formula": kept["formula"].to_numpy(),
            "energy": kept["energy"].to_numpy(),
            "system": ["-".join(ELEMENTS[e] for e in systems[i]) for i in kept["order"]],
        })
        self._known = {keys[i] for i in kept["order"].to_numpy()}
        self._cache: OrderedDict = OrderedDict()

    def __repr__(self) -> str:
        return (f"HullReference({self.source}: {len(self.table):,} compositions in "
                f"{len(self._groups):,} systems)")

    # Sent to Dask workers once per screen: pickled without the cache, and as one bytes
    # object. Dask would otherwise send each of the tens of thousands of small per-system
    # arrays as a buffer of its own: MP's references took about 10 s per screen to reach
    # two local workers that way, against 1.5-2 s.
    def __reduce__(self):
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()
        state["_groups"] = _pack_groups(self._groups)
        return (_restore_hull_reference, (pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),))

    # -- the hull of one system

    def _subsystem_keys(self, system: tuple[int, ...]) -> list[tuple[int, ...]]:
        n = len(system)
        if 2 ** n <= 4 * len(self._groups):
            return [c for k in self._sizes if k <= n for c in combinations(system, k)
                    if c in self._groups]
        members = set(system)
        return [k for k in self._groups if members.issuperset(k)]

    def _hull(self, system: tuple[int, ...]) -> _Hull:
        """The (cached) hull of ``system``: sorted element indices."""
        hull = self._cache.get(system)
        if hull is not None:
            self._cache.move_to_end(system)
            return hull
        n = len(system)
        position = {e: i for i, e in enumerate(system)}
        fractions = [np.eye(n)]
        energies = [np.zeros(n)]
        for key in self._subsystem_keys(system):
            local, energy = self._groups[key]
            block = np.zeros((len(local), n))
            block[:, [position[e] for e in key]] = local
            fractions.append(block)
            energies.append(energy)
        hull = _Hull(system, np.vstack(fractions), np.concatenate(energies))
        self._cache[system] = hull
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return hull

    def _system_energies(self, system: Sequence[int], fractions: np.ndarray) -> np.ndarray:
        """Hull energies of compositions of one system: ``fractions`` (m, n) over the
        elements ``system`` in any order."""
        order = np.argsort(system)
        return self._hull(tuple(int(system[i]) for i in order)).energy_at(
            np.asarray(fractions, dtype=np.float64)[:, order])

    # -- public

    def hull_energy(self, compositions: Any) -> np.ndarray:
        """The hull's formation energy per atom at each composition.

        Parameters
        ----------
        compositions : sequence of str or array-like of shape (n, 86)
            Formulas, or element-fraction rows in :data:`~skmatnet.ELEMENTS` order (float64
            fractions give the exact hull; float32 ones are rounded to 1e-7).

        Returns
        -------
        ndarray of shape (n,)
            eV/atom, zero or below.
        """
        systems, fractions = self._compositions(compositions)
        out = np.empty(len(systems))
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, system in enumerate(systems):
            groups.setdefault(system, []).append(i)
        for system, rows in groups.items():
            out[rows] = self._system_energies(system, fractions[rows][:, list(system)])
        return out

    def e_above_hull(self, compositions: Any, energies: Any) -> np.ndarray:
        """Energy above the hull: ``energies`` minus the hull energy (negative below it).

        Equal to pymatgen's ``PhaseDiagram.get_e_above_hull(entry, allow_negative=True)``
        of the same references.

        Parameters
        ----------
        compositions : sequence of str or array-like of shape (n, 86)
            Formulas or element-fraction rows (see :meth:`hull_energy`).
        energies : array-like of shape (n,)
            Formation energies per atom (eV/atom), e.g. a model's predictions.

        Returns
        -------
        ndarray of shape (n,)
        """
        energies = np.asarray(energies, dtype=np.float64).reshape(-1)
        hull = self.hull_energy(compositions)
        if len(hull) != len(energies):
            raise ValueError(f"{len(hull)} compositions but {len(energies)} energies")
        return energies - hull

    def chunk_hull_energy(self, systems: np.ndarray, patterns: np.ndarray) -> np.ndarray:
        """Hull energies of a screening chunk's candidates, in its row order.

        Parameters
        ----------
        systems : ndarray of shape (s, n)
            Element indices of each system (a :class:`~skmatnet.screening.CandidateChunk`'s
            ``systems``).
        patterns : ndarray of shape (m, n)
            The amounts shared by every system (the chunk's ``patterns``); fractions are
            computed from them in float64.

        Returns
        -------
        ndarray of shape (s * m,)
        """
        patterns = np.asarray(patterns, dtype=np.float64)
        fractions = patterns / patterns.sum(axis=1, keepdims=True)
        if not len(systems) or not len(fractions):
            return np.zeros(0)
        return np.concatenate([self._system_energies(tuple(s), fractions)
                               for s in np.asarray(systems).tolist()])

    def is_known(self, compositions: Any) -> np.ndarray:
        """Whether each composition is one of the references (compared by fractions,
        rounded to 12 digits: ``Fe4O6`` is ``Fe2O3``).

        Parameters
        ----------
        compositions : sequence of str or array-like of shape (n, 86)
            Formulas or element-fraction rows (see :meth:`hull_energy`).

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        systems, fractions = self._compositions(compositions)
        return np.array([(s, tuple(round(float(x), 12) for x in fractions[i, list(s)]))
                         in self._known for i, s in enumerate(systems)], dtype=bool)

    def phase_diagram(self, system: str | Sequence[str]) -> Any:
        """pymatgen's ``PhaseDiagram`` of one chemical system's references (and elements).

        The reference implementation this class is tested against; it needs pymatgen
        (``pip install pymatgen``, or the ``dev`` extra).

        Parameters
        ----------
        system : str or sequence of str
            ``"Li-Mn-O"`` or ``["Li", "Mn", "O"]``.

        Returns
        -------
        pymatgen.analysis.phase_diagram.PhaseDiagram
            Its entries are ``PDEntry`` objects whose energy is the formation energy per
            atom times the atoms of the formula.
        """
        try:
            from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
            from pymatgen.core import Composition
        except ImportError:
            raise ImportError("phase_diagram needs pymatgen: pip install pymatgen (or "
                              "pip install 'skmatnet[dev]')") from None
        symbols = system.split("-") if isinstance(system, str) else list(system)
        indices = tuple(sorted(ELEMENT_INDEX[s] for s in symbols))
        entries = [PDEntry(Composition({ELEMENTS[e]: 1}), 0.0) for e in indices]
        for key in self._subsystem_keys(indices):
            local, energy = self._groups[key]
            for row, e in zip(local, energy, strict=True):
                entries.append(PDEntry(Composition(
                    {ELEMENTS[k]: float(x) for k, x in zip(key, row, strict=True)}), float(e)))
        return PhaseDiagram(entries)

    def _compositions(self, compositions: Any) -> tuple[list[tuple[int, ...]], np.ndarray]:
        """Systems (sorted element indices) and float64 fraction rows of ``compositions``."""
        if isinstance(compositions, str):
            compositions = [compositions]
        if isinstance(compositions, np.ndarray) and compositions.ndim == 2:
            if compositions.shape[1] != N_ELEMENTS:
                raise ValueError(f"fraction rows must have {N_ELEMENTS} columns, got "
                                 f"{compositions.shape[1]}")
            fractions = np.asarray(compositions, dtype=np.float64)
        else:
            items = list(compositions)
            fractions = np.zeros((len(items), N_ELEMENTS))
            for i, formula in enumerate(items):
                amounts = _parse(formula, f"composition {i}")
                total = sum(amounts.values())
                for e, a in amounts.items():
                    fractions[i, e] = a / total
        if len(fractions) and (fractions < 0).any():
            raise ValueError("fractions must not be negative")
        totals = fractions.sum(axis=1, keepdims=True)
        if (totals <= 0).any():
            raise ValueError(f"composition {int(np.flatnonzero(totals <= 0)[0])} is empty")
        fractions = fractions / totals
        systems = [tuple(np.flatnonzero(row).tolist()) for row in fractions > 0]
        return systems, fractions
