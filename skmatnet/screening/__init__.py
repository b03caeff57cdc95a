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
from .predict import CPU_BATCH_SIZE as CPU_BATCH_SIZE
from .predict import _output_columns, _Predictor
from .select import _check_selection, _merge, _screen_block
from .space import DEFAULT_CHUNK_SIZE, CandidateChunk, CompositionSpace
from .space import _combination_block as _combination_block
from .writers import _Writer, check_output

__all__ = [
    "CandidateChunk",
    "CompositionSpace",
    "ScreeningResult",
    "check_output",
    "screen",
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
