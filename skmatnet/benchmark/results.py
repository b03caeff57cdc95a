"""A run's results: the table with the published numbers beside ours, its page and charts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from . import charts
from .data import BenchmarkData
from .output import OutputDir
from .protocols import Split, get_protocol
from .published import published_result
from .tables import baseline_verdict, format_markdown
from .tasks import RegressionTask, Task

__all__ = ["write_results"]


def results_table(records: dict, models: list, dataset: str | None, protocol: str,
                  task: Task | None = None) -> pd.DataFrame:
    """One row per reported model (the task's table columns), in run order."""
    task = task if task is not None else RegressionTask()
    columns = list(task.table_columns)
    rows = [row for name in models if name in records for row in records[name]["rows"]]
    table = pd.DataFrame(rows)
    for column in columns:
        if column not in table.columns:
            table[column] = None
    if task.name != "regression":
        return table[columns]  # the published numbers are all regression MAEs
    for i, row in table.iterrows():
        entry = published_result(dataset, row["model"], protocol) if dataset else None
        table.at[i, "paper_mae"] = entry.mae if entry else None
        table.at[i, "paper_train_time_s"] = entry.train_time_s if entry else None
        table.at[i, "paper_source"] = entry.source if entry else None
    return table[columns]


def write_results(output: OutputDir, data: BenchmarkData, split: Split, records: dict,
                  models: list, environment: dict, *, plots: bool, status: str,
                  task: Task | None = None) -> pd.DataFrame:
    """Write ``results.csv``, ``results.md`` and (``plots``) the charts; return the table.

    Parameters
    ----------
    output : OutputDir
        The run's directory.
    data : BenchmarkData
        The benchmark's rows (their source and units go in ``results.md``).
    split : Split
        The split every model was fitted under.
    records : dict
        Model name -> its done record (:meth:`OutputDir.save_result`); models
        without one are left out.
    models : list of str
        The models of the run, in the order the table lists them.
    environment : dict
        The run's environment record, summarised in ``results.md``.
    plots : bool
        Also draw the bubble chart and the parity (regression) or ROC
        (binary classification) plots.
    status : str
        How the run ended, stated in ``results.md`` (e.g. ``"complete"``).
    task : Task or None, default=None
        The benchmark's task; ``None``: regression.

    Returns
    -------
    pandas.DataFrame
        The results table, one row per reported model.
    """
    task = task if task is not None else RegressionTask()
    dataset = data.source.get("dataset")
    table = results_table(records, models, dataset, split.protocol, task)
    output.write("results.csv", table.to_csv(index=False))
    output.write("results.md", _markdown(table, data, split, environment, status, task))
    if plots and len(table):
        if task.name == "regression":
            _charts(output, table, data, split, records, models, dataset)
        else:
            _classification_charts(output, table, data, split, records, models, task)
    return table


def _classification_charts(output: OutputDir, table: pd.DataFrame, data: BenchmarkData,
                           split: Split, records: dict, models: list, task: Task) -> None:
    """The bubble chart on ROC-AUC and (binary tasks) one ROC plot of every model."""
    out = output.path
    charts.bubble_chart(table, out / "bubble.png", metric=task.headline,
                        metric_label=task.headline_label,
                        title=f"{data.name}, {split.protocol} protocol: training time vs "
                              "test ROC-AUC\n(bubble area ~ parameters)")
    if not task.binary:
        return  # one curve per class and model would not be readable
    positive = task.classes[1]
    curves = []
    for name in models:
        if name not in records:
            continue
        frame = pd.read_csv(out / records[name]["files"]["predictions"])
        truth = frame["y_true"].astype(str).to_numpy() == str(positive)
        for row in records[name]["rows"]:
            suffix = "_ensemble" if row["model"].endswith("-ensemble") else ""
            column = next((c for c in (f"proba_{positive}{suffix}", f"decision{suffix}")
                           if c in frame.columns), None)
            if column is not None:
                curves.append((row["model"], truth, frame[column].to_numpy(dtype=np.float64)))
    if curves and 0 < truth.sum() < len(truth):
        charts.roc_plot(curves, out / "roc.png",
                        title=f"{data.name}: ROC curves of the test rows (n={len(truth):,});"
                              f"\npositive class {positive}")


def _charts(output: OutputDir, table: pd.DataFrame, data: BenchmarkData, split: Split,
            records: dict, models: list, dataset: str | None) -> None:
    out = output.path
    published = []
    for name in models:
        entry = published_result(dataset, name, split.protocol) if dataset else None
        if entry is not None and entry.train_time_s:
            published.append((f"{name} (paper)", entry.train_time_s, entry.mae))
    charts.bubble_chart(table, out / "bubble.png", units=data.units, published=published,
                        title=f"{data.name}, {split.protocol} protocol: training time vs "
                              "test MAE (bubble area ~ parameters)")
    for name in models:
        if name not in records:
            continue
        frame = pd.read_csv(out / records[name]["files"]["predictions"])
        for row in records[name]["rows"]:
            column = "y_pred_ensemble" if row["model"].endswith("-ensemble") else "y_pred"
            charts.parity_plot(
                frame["y_true"].to_numpy(), frame[column].to_numpy(),
                out / f"parity_{row['model']}.png", units=data.units,
                title=f"{row['model']} on {data.name} (test, n={len(frame)}): "
                      f"MAE {row['test_mae']:.4f}",
            )


def _markdown(table: pd.DataFrame, data: BenchmarkData, split: Split, environment: dict,
              status: str, task: Task) -> str:
    src = data.source
    units = f" ({data.units})" if data.units else ""
    in_units = f", in {data.units}" if data.units else ""
    protocol = get_protocol(split.protocol)
    subsample = f", random subset of {src['max_rows']:,}" if src.get("max_rows") else ""
    summary = [
        f"Target: {task.describe_target(data.target)}{in_units}. "
        f"Rows: {src.get('n_rows_read', len(data)):,} read, "
        f"{src.get('n_after_dedupe', len(data)):,} after deduplication "
        f"(dedupe={src.get('dedupe')}){subsample}; {protocol.describe(split)}; "
        f"seed {split.seed}.",
        "",
        f"Run: {environment.get('date', '')}; device {environment.get('device', '?')}"
        f"{' (' + environment['gpu'] + ')' if environment.get('gpu') else ''}; CPU "
        f"{environment.get('cpu', '?')}, {environment.get('cpu_count', '?')} cores; "
        f"status: {status}.",
    ]
    command = environment.get("command")
    if command:
        summary += ["", f"Command: `{command}`"]
    verdict = baseline_verdict(table, task=task)
    if verdict:
        summary += ["", verdict]
    notes = ["Models:", ""]
    for row in table.to_dict("records"):
        text = f"- **{row['model']}** ({row['variant']})"
        if isinstance(row.get("details"), str) and row["details"]:
            text += f": {row['details']}"
        if row.get("ensemble_std") is not None and not _nan(row.get("ensemble_std")):
            text += f"; mean ensemble std {row['ensemble_std']:.4f}{units}"
        notes.append(text)
    if protocol.notes:
        notes += ["", *protocol.notes]
    return format_markdown(
        table, title=f"Benchmark: {data.name}, {split.protocol} protocol", summary=summary,
        notes=notes, task=task,
    )


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
