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

The package has one module per concern: :mod:`.space` (enumeration), :mod:`.predict`
(a model as a chunk predictor), :mod:`.select` (thresholds, top/bottom ``k``),
:mod:`.writers` (Parquet, CSV) and :mod:`._dask` (the chunks as Dask tasks); :func:`screen`
here puts them together.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

# "X as X" below: names importable from here as when this package was one module (the
# tests check _combination_block against itertools).
from .._io import atomic_open
from ._dask import _run_on_dask
from .acquisition import (
    ACQUISITIONS,
    expected_improvement,
    lower_confidence_bound,
    select_batch,
)
from .hull import HullReference, probability_below_hull
from .predict import CPU_BATCH_SIZE as CPU_BATCH_SIZE
from .predict import RANK_BY, _check_scoring, _output_columns, _Predictor
from .select import _check_selection, _merge, _screen_block
from .space import DEFAULT_CHUNK_SIZE, CandidateChunk, CompositionSpace
from .space import _combination_block as _combination_block
from .writers import _Writer, check_output

__all__ = [
    "ACQUISITIONS",
    "RANK_BY",
    "CandidateChunk",
    "CompositionSpace",
    "HullReference",
    "ScreeningResult",
    "check_output",
    "expected_improvement",
    "lower_confidence_bound",
    "probability_below_hull",
    "screen",
    "select_batch",
    "suggest",
]

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
    scheduler : str or None, default=None
        The ``scheduler`` the chunks ran on as Dask tasks, as text (``str`` of what
        :func:`screen` was given); ``None`` when they ran in this process.
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


def screen(model: Any, space: CompositionSpace, *, top: int | None = None,
           bottom: int | None = None, above: float | None = None, below: float | None = None,
           output: str | os.PathLike | None = None, return_std: bool | str = "auto",
           chunk_size: int = DEFAULT_CHUNK_SIZE, batch_size: int | None = None,
           scheduler: Any = None, chunks_per_task: int = 1,
           progress: Callable[[int, int], None] | None = None, references: Any = None,
           rank_by: str | None = None, kappa: float = 1.0) -> ScreeningResult:
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
    references : str, path-like, pandas.DataFrame or HullReference, optional
        Known compounds' formation energies per atom (a dataset name such as
        ``"mp_formation_energy"``, a CSV file, a DataFrame; see :class:`HullReference`):
        adds ``e_above_hull`` (the prediction minus the hull energy at the candidate's
        composition, negative below the hull) and, for an ensemble,
        ``probability_below_hull``. The model must predict formation energy per atom (eV/atom).
    rank_by : str, optional
        The column that ``top``/``bottom``/``above``/``below`` apply to: ``"prediction"``
        (the default; a classifier's probability column), ``"e_above_hull"``, or for an
        ensemble ``"probability_below_hull"``, ``"lower_confidence_bound"`` (``e_above_hull
        - kappa * std``) or ``"expected_improvement"`` (below the hull); the last two add
        their column. All but ``"prediction"`` need ``references``. Lower is better for
        ``e_above_hull`` and the confidence bound (use ``bottom``), higher for the others
        (``top``); see :mod:`skmatnet.screening.acquisition`. Equal scores (a probability
        rounds to 1 for every candidate far below the hull) are ranked by ``e_above_hull``,
        lower first.
    kappa : float, default=1.0
        The uncertainty's weight in ``lower_confidence_bound``.

    Returns
    -------
    ScreeningResult
    """
    selection = _check_selection(top, bottom, above, below)
    if not isinstance(space, CompositionSpace):
        raise TypeError(f"space must be a CompositionSpace, got {type(space).__name__}")
    predictor = _Predictor(model, return_std, batch_size)  # checks the model first
    scoring = _check_scoring(predictor, references, rank_by, kappa)
    predictor = _Predictor(model, return_std, batch_size, scoring)
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
                         scheduler, chunks_per_task, take, scoring)
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


def suggest(model: Any, space: CompositionSpace, references: Any, *, n: int = 20,
            acquisition: str = "lower_confidence_bound", kappa: float = 1.0,
            max_per_system: int | None = 2, min_distance: float = 0.05,
            pool: int | None = None, exclude_known: bool = True, **screen_options: Any,
            ) -> ScreeningResult:
    """The next ``n`` compositions to compute: an ensemble's acquisition, spread out.

    Screens ``space`` ranked by ``acquisition`` (on the energy above the hull of
    ``references``, with the ensemble's std), keeps the best ``pool`` candidates, drops
    those already among the references (``exclude_known``), then picks ``n`` with
    :func:`select_batch`: best first, at most ``max_per_system`` per chemical system and
    none within ``min_distance`` (the share of atoms that differ) of an earlier pick.

    Parameters
    ----------
    model : estimator
        A fitted ensemble of formation energy per atom (``predict(X, return_std=True)``),
        as for :func:`screen`.
    space : CompositionSpace
        The candidates.
    references : str, path-like, pandas.DataFrame or HullReference
        The known compounds (see :class:`HullReference`).
    n : int, default=20
        Batch size.
    acquisition : str, default="lower_confidence_bound"
        ``"lower_confidence_bound"``, ``"expected_improvement"`` or
        ``"probability_below_hull"`` (:data:`ACQUISITIONS`).
    kappa : float, default=1.0
        The uncertainty's weight in the lower confidence bound.
    max_per_system : int or None, default=2
        Picks per chemical system at most (``None``: no limit).
    min_distance : float, default=0.05
        Smallest composition distance between two picks (0: none).
    pool : int, optional
        Candidates kept by the screen before the spread selection. Default:
        ``max(50 * n, 1000)``.
    exclude_known : bool, default=True
        Leave out compositions that are among the references.
    **screen_options
        Passed to :func:`screen`: ``chunk_size``, ``batch_size``, ``scheduler``,
        ``chunks_per_task``, ``progress``, ``output`` (the batch is written there).

    Returns
    -------
    ScreeningResult
        ``frame`` is the batch, best first, with ``pick`` and ``relaxed`` columns (see
        :func:`select_batch`); ``n_candidates`` the candidates screened.
    """
    import dataclasses

    if acquisition not in ACQUISITIONS:
        raise ValueError(f"acquisition must be one of {', '.join(ACQUISITIONS)}, got "
                         f"{acquisition!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    for name in ("top", "bottom", "above", "below", "rank_by", "return_std"):
        if name in screen_options:
            raise TypeError(f"suggest() sets {name} itself")
    output = screen_options.pop("output", None)
    kind = check_output(output) if output is not None else None
    hull = references if isinstance(references, HullReference) else HullReference(references)
    pool = max(50 * n, 1000) if pool is None else int(pool)
    lower = ACQUISITIONS[acquisition]
    start = time.perf_counter()
    result = screen(model, space, references=hull, rank_by=acquisition, kappa=kappa,
                    return_std=True, **({"bottom": pool} if lower else {"top": pool}),
                    **screen_options)
    frame = result.frame
    if exclude_known and len(frame):
        frame = frame[~hull.is_known(frame["formula"].tolist())]
    batch = select_batch(frame, n, score=acquisition, lower_is_better=lower,
                         max_per_system=max_per_system, min_distance=min_distance)
    if output is not None:
        with atomic_open(output, parents=False) as handle:
            writer = _Writer(handle, kind)
            try:
                writer.write(batch)
            finally:
                writer.close()
    return dataclasses.replace(result, frame=batch, n_kept=len(batch),
                               path=None if output is None else Path(output),
                               seconds=time.perf_counter() - start)
