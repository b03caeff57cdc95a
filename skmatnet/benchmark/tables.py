"""A benchmark's results table as text: the terminal table, the Markdown page, the verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .published import SOURCES
from .tasks import ClassificationTask, RegressionTask, Task

__all__ = ["TABLE_COLUMNS", "baseline_verdict", "format_markdown", "format_text_table"]

#: Columns of ``results.csv`` of a regression task, in order (a classification
#: task's are :attr:`ClassificationTask.table_columns`).
TABLE_COLUMNS = list(RegressionTask.table_columns)


def _task(table: pd.DataFrame, task: Task | None) -> Task:
    """The given task, or the one whose headline column the table has."""
    if task is not None:
        return task
    if "test_roc_auc" in table.columns and "test_mae" not in table.columns:
        return ClassificationTask(np.array([0, 1]))
    return RegressionTask()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _cell(value: Any, fmt: str) -> str:
    if _missing(value):
        return "–"
    if fmt == "s":
        return str(value)
    if fmt.endswith("d"):
        value = int(value)
    return format(value, fmt)


def baseline_verdict(table: pd.DataFrame, baselines: Sequence[str] = ("automl", "tradml"), *,
                     task: Task | None = None) -> str:
    """One line: which networks beat the best baseline's headline metric, which do not.

    The metric is the task's (test MAE, lower is better; test ROC-AUC, higher
    is better). Empty when the table lacks a baseline or a network. With
    several rows per model (the tatis protocol) each model's best row counts.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table: a ``model`` column and the task's headline column.
    baselines : sequence of str, default=("automl", "tradml")
        The models that are baselines; every other model counts as a network.
    task : Task or None, default=None
        The target's kind, which picks the headline metric; None: a classification task
        where the table has ``test_roc_auc`` but no ``test_mae``, else regression.

    Returns
    -------
    str
    """
    task = _task(table, task)
    grouped = table.groupby("model", sort=False)[task.headline]
    best = (grouped.max() if task.higher_is_better else grouped.min()).dropna()
    base = best[best.index.isin(baselines)]
    nets = best[~best.index.isin(baselines)]
    if base.empty or nets.empty:
        return ""
    higher = task.higher_is_better
    name = base.idxmax() if higher else base.idxmin()
    value = base[name]
    better = [f"{n} {v:.4f}" for n, v in nets.items() if (v > value if higher else v < value)]
    worse = [f"{n} {v:.4f}" for n, v in nets.items() if not (v > value if higher else v < value)]
    word = "above" if higher else "below"
    metric = "" if task.name == "regression" else f" ({task.headline_label})"
    text = (f"Best baseline: {name} {value:.4f}{metric}. Networks {word} it: "
            f"{', '.join(better) or 'none'}")
    if worse:
        text += f"; not {word} it: {', '.join(worse)}"
    return text + "."


def format_text_table(table: pd.DataFrame, *, task: Task | None = None) -> str:
    """The results as an aligned plain-text table, for the terminal.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table, one row per model (and fold model).
    task : Task or None, default=None
        The target's kind, which picks the columns shown; None: a classification task
        where the table has ``test_roc_auc`` but no ``test_mae``, else regression.

    Returns
    -------
    str
    """
    shown = _task(table, task).shown
    headings = [heading for _, heading, _ in shown]
    rows = [[_cell(record.get(col), fmt) for col, _, fmt in shown]
            for record in table.to_dict("records")]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headings)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(headings, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines)


def format_markdown(
    table: pd.DataFrame,
    *,
    title: str,
    summary: Sequence[str],
    notes: Sequence[str] = (),
    task: Task | None = None,
) -> str:
    """The results as a Markdown page: title, summary lines, table, sources, notes.

    Parameters
    ----------
    table : pandas.DataFrame
        The results table, one row per model (and fold model); its ``paper_source``
        column, where present, names the sources of published numbers.
    title : str
        The page's heading.
    summary : sequence of str
        Lines shown between the heading and the table.
    notes : sequence of str, default=()
        Lines shown after the table.
    task : Task or None, default=None
        The target's kind, which picks the columns shown; None: a classification task
        where the table has ``test_roc_auc`` but no ``test_mae``, else regression.

    Returns
    -------
    str
    """
    shown = _task(table, task).shown
    headings = [heading for _, heading, _ in shown]
    lines = [f"# {title}", ""]
    lines += [*summary, ""]
    lines.append("| " + " | ".join(headings) + " |")
    lines.append("|" + "|".join(":---" if i == 0 else "---:" for i in range(len(headings))) + "|")
    for record in table.to_dict("records"):
        cells = [_cell(record.get(col), fmt) for col, _, fmt in shown]
        lines.append("| " + " | ".join(cells) + " |")
    sources = [s for s in dict.fromkeys(table.get("paper_source", pd.Series(dtype=object)))
               if isinstance(s, str) and s]
    if sources:
        lines.append("")
        lines.append("Published numbers: " + "; ".join(SOURCES.get(s, s) for s in sources) + ".")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"
