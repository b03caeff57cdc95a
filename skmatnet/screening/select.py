"""Which candidates a screen keeps: thresholds, then the top or bottom ``k``.

A chunk is predicted and cut down to the rows that survive (:func:`_chunk_frame`);
the survivors of all chunks are merged in one order, best first and ties by id, so that
the result does not depend on how the space was chunked or where a chunk ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .acquisition import _tiebreak
from .predict import _Predictor, _Scoring
from .space import CandidateChunk, CompositionSpace, _Block


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

    def order(self, values: np.ndarray, ids: np.ndarray,
              tiebreak: np.ndarray | None = None) -> np.ndarray:
        """Indices of the best ``k`` (all without ``k``), best first; ties by ``tiebreak``
        (lower first) when given, then by id."""
        if self.k is None:
            return np.argsort(ids, kind="stable")
        key = -values if self.top is not None else values
        keys = (ids, key) if tiebreak is None else (ids, tiebreak, key)
        return np.lexsort(keys)[: self.k]



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


def _chunk_frame(chunk: CandidateChunk, outputs: dict[str, np.ndarray],
                 selection: _Selection, value_column: str) -> pd.DataFrame:
    """The rows of one chunk that survive the selection, as a small frame."""
    values = outputs[value_column]
    rows = np.flatnonzero(selection.mask(values))
    ids = chunk.ids[rows]
    tiebreak = _tiebreak(outputs, value_column)
    rows = rows[selection.order(values[rows], ids, None if tiebreak is None else tiebreak[rows])]
    frame = pd.DataFrame({"id": chunk.ids[rows], "formula": chunk.formulas(rows),
                          "system": chunk.system_names(rows)})
    for name, column in outputs.items():
        frame[name] = column[rows]
    return frame


def _merge(best: pd.DataFrame | None, new: pd.DataFrame, selection: _Selection,
           value_column: str) -> pd.DataFrame:
    frame = new if best is None else pd.concat([best, new], ignore_index=True)
    order = selection.order(frame[value_column].to_numpy(), frame["id"].to_numpy(),
                            _tiebreak(frame, value_column))
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
                 selection: _Selection, return_std: Any, batch_size: int | None,
                 scoring: _Scoring | None = None) -> tuple[pd.DataFrame | None, int]:
    """One Dask task: :func:`_screen_block` with the worker's copy of the model (and of
    the hull references, whose per-system hulls the worker caches across its tasks)."""
    return _screen_block(_Predictor(model, return_std, batch_size, scoring), space, blocks,
                         selection)
