"""A benchmark's charts: training time against the metric, parity and ROC plots.

matplotlib is imported only when a chart is drawn. Charts are written atomically
(:func:`skmatnet._io.atomic_open`), so an interrupted run never leaves a half-written
file behind.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._io import atomic_open

__all__ = ["bubble_chart", "parity_plot", "roc_plot"]

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
