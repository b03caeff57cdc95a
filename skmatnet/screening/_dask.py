"""A screen's chunks as Dask tasks: the model sent to each worker once, a bounded queue."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

from .select import _screen_task
from .space import _Block


def _grouped(blocks: Iterable[_Block], per_task: int) -> Iterator[list[_Block]]:
    """The blocks in groups of ``per_task``, one group per task (fewer, larger tasks)."""
    group: list[_Block] = []
    for block in blocks:
        group.append(block)
        if len(group) == per_task:
            yield group
            group = []
    if group:
        yield group


def _run_on_dask(model, space, selection, return_std, batch_size, chunk_size, scheduler,
                 chunks_per_task, take, scoring=None) -> None:
    """The chunks as Dask tasks, a bounded number in flight; results taken in task order,
    so that a threshold stream is written in enumeration order, as locally."""
    from .._dask import connect_dask, import_distributed

    distributed = import_distributed()
    with connect_dask(scheduler) as client:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        # Enough tasks to keep every worker busy to the end (chunking changes no result).
        chunk_size = max(1, min(chunk_size, math.ceil(len(space) / (4 * n_workers))))
        model_future = client.scatter(model, broadcast=True, hash=False)
        # The hull references too, once per worker; each worker caches its systems' hulls.
        scoring_future = (None if scoring is None or scoring.hull is None else
                          client.scatter(scoring, broadcast=True, hash=False))
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
                                   return_std, batch_size,
                                   scoring if scoring_future is None else scoring_future,
                                   pure=False, retries=2,
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
