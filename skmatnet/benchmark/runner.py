"""Run a benchmark: split once, train every model, write the results as they finish."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.pipeline import Pipeline

from ..featurizer import ElementFractionTransformer
from . import report
from .models import (
    FoldEnsembleRegressor,
    ModelSettings,
    count_model_parameters,
    get_runner,
    parse_models,
)
from .protocols import (
    PROTOCOLS,
    BenchmarkData,
    BenchmarkError,
    Split,
    load_benchmark_data,
    make_split,
)
from .published import published_result

__all__ = [
    "FULL_SETTINGS",
    "QUICK_SETTINGS",
    "BenchmarkInterrupted",
    "BenchmarkResult",
    "run_benchmark",
]

#: What ``quick=True`` changes (explicit arguments still win).
QUICK_SETTINGS = {
    "n_folds": 3,
    "max_epochs": 50,
    "max_time": 10.0,
    "automl_evals": 25,
    "automl_time": 60.0,
    "automl_trial_timeout": 15.0,
    "tradml_grid": "quick",
}
#: The defaults of a full run.
FULL_SETTINGS = {
    "n_folds": 10,
    "max_epochs": None,
    "max_time": None,
    "automl_evals": 50,
    "automl_time": None,
    "automl_trial_timeout": 300.0,
    "tradml_grid": "default",
}

_ARTIFACT_DIRS = ("done", "failed", "predictions", "models")
_ARTIFACT_FILES = ("results.md", "results.csv", "bubble.png", "environment.json", "split.csv")


class BenchmarkInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a benchmark; the finished models' results were written.

    Attributes
    ----------
    result : BenchmarkResult
        What had finished.
    """

    def __init__(self, result: BenchmarkResult):
        super().__init__("benchmark interrupted")
        self.result = result


@dataclass
class BenchmarkResult:
    """The outcome of :func:`run_benchmark`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per reported model (columns: :data:`report.TABLE_COLUMNS`),
        the content of ``results.csv``.
    output_dir : pathlib.Path
        Where everything was written.
    models : list of str
        The models asked for, in run order.
    finished : list of str
        Models with a result (run now or taken from an earlier run).
    resumed : list of str
        Models whose earlier result was reused (``resume=True``).
    failed : dict of str to str
        Models that raised an error, with the message.
    interrupted : bool
        Whether Ctrl-C stopped the run.
    data : BenchmarkData
        The rows the models ran on.
    split : Split
        How they were split.
    environment : dict
        The content of ``environment.json``.
    """

    table: pd.DataFrame
    output_dir: Path
    models: list
    finished: list = field(default_factory=list)
    resumed: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    interrupted: bool = False
    data: BenchmarkData | None = None
    split: Split | None = None
    environment: dict = field(default_factory=dict)

    def to_text(self) -> str:
        """The results table as aligned text."""
        return report.format_text_table(self.table)

    def __str__(self) -> str:
        return self.to_text()


class _InterruptGuard:
    """Remember Ctrl-C even where skorch swallows the KeyboardInterrupt it raises."""

    def __init__(self):
        self.interrupted = False
        self._previous = None

    def _handler(self, signum, frame):
        self.interrupted = True
        raise KeyboardInterrupt

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:  # a background job ignores Ctrl-C: keep it so
                self._previous = previous
                signal.signal(signal.SIGINT, self._handler)
        return self

    def check(self) -> None:
        if self.interrupted:
            raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    return {
        "test_mae": float(mean_absolute_error(y_true, y_pred)),
        "test_rmse": float(math.sqrt(mean_squared_error(y_true, y_pred))),
        "test_r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan"),
    }


def _json_normal(value: Any) -> Any:
    return json.loads(report.to_json(value))


def _resolve_settings(quick: bool, given: dict) -> dict:
    base = dict(QUICK_SETTINGS if quick else FULL_SETTINGS)
    base.update({k: v for k, v in given.items() if v is not None})
    return base


def _check_number(name: str, value: Any, *, integer: bool = False, minimum: float = 0) -> None:
    if value is None:
        return
    kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kinds) or not value > minimum:
        kind = "an int" if integer else "a number"
        raise BenchmarkError(f"{name} must be {kind} greater than {minimum}, got {value!r}")


def _clear_artifacts(out: Path) -> None:
    for name in _ARTIFACT_DIRS:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
    for name in _ARTIFACT_FILES:
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    for png in out.glob("parity_*.png"):
        png.unlink()


def _prediction_frame(data: BenchmarkData, split: Split, columns: dict) -> pd.DataFrame:
    test = split.test
    frame = pd.DataFrame({"row": test, "formula": data.formulas[test], "y_true": data.y[test]})
    for key, values in columns.items():
        frame[key] = values
    return frame


def _run_model(runner, data: BenchmarkData, split: Split, guard: _InterruptGuard,
               verbose: bool) -> tuple[list[dict], dict, pd.DataFrame, Any]:
    """Train one model under the protocol; return rows, details, predictions, saved model."""
    name = runner.name

    def log(message: str) -> None:
        if verbose:
            print(f"[{name}] {message}", file=sys.stderr, flush=True)

    X, y = data.X, data.y
    fits = split.fits()
    start = time.monotonic()
    _, tr0, va0 = fits[0]
    template, details, prefitted = runner.prepare(X[tr0], y[tr0], X[va0], y[va0], log)
    guard.check()
    search_seconds = time.monotonic() - start
    models, infos = [], []
    for i, (label, tr, va) in enumerate(fits):
        if i == 0 and prefitted is not None:
            model, info = prefitted, {}
        else:
            model, info = runner.fit(template, X[tr], y[tr], X[va], y[va], label, log, verbose)
        guard.check()  # skorch ends training quietly on Ctrl-C: stop here instead
        models.append(model)
        infos.append(info)
    train_seconds = time.monotonic() - start

    val_maes = [float(mean_absolute_error(y[va], m.predict(X[va]))) for m, (_, _, va)
                in zip(models, fits, strict=True)]
    X_test, y_test = X[split.test], y[split.test]
    predictions, predict_seconds = [], []
    for model in models:
        t0 = time.monotonic()
        predictions.append(np.asarray(model.predict(X_test), dtype=np.float64).ravel())
        predict_seconds.append(time.monotonic() - t0)
    n_params = [count_model_parameters(m) for m in models]

    def epochs_of(info: dict) -> Any:
        return info.get("epochs")

    common = {"n_test": len(split.test), "details": details.get("best_summary", "")}
    details = {**details, "search_and_train_seconds": train_seconds,
               "prepare_seconds": search_seconds, "fits": infos, "val_mae_per_fit": val_maes}
    # Saved as formula -> prediction pipelines (the featurizer is stateless).
    pipelines = [Pipeline([("features", ElementFractionTransformer().fit(data.formulas[:1])),
                           ("model", m)]) for m in models]
    if split.protocol == "brnet":
        info = infos[0]
        row = {"model": name, "variant": "holdout", **_metrics(y_test, predictions[0]),
               "val_mae": val_maes[0], "train_time_s": train_seconds,
               "predict_time_s": predict_seconds[0], "n_parameters": n_params[0],
               "epochs": epochs_of(info), "best_epoch": info.get("best_epoch"),
               "ensemble_std": None, "n_train": len(split.train), "n_val": len(split.val),
               **common}
        if info.get("stopped"):
            row["details"] = (row["details"] + "; " if row["details"] else "") + \
                f"stopped by {info['stopped']}"
        frame = _prediction_frame(data, split, {"y_pred": predictions[0]})
        return [row], details, frame, pipelines[0]

    stacked = np.stack(predictions)
    mean, std = stacked.mean(axis=0), stacked.std(axis=0)
    best = int(np.argmin(val_maes))
    k = len(models)
    n_train = len(fits[best][1])
    epochs = [epochs_of(i) for i in infos]
    selected = {"model": name, "variant": f"fold {best + 1}/{k}, lowest validation MAE",
                **_metrics(y_test, predictions[best]), "val_mae": val_maes[best],
                "train_time_s": train_seconds, "predict_time_s": predict_seconds[best],
                "n_parameters": n_params[best], "epochs": epochs[best],
                "best_epoch": infos[best].get("best_epoch"), "ensemble_std": None,
                "n_train": n_train, "n_val": len(fits[best][2]), **common}
    ensemble = {"model": f"{name}-ensemble", "variant": f"mean of {k} fold models",
                **_metrics(y_test, mean), "val_mae": float(np.mean(val_maes)),
                "train_time_s": train_seconds, "predict_time_s": float(sum(predict_seconds)),
                "n_parameters": None if any(p is None for p in n_params) else int(sum(n_params)),
                "epochs": None if any(e is None for e in epochs) else int(sum(epochs)),
                "best_epoch": None, "ensemble_std": float(std.mean()),
                "n_train": len(split.train), "n_val": len(split.train), **common}
    columns = {"y_pred": predictions[best], "y_pred_ensemble": mean, "y_std_ensemble": std}
    for i, p in enumerate(predictions):
        columns[f"y_pred_fold{i + 1}"] = p
    frame = _prediction_frame(data, split, columns)
    details["selected_fold"] = best + 1
    return [selected, ensemble], details, frame, FoldEnsembleRegressor(pipelines, best)


def _fingerprint(data: BenchmarkData, split: Split, split_sha: str, runner) -> dict:
    source = {k: v for k, v in data.source.items() if k != "csv"}
    return _json_normal({
        "data": source,
        "protocol": split.protocol,
        "seed": split.seed,
        "n_folds": split.n_folds,
        "split_sha256": split_sha,
        "model": runner.name,
        "config": runner.config(),
    })


def _load_done(out: Path, name: str, fingerprint: dict) -> dict | None:
    path = out / "done" / f"{name}.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("fingerprint") != fingerprint:
        return None
    for key in ("predictions", "model"):
        if not (out / record.get("files", {}).get(key, "missing")).is_file():
            return None
    return record


def _finalize(out: Path, data: BenchmarkData, split: Split, records: dict, models: list,
              environment: dict, plots: bool, status: str) -> pd.DataFrame:
    rows = []
    for name in models:
        if name in records:
            rows.extend(records[name]["rows"])
    table = pd.DataFrame(rows)
    for column in report.TABLE_COLUMNS:
        if column not in table.columns:
            table[column] = None
    dataset = data.source.get("dataset")
    for i, row in table.iterrows():
        entry = published_result(dataset, row["model"], split.protocol) if dataset else None
        table.at[i, "paper_mae"] = entry.mae if entry else None
        table.at[i, "paper_train_time_s"] = entry.train_time_s if entry else None
        table.at[i, "paper_source"] = entry.source if entry else None
    table = table[report.TABLE_COLUMNS]
    report.atomic_write_text(out / "results.csv", table.to_csv(index=False))
    report.atomic_write_text(out / "results.md", _markdown(table, data, split, records,
                                                           environment, status))
    if plots and len(table):
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
    return table


def _markdown(table: pd.DataFrame, data: BenchmarkData, split: Split, records: dict,
              environment: dict, status: str) -> str:
    src = data.source
    units = f" ({data.units})" if data.units else ""
    in_units = f", in {data.units}" if data.units else ""
    if split.protocol == "brnet":
        parts = (f"train {len(split.train):,} / validation {len(split.val):,} / test "
                 f"{len(split.test):,} (81:9:10, stratified on the number of elements)")
    else:
        parts = (f"train {len(split.train):,} in {split.n_folds} folds / test "
                 f"{len(split.test):,} (90:10 stratified, {split.n_folds}-fold "
                 "element-count-stratified CV)")
    subsample = f", random subset of {src['max_rows']:,}" if src.get("max_rows") else ""
    summary = [
        f"Target: {data.target}{in_units}. Rows: {src.get('n_rows_read', len(data)):,} read, "
        f"{src.get('n_after_dedupe', len(data)):,} after deduplication "
        f"(dedupe={src.get('dedupe')}){subsample}; {parts}; seed {split.seed}.",
        "",
        f"Run: {environment.get('date', '')}; device {environment.get('device', '?')}"
        f"{' (' + environment['gpu'] + ')' if environment.get('gpu') else ''}; CPU "
        f"{environment.get('cpu', '?')}, {environment.get('cpu_count', '?')} cores; "
        f"status: {status}.",
    ]
    command = environment.get("command")
    if command:
        summary += ["", f"Command: `{command}`"]
    notes = ["Models:", ""]
    for row in table.to_dict("records"):
        text = f"- **{row['model']}** ({row['variant']})"
        if isinstance(row.get("details"), str) and row["details"]:
            text += f": {row['details']}"
        if row.get("ensemble_std") is not None and not _nan(row.get("ensemble_std")):
            text += f"; mean ensemble std {row['ensemble_std']:.4f}{units}"
        notes.append(text)
    if split.protocol == "tatis":
        notes += ["", "The fold model is chosen by its own validation fold; the Tatis et al. "
                  "paper chose it by test MAE, which is selection on the test data."]
    return report.format_markdown(
        table, title=f"Benchmark: {data.name}, {split.protocol} protocol", summary=summary,
        notes=notes,
    )


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _check_plots() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BenchmarkError(
            "matplotlib is needed for the charts: pip install 'skmatnet[plot]' (or turn the "
            "charts off with --no-plots / plots=False)"
        ) from None


def run_benchmark(
    data: str | os.PathLike,
    *,
    models: Any = None,
    protocol: str = "brnet",
    output_dir: str | os.PathLike | None = None,
    quick: bool = False,
    resume: bool = False,
    seed: int = 1234567,
    n_folds: int | None = None,
    max_rows: int | None = None,
    formula_column: str = "formula",
    target_column: str = "target",
    dedupe: str | None = "min",
    device: str = "auto",
    max_epochs: int | None = None,
    max_time: float | None = None,
    patience: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    tiny: bool = False,
    automl_evals: int | None = None,
    automl_time: float | None = None,
    automl_trial_timeout: float | None = None,
    automl_space: str = "any",
    tradml_grid: str | None = None,
    n_jobs: int = 1,
    threads: int | None = None,
    plots: bool = True,
    verbose: bool = True,
    command: str | None = None,
) -> BenchmarkResult:
    """Compare deep networks with AutoML and classic models on one dataset.

    Loads the rows (deduplicated per composition), featurizes them into the
    86 element fractions, splits them once by ``protocol``, trains every model
    on exactly those rows, and writes to ``output_dir``: ``results.md``,
    ``results.csv``, ``bubble.png``, ``parity_<model>.png``,
    ``models/<model>.joblib``, ``predictions/<model>.csv``, ``split.csv`` and
    ``environment.json``. Each model's result is saved (``done/<model>.json``)
    as soon as it finishes, so an interrupted run keeps what finished and
    ``resume=True`` continues it.

    Parameters
    ----------
    data : str or path-like
        A dataset name (:func:`skmatnet.datasets.list_datasets`) or a CSV file
        with a formula column and a numeric target column.
    models : str, list of str or None, default=None
        Some of ``automl``, ``tradml``, ``elemnet``, ``irnet``, ``bnet``,
        ``brnet``, ``fcmnr``, ``fcunet`` (a list or a comma-separated
        string), or ``"all"``. ``None``: the BRNet paper's comparison,
        ``automl, tradml, elemnet, irnet, bnet, brnet``.
    protocol : {"brnet", "tatis"}, default="brnet"
        ``brnet``: 81:9:10 split stratified on the element count; networks
        early-stop on the 9 %, baselines select hyperparameters on it; test MAE
        on the 10 %. ``tatis``: 90:10 split, then ``n_folds``-fold CV on the
        90 %: one model per fold (trained on the other folds, early-stopped on
        its fold); reported are the fold model with the lowest validation-fold
        MAE (``<model>``) and the mean of all fold models
        (``<model>-ensemble``, with the fold spread as uncertainty). The
        baselines search their hyperparameters on the first fold.
    output_dir : path-like or None
        Default ``skmatnet-results/<data name>_<protocol>`` (ignored by git),
        with ``_quick`` appended for ``quick=True``, so that a quick run never
        replaces a full one.
    quick : bool, default=False
        A real but small run: see :data:`QUICK_SETTINGS` (networks 10 s each,
        AutoML 25 trials within 60 s, the quick trad. ML grid, 3 folds).
        Explicit arguments override these.
    resume : bool, default=False
        Reuse the results of models that finished in an earlier run into the
        same ``output_dir`` with the same data, split and settings; others
        run again. Without it earlier results there are deleted first.
    seed : int, default=1234567
        Seed of the split, the subsampling, the networks and the searches.
    n_folds : int or None
        Folds of the ``tatis`` protocol (default 10; 3 with ``quick``).
    max_rows : int or None
        Use a random subset of this many rows, drawn before splitting (for
        tests and trials; not comparable with published numbers).
    formula_column, target_column : str, default="formula", "target"
        Columns of a CSV file.
    dedupe : {"min", "mean"} or None, default="min"
        One row per composition (the lowest target: the BRNet protocol).
    device : str, default="auto"
        Device of the networks: ``"auto"`` (CUDA when available), ``"cpu"``,
        ``"cuda"``.
    max_epochs, patience, batch_size, lr : optional
        Override the networks' training settings (defaults: the papers',
        3000 epochs, patience 100 or 200, batch 32, Adam 1e-4).
    max_time : float or None
        Wall-clock seconds per network training (per fold for ``tatis``);
        training stops at the end of the epoch that passes it and keeps the
        best epoch's weights.
    tiny : bool, default=False
        Tiny networks (each estimator's test settings), for tests.
    automl_evals, automl_time, automl_trial_timeout : optional
        AutoML budget: trials (default 50), seconds for the whole search
        (default none) and seconds per trial (default 300).
    automl_space : {"any", "all"}, default="any"
        hpsklearn's ``any_regressor`` x ``any_preprocessing``, or every regressor.
    tradml_grid : {"quick", "default", "full"} or None
        The trad. ML grid (see :func:`skmatnet.benchmark.tradml.tradml_param_grid`).
    n_jobs : int, default=1
        Processes/threads of the forests, kNN, gradient boosting and AutoML
        regressors.
    threads : int or None, default=None
        CPU threads of torch for the networks (``torch.set_num_threads``);
        ``None`` keeps torch's default, one per core. On a machine shared with
        other busy processes, 1 is often much faster than several.
    plots : bool, default=True
        Draw ``bubble.png`` and the parity plots (needs matplotlib).
    verbose : bool, default=True
        Progress lines on stderr (model, epoch or trial, elapsed time).
    command : str or None
        The command line to record in ``environment.json``.

    Returns
    -------
    BenchmarkResult

    Raises
    ------
    BenchmarkError
        Bad arguments, unknown dataset or model, unreadable CSV, missing
        hyperopt-sklearn or matplotlib; or, after writing the other results,
        a model that failed (``error.result`` holds them).
    BenchmarkInterrupted
        Ctrl-C; the finished models' results are written (``.result``).
    skmatnet.datasets.DatasetError, skmatnet.FormulaError
        Corrupt or unavailable dataset files, unparsable formulas.

    Notes
    -----
    The AutoML trials run in separate processes (a ``forkserver``): a script
    that calls this function with ``automl`` must guard its entry point with
    ``if __name__ == "__main__":``.
    """
    names = parse_models(models)
    if protocol not in PROTOCOLS:
        raise BenchmarkError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    given = {"n_folds": n_folds, "max_epochs": max_epochs, "max_time": max_time,
             "automl_evals": automl_evals, "automl_time": automl_time,
             "automl_trial_timeout": automl_trial_timeout, "tradml_grid": tradml_grid}
    resolved = _resolve_settings(quick, given)
    for key in ("n_folds", "max_epochs", "automl_evals"):
        _check_number(key, resolved[key], integer=True)
    for key in ("max_time", "automl_time", "automl_trial_timeout"):
        _check_number(key, resolved[key])
    _check_number("lr", lr)
    for key, value in (("patience", patience), ("batch_size", batch_size), ("n_jobs", n_jobs),
                       ("threads", threads)):
        _check_number(key, value, integer=True)
    from .tradml import TRADML_GRIDS

    if resolved["tradml_grid"] not in TRADML_GRIDS:
        raise BenchmarkError(f"tradml_grid must be one of {TRADML_GRIDS}, "
                             f"got {resolved['tradml_grid']!r}")
    if automl_space not in ("any", "all"):
        raise BenchmarkError(f"automl_space must be 'any' or 'all', got {automl_space!r}")
    if "automl" in names:
        from .automl import check_hpsklearn

        check_hpsklearn()
    if plots:
        _check_plots()
    settings = ModelSettings(
        seed=int(seed), device=device, max_epochs=resolved["max_epochs"],
        max_time=resolved["max_time"], patience=patience, batch_size=batch_size, lr=lr,
        tiny=bool(tiny), automl_evals=int(resolved["automl_evals"]),
        automl_time=resolved["automl_time"],
        automl_trial_timeout=resolved["automl_trial_timeout"], automl_space=automl_space,
        tradml_grid=resolved["tradml_grid"], n_jobs=int(n_jobs),
    )

    uses_torch = any(get_runner(n, settings).is_network for n in names)
    if uses_torch:
        import torch

        if str(device).startswith("cuda") and not torch.cuda.is_available():
            raise BenchmarkError(f"device {device!r} was asked for but CUDA is not available; "
                                 "use --device auto or cpu")
        if threads is not None:
            torch.set_num_threads(int(threads))

    data_obj = load_benchmark_data(
        data, formula_column=formula_column, target_column=target_column, dedupe=dedupe,
        max_rows=max_rows, seed=int(seed),
    )
    split = make_split(data_obj, protocol, seed=int(seed), n_folds=int(resolved["n_folds"]))
    split_sha = split.sha256(data_obj)
    out = Path(output_dir) if output_dir is not None else \
        Path("skmatnet-results") / f"{data_obj.name}_{protocol}{'_quick' if quick else ''}"
    out.mkdir(parents=True, exist_ok=True)
    previous_runs: list = []
    if resume:
        # Keep the record of the runs whose results are being reused.
        with contextlib.suppress(OSError, ValueError):
            earlier = json.loads((out / "environment.json").read_text())
            previous_runs = earlier.pop("previous_runs", [])
            previous_runs.append(earlier)
    else:
        _clear_artifacts(out)
    (out / "done").mkdir(exist_ok=True)
    report.atomic_write_text(out / "split.csv", split.to_frame(data_obj).to_csv(index=False))

    environment = report.environment_record(uses_torch=uses_torch, device=device)
    environment.update(
        command=command or f"run_benchmark({os.fspath(data)!r}, models={names!r}, "
                           f"protocol={protocol!r}, quick={quick!r})",
        seed=int(seed), protocol=protocol, models=names, quick=bool(quick),
        settings=settings.as_dict(), n_folds=split.n_folds, data=data_obj.source,
        split_sha256=split_sha, n_train=len(split.train), n_val=len(split.val),
        n_test=len(split.test), status="running", previous_runs=previous_runs,
    )
    report.atomic_write_text(out / "environment.json", report.to_json(environment))

    def say(message: str) -> None:
        if verbose:
            print(message, file=sys.stderr, flush=True)

    say(f"[benchmark] {data_obj.name}: {len(data_obj):,} rows; protocol {protocol}: train "
        f"{len(split.train):,}, val {len(split.val):,}, test {len(split.test):,}"
        + (f", {split.n_folds} folds" if split.n_folds else "")
        + f"; models {', '.join(names)}; output {out}")
    records: dict[str, dict] = {}
    resumed: list[str] = []
    failed: dict[str, str] = {}
    interrupted = False
    started = time.monotonic()
    with _InterruptGuard() as guard:
        try:
            for number, name in enumerate(names, 1):
                runner = get_runner(name, settings)
                fingerprint = _fingerprint(data_obj, split, split_sha, runner)
                if resume:
                    record = _load_done(out, name, fingerprint)
                    if record is not None:
                        say(f"[{name}] done in an earlier run (test MAE "
                            f"{record['rows'][0]['test_mae']:.4f}); skipped")
                        records[name] = record
                        resumed.append(name)
                        continue
                    if (out / "done" / f"{name}.json").exists():
                        say(f"[{name}] the earlier result has other settings; running again")
                say(f"[{name}] model {number}/{len(names)} "
                    f"({time.monotonic() - started:.0f} s into the run)")
                (out / "done" / f"{name}.json").unlink(missing_ok=True)
                try:
                    rows, details, frame, fitted = _run_model(runner, data_obj, split, guard,
                                                              verbose)
                except KeyboardInterrupt:
                    raise
                except Exception as exc:
                    failed[name] = f"{type(exc).__name__}: {exc}"
                    buffer = io.StringIO()
                    traceback.print_exc(file=buffer)
                    report.atomic_write_text(out / "failed" / f"{name}.txt", buffer.getvalue())
                    say(f"[{name}] FAILED: {failed[name]} (traceback in "
                        f"{out / 'failed' / (name + '.txt')})")
                    continue
                files = {"predictions": f"predictions/{name}.csv", "model": f"models/{name}.joblib"}
                report.atomic_write_text(out / files["predictions"], frame.to_csv(index=False))
                payload = io.BytesIO()
                joblib.dump(fitted, payload)
                report.atomic_write_bytes(out / files["model"], payload.getvalue())
                record = {"model": name, "fingerprint": fingerprint, "rows": rows,
                          "details": details, "files": files,
                          "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
                report.atomic_write_text(out / "done" / f"{name}.json", report.to_json(record))
                (out / "failed" / f"{name}.txt").unlink(missing_ok=True)
                records[name] = _json_normal(record)
                say(f"[{name}] test MAE {rows[0]['test_mae']:.4f}"
                    + (f", ensemble {rows[1]['test_mae']:.4f}" if len(rows) > 1 else "")
                    + f"; train {rows[0]['train_time_s']:.0f} s")
                _finalize(out, data_obj, split, records, names, environment, plots=False,
                          status="running")
        except KeyboardInterrupt:
            interrupted = True
    status = "interrupted" if interrupted else ("finished with failures" if failed
                                                 else "finished")
    environment.update(status=status, seconds=round(time.monotonic() - started, 1),
                       finished_models=[n for n in names if n in records], failed=failed)
    report.atomic_write_text(out / "environment.json", report.to_json(environment))
    table = _finalize(out, data_obj, split, records, names, environment, plots=plots,
                      status=status)
    result = BenchmarkResult(
        table=table, output_dir=out, models=names,
        finished=[n for n in names if n in records], resumed=resumed, failed=failed,
        interrupted=interrupted, data=data_obj, split=split, environment=environment,
    )
    if interrupted:
        raise BenchmarkInterrupted(result)
    if failed:
        listing = "; ".join(f"{k}: {v}" for k, v in failed.items())
        raise BenchmarkError(
            f"{len(failed)} of {len(names)} models failed ({listing}); the other results are "
            f"in {out} (tracebacks in {out / 'failed'})", result=result,
        )
    return result
