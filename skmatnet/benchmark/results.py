"""A run's results: the table with the published numbers beside ours, its page and charts."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from . import report
from .data import BenchmarkData
from .output import OutputDir
from .protocols import Split, get_protocol
from .published import published_result

__all__ = ["write_results"]


def results_table(records: dict, models: list, dataset: str | None, protocol: str) -> pd.DataFrame:
    """One row per reported model (:data:`report.TABLE_COLUMNS`), in run order."""
    rows = [row for name in models if name in records for row in records[name]["rows"]]
    table = pd.DataFrame(rows)
    for column in report.TABLE_COLUMNS:
        if column not in table.columns:
            table[column] = None
    for i, row in table.iterrows():
        entry = published_result(dataset, row["model"], protocol) if dataset else None
        table.at[i, "paper_mae"] = entry.mae if entry else None
        table.at[i, "paper_train_time_s"] = entry.train_time_s if entry else None
        table.at[i, "paper_source"] = entry.source if entry else None
    return table[report.TABLE_COLUMNS]


def write_results(output: OutputDir, data: BenchmarkData, split: Split, records: dict,
                  models: list, environment: dict, *, plots: bool, status: str) -> pd.DataFrame:
    """Write ``results.csv``, ``results.md`` and (``plots``) the charts; return the table."""
    dataset = data.source.get("dataset")
    table = results_table(records, models, dataset, split.protocol)
    output.write("results.csv", table.to_csv(index=False))
    output.write("results.md", _markdown(table, data, split, environment, status))
    if plots and len(table):
        _charts(output, table, data, split, records, models, dataset)
    return table


def _charts(output: OutputDir, table: pd.DataFrame, data: BenchmarkData, split: Split,
            records: dict, models: list, dataset: str | None) -> None:
    out = output.path
    published = []
    for name in models:
        entry = published_result(dataset, name, split.protocol) if dataset else None
        if entry is not None and entry.train_time_s:
            published.append((f"{name} (paper)", entry.train_time_s, entry.mae))
    report.bubble_chart(table, out / "bubble.png", units=data.units, published=published,
                        title=f"{data.name}, {split.protocol} protocol: training time vs "
                              "test MAE (bubble area ~ parameters)")
    for name in models:
        if name not in records:
            continue
        frame = pd.read_csv(out / records[name]["files"]["predictions"])
        for row in records[name]["rows"]:
            column = "y_pred_ensemble" if row["model"].endswith("-ensemble") else "y_pred"
            report.parity_plot(
                frame["y_true"].to_numpy(), frame[column].to_numpy(),
                out / f"parity_{row['model']}.png", units=data.units,
                title=f"{row['model']} on {data.name} (test, n={len(frame)}): "
                      f"MAE {row['test_mae']:.4f}",
            )


def _markdown(table: pd.DataFrame, data: BenchmarkData, split: Split, environment: dict,
              status: str) -> str:
    src = data.source
    units = f" ({data.units})" if data.units else ""
    in_units = f", in {data.units}" if data.units else ""
    protocol = get_protocol(split.protocol)
    subsample = f", random subset of {src['max_rows']:,}" if src.get("max_rows") else ""
    summary = [
        f"Target: {data.target}{in_units}. Rows: {src.get('n_rows_read', len(data)):,} read, "
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
    verdict = report.baseline_verdict(table)
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
    return report.format_markdown(
        table, title=f"Benchmark: {data.name}, {split.protocol} protocol", summary=summary,
        notes=notes,
    )


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)
