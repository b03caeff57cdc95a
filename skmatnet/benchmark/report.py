"""What a benchmark writes: the table (terminal, Markdown, CSV), charts and the environment.

Charts are written atomically (:func:`skmatnet._io.atomic_open`), so an
interrupted run never leaves a half-written file behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_open
from .published import SOURCES
from .tasks import ClassificationTask, RegressionTask, Task

__all__ = [
    "TABLE_COLUMNS",
    "baseline_verdict",
    "bubble_chart",
    "environment_record",
    "format_markdown",
    "format_text_table",
    "parity_plot",
    "roc_plot",
]

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
    """The results as an aligned plain-text table, for the terminal."""
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
    """The results as a Markdown page: title, summary lines, table, sources, notes."""
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


def _axes(ax, width: float, height: float):
    """The given axes, or those of a new figure (not a pyplot one: nothing global is kept)."""
    if ax is not None:
        return ax
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # checked before a run starts; kept for direct callers
        raise ImportError(
            "matplotlib is needed for the charts: pip install 'skmatnet[plot]'"
        ) from exc
    return Figure(figsize=(width, height), dpi=100).add_subplot()


def _finish(ax, path: str | os.PathLike | None):
    ax.figure.tight_layout()
    if path is not None:
        _save_png(ax.figure, path)
    return ax


def bubble_chart(
    table: pd.DataFrame,
    path: str | os.PathLike | None = None,
    *,
    ax=None,
    title: str = "",
    units: str = "",
    published: Sequence[tuple[str, float, float]] = (),
    metric: str = "test_mae",
    metric_label: str = "test MAE",
):
    """Training time against a test metric, bubble area proportional to the parameter count.

    Like Figure 2 of the BRNet paper. Models with an unknown parameter count
    get the smallest bubble; published (time, MAE) points are drawn as hollow
    diamonds.

    Parameters
    ----------
    table : DataFrame
        With columns ``model``, ``train_time_s``, ``test_mae``, ``n_parameters``.
    path : path-like or None
        PNG file to write, if any.
    ax : matplotlib Axes or None
        Where to draw; a new figure's axes when ``None``.
    title, units : str
        Chart title and the target's units.
    published : sequence of (label, seconds, mae)
        Published points to add.
    metric, metric_label : str, default="test_mae", "test MAE"
        The column on the y axis and its label (``test_roc_auc`` for labels).

    Returns
    -------
    matplotlib Axes
    """
    ax = _axes(ax, 7.0, 5.0)
    frame = table.dropna(subset=["train_time_s", metric])
    params = pd.to_numeric(frame["n_parameters"], errors="coerce").to_numpy(dtype=float)
    largest = np.nanmax(params) if np.isfinite(params).any() else 1.0
    sizes = 40 + 1600 * np.sqrt(np.nan_to_num(params, nan=0.0) / max(largest, 1.0))
    times = np.maximum(frame["train_time_s"].to_numpy(dtype=float), 1e-3)
    maes = frame[metric].to_numpy(dtype=float)
    colors = [f"C{i % 10}" for i in range(len(frame))]
    ax.scatter(times, maes, s=sizes, c=colors, alpha=0.55, edgecolors="black", linewidths=0.6)
    for name, x, y_ in zip(frame["model"], times, maes, strict=True):
        ax.annotate(str(name), (x, y_), textcoords="offset points", xytext=(6, 6), fontsize=8)
    if published:
        px = [max(p[1], 1e-3) for p in published]
        py = [p[2] for p in published]
        ax.scatter(px, py, marker="D", s=40, facecolors="none", edgecolors="gray",
                   label="published")
        for label, x, y_ in published:
            ax.annotate(label, (x, y_), textcoords="offset points", xytext=(6, -10),
                        fontsize=7, color="gray")
        ax.legend(loc="best", fontsize=8)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    # Plain seconds at 1, 2, 5 x 10^k: readable on the short spans benchmarks cover. Below 10 s
    # the ticks may fall between whole seconds (a span under a decade), so they keep decimals.
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
    ax.margins(0.12)  # room for the largest bubbles and their labels
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("training time (s, log scale)")
    ax.set_ylabel(f"{metric_label}{f' ({units})' if units else ''}")
    ax.set_title(title or f"training time vs {metric_label} (bubble area ~ parameters)",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    return _finish(ax, path)


def parity_plot(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    path: str | os.PathLike | None = None,
    *,
    ax=None,
    title: str = "",
    units: str = "",
):
    """Predicted against true values of the test rows, with the diagonal.

    Parameters
    ----------
    y_true, y_pred : ndarray
        Test targets and predictions.
    path : path-like or None
        PNG file to write, if any.
    ax : matplotlib Axes or None
        Where to draw; a new figure's axes when ``None``.
    title, units : str
        Chart title and the target's units.

    Returns
    -------
    matplotlib Axes
    """
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    ax = _axes(ax, 5.0, 5.0)
    ax.scatter(y_true, y_pred, s=4, alpha=0.4, edgecolors="none")
    both = np.concatenate([y_true, y_pred])
    both = both[np.isfinite(both)]
    low, high = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    pad = 0.03 * (high - low or 1.0)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], color="black", linewidth=0.8)
    ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(low - pad, high + pad)
    ax.set_aspect("equal")
    suffix = f" ({units})" if units else ""
    ax.set_xlabel(f"true{suffix}")
    ax.set_ylabel(f"predicted{suffix}")
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    return _finish(ax, path)


def roc_plot(
    curves: Sequence[tuple[str, np.ndarray, np.ndarray]],
    path: str | os.PathLike | None = None,
    *,
    ax=None,
    title: str = "",
):
    """ROC curves of several models on the same test rows, with their AUC in the legend.

    Parameters
    ----------
    curves : sequence of (label, y_true_positive, score)
        Per model: whether each test row is of the positive class, and the
        model's score for it (probability or decision value).
    path : path-like or None
        PNG file to write, if any.
    ax : matplotlib Axes or None
        Where to draw; a new figure's axes when ``None``.
    title : str
        Chart title.

    Returns
    -------
    matplotlib Axes
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    ax = _axes(ax, 5.5, 5.0)
    for i, (label, positive, score) in enumerate(curves):
        fpr, tpr, _ = roc_curve(positive, score)
        auc = roc_auc_score(positive, score)
        ax.plot(fpr, tpr, color=f"C{i % 10}", linewidth=1.2, label=f"{label} (AUC {auc:.4f})")
    ax.plot([0, 1], [0, 1], color="gray", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(True, alpha=0.3)
    return _finish(ax, path)



def _save_png(fig, path: str | os.PathLike) -> None:
    with atomic_open(path) as handle:
        fig.savefig(handle, format="png")


# ---------------------------------------------------------------------------
# Environment record
# ---------------------------------------------------------------------------


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_state() -> dict:
    root = Path(__file__).resolve().parents[2]
    state: dict[str, Any] = {"commit": None, "dirty": None}
    if not (root / ".git").exists():
        return state
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            state["commit"] = commit.stdout.strip()
            status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                                    capture_output=True, text=True, timeout=10)
            if status.returncode == 0:
                state["dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return state


def environment_record(*, uses_torch: bool, device: str) -> dict:
    """Versions, machine and device, for reproducing a run.

    Parameters
    ----------
    uses_torch : bool
        Whether networks ran (then torch is imported to describe the device).
    device : str
        The requested device (``"auto"``, ``"cpu"``, ``"cuda"``...).

    Returns
    -------
    dict
    """
    import skmatnet

    record: dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "versions": {
            "skmatnet": skmatnet.__version__,
            **{name: _version(dist) for name, dist in [
                ("numpy", "numpy"), ("scipy", "scipy"), ("pandas", "pandas"),
                ("scikit-learn", "scikit-learn"), ("torch", "torch"), ("skorch", "skorch"),
                ("hyperopt", "hyperopt"), ("hyperopt-sklearn", "hyperopt-sklearn"),
                ("matplotlib", "matplotlib"), ("joblib", "joblib"),
            ]},
        },
        "requested_device": device,
        "git": _git_state(),
        "argv": list(sys.argv),
    }
    if uses_torch:
        import torch

        from .._device import resolve_device

        resolved = str(resolve_device(device))
        record["device"] = resolved
        record["torch_threads"] = torch.get_num_threads()
        record["cuda_available"] = bool(torch.cuda.is_available())
        record["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    else:
        record["device"] = "cpu"
    return record


def to_json(payload: Any) -> str:
    """JSON text of ``payload`` (numpy scalars and paths converted)."""

    def default(value: Any) -> Any:
        if isinstance(value, np.integer):
            return int(value)
        if isinstance(value, np.floating):
            return float(value)
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, Path):
            return str(value)
        return repr(value)

    return json.dumps(payload, indent=2, default=default, allow_nan=True) + "\n"
