"""The defaults at every size of data and for every task, against the previous defaults and trees.

Every model is scored on a fixed test set: the test part of the dataset's BRNet
protocol split (deduplicated to the lowest value per composition, 81:9:10). The
training rows of a size ``n`` are a random draw (seeded by the seed) from the
split's training part; ``full`` is all of it. Parts (``--part``):

- ``curves``: learning curves of BRNet at its defaults, at the previous defaults
  (AdamW 4e-3, batch 256, width 0.5, 100 epochs, raw targets), ExtraTrees (300
  trees) and HistGradientBoosting (scikit-learn's defaults), per dataset, size and seed;
  ``--models`` picks among these and the other networks at their defaults
  (``--models defaults,irnet,elemnet,extratrees``);
- ``networks``: every network at its defaults (and at the previous defaults) on
  the full training part, several seeds: test MAE and the largest jump of the
  training loss over its best so far (``spike``: 10 means the loss rose to ten
  times its lowest value), so a divergence shows; ``--max-time`` gives each fit a
  time budget, as a user in a hurry would, and ``--params``/``--label`` try other
  settings;
- ``csv``: a user's own data, a CSV file of ``formula`` and ``target`` (``--datasets
  PATH``): five-fold cross-validation (shuffled with Matbench's seed, 18012019) of the curves'
  models (``--params``/``--label`` set on each network at its defaults; ``--members N``
  averages each network over N seeds, here and in ``curves``), test MAE per fold;
  for example Matbench's 312 steel yield strengths (``steels_yield.csv`` of the CrabNet repository);
- ``classification``: every classifier at its defaults against
  HistGradientBoosting (the trad. ML grid's best there: 1000 iterations, 63
  leaves) on the metal tasks (``is_metal`` of the band-gap sets):
  ROC-AUC, log-loss, accuracy and a reliability curve (10 bins); on the full
  training part, or on draws of ``--sizes`` rows.

Rows are appended to ``benchmarks/results/default_recipe.jsonl`` as each model
finishes; a run skips the rows already there (so a long run resumes where it
stopped). ``--report`` prints the tables of ``docs/defaults.md`` from that file,
saves them as CSV/JSON and draws ``docs/_static/default_recipe_curves.png``::

    python benchmarks/default_recipe.py --part curves --datasets jarvis_formation_energy \\
        --sizes 100,300,1000,3000,10000,full --seeds 0,1,2 --threads 1
    python benchmarks/default_recipe.py --part networks --datasets oqmd_bandgap \
        --networks brnet --seeds 0 --max-time 300 --previous
    python benchmarks/default_recipe.py --part classification --datasets jarvis_optb88vdw_bandgap
    python benchmarks/default_recipe.py --report
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _common
import numpy as np
from _common import markdown_table

from skmatnet._registry import NETWORK_SPECS

PARTS = ("curves", "networks", "classification", "csv")
CURVE_SIZES = ["100", "300", "1000", "3000", "10000", "full"]
#: The csv part's folds: Matbench's (``KFold(5, shuffle=True, random_state=18012019)``).
CSV_FOLDS, CSV_FOLD_SEED = 5, 18012019
#: The learning curves' models, by the short name ``--models`` takes: BRNet's recipes, the
#: trees, and every other network at its defaults (by its registry name) ...
CURVE_MODELS = {"defaults": "BRNet, defaults", "glorot": "BRNet, Glorot inputs",
                "previous": "BRNet, previous defaults",
                **{spec.name: f"{spec.module_class}, defaults" for spec in NETWORK_SPECS
                   if spec.name != "brnet"},
                "extratrees": "ExtraTrees", "hgb": "HistGradientBoosting"}
#: ... of which a run without ``--models`` compares these.
DEFAULT_CURVE_MODELS = ("defaults", "glorot", "previous", "extratrees", "hgb")
#: The defaults with the papers' random input layers instead of the element-informed start.
GLOROT_INPUTS = {"input_init": "glorot"}
#: The recommended recipe before the rules (issue 23), as explicit parameters.
PREVIOUS_DEFAULTS = {"lr": 4e-3, "batch_size": 256, "width": 0.5, "max_epochs": 100,
                     "input_init": "glorot"}
UNITS = {"jarvis_formation_energy": "eV/atom", "mp_formation_energy": "eV/atom",
         "jarvis_optb88vdw_bandgap": "eV", "oqmd_bandgap": "eV",
         "oqmd_formation_enthalpy": "eV/atom"}


def _smoke_csv() -> str:
    """150 JARVIS rows as a user's CSV file of formula and target (the csv part's smoke)."""
    from skmatnet import load_dataset

    path = _common.RESULTS / "default_recipe_smoke.csv_input.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    load_dataset("jarvis_formation_energy").head(150)[["formula", "target"]].to_csv(
        path, index=False)
    return str(path)


def _results_file(smoke: bool) -> Path:
    return _common.RESULTS / ("default_recipe_smoke.jsonl" if smoke else "default_recipe.jsonl")


def _done(path: Path) -> set:
    if not path.is_file():
        return set()
    return {_key(json.loads(line)) for line in path.read_text().splitlines() if line.strip()}


def _key(row: dict) -> tuple:
    return (row["part"], row["dataset"], str(row["size"]), row["seed"], row["model"])


def _data(name: str, classification: bool, smoke: bool):
    from skmatnet.benchmark import load_benchmark_data, make_split

    data = load_benchmark_data(name, target="is_metal" if classification else None,
                               max_rows=2000 if smoke else None)
    return data, make_split(data, "brnet")


def _spike(net) -> float:
    """The largest training loss over the lowest one before it (1: never rose)."""
    losses = np.array(net.history_[:, "train_loss"], dtype=float)
    if len(losses) < 2:
        return 1.0
    ratios = losses[1:] / np.minimum.accumulate(losses)[:-1]
    return max(1.0, float(np.nanmax(ratios))) if np.isfinite(ratios).any() else float("inf")


def _network(name: str, kind: str, seed: int, previous: bool, smoke: bool,
             device: str = "cpu"):
    import skmatnet
    from skmatnet._registry import get_spec

    cls = getattr(skmatnet, getattr(get_spec(name), kind))
    params = {"random_state": seed, "device": device, "on_divergence": "restore"}
    if previous:
        params.update(PREVIOUS_DEFAULTS)
        if kind == "regressor":
            params["standardize_target"] = False
    if smoke:
        params.update(max_epochs=2, width=0.125)
    return cls(**params)


def _regression_models(models, seed: int, smoke: bool):
    from sklearn.ensemble import ExtraTreesRegressor, HistGradientBoostingRegressor

    for model in models:
        if model == "ExtraTrees":
            yield model, ExtraTreesRegressor(n_estimators=10 if smoke else 300, n_jobs=1,
                                             random_state=seed)
        elif model == "HistGradientBoosting":
            yield model, HistGradientBoostingRegressor(random_state=seed)
        else:
            network, _, recipe = model.partition(", ")
            estimator = _network(network.lower(), "regressor", seed,
                                 recipe == "previous defaults", smoke)
            if recipe == "Glorot inputs":
                estimator.set_params(**GLOROT_INPUTS)
            yield model, estimator


def _fit_and_score(model, X, y, X_test, y_test, classification: bool) -> dict:
    start = time.perf_counter()
    model.fit(X, y)
    row = {"seconds": round(time.perf_counter() - start, 2)}
    if classification:
        from sklearn.calibration import calibration_curve
        from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

        proba = model.predict_proba(X_test)
        positive = list(model.classes_).index(True)
        truth = np.asarray(y_test) == model.classes_[positive]
        fraction, mean_predicted = calibration_curve(truth, proba[:, positive], n_bins=10)
        row.update(roc_auc=round(float(roc_auc_score(truth, proba[:, positive])), 4),
                   log_loss=round(float(log_loss(truth, proba[:, positive])), 4),
                   accuracy=round(float(accuracy_score(y_test, model.predict(X_test))), 4),
                   reliability=[[round(float(p), 4), round(float(f), 4)]
                                for p, f in zip(mean_predicted, fraction, strict=True)])
    else:
        predicted = np.ravel(model.predict(X_test))
        row["test_mae"] = round(float(np.mean(np.abs(predicted - y_test))), 5)
    if hasattr(model, "history_"):
        row.update(epochs=model.n_epochs_, best_epoch=model.best_epoch_,
                   stop=model.stop_reason_, spike=round(_spike(model), 2),
                   effective_params={k: v for k, v in model.effective_params_.items()})
        if "averaged_epochs" in model.history_[-1]:
            row["averaged_epochs"] = model.history_[-1, "averaged_epochs"]
        if "temperature" in model.history_[-1]:
            row["temperature"] = round(float(model.temperature_), 3)
    return row


def run_csv(args, path: Path, done: set) -> None:
    """Cross-validation on each CSV file of ``args.datasets`` (formula, target)."""
    import pandas as pd
    from sklearn.model_selection import KFold

    from skmatnet import element_fractions

    for file in args.datasets:
        if not Path(file).is_file():
            raise SystemExit(f"--part csv takes CSV files in --datasets: {file} is not a file")
        frame = pd.read_csv(file)
        missing = {"formula", "target"} - set(frame.columns)
        if missing:
            raise SystemExit(f"{file}: no column {', '.join(sorted(missing))} (it has "
                             f"{', '.join(map(str, frame.columns))})")
        X = element_fractions(frame["formula"].tolist())
        y = frame["target"].to_numpy(dtype=np.float32)
        folds = KFold(CSV_FOLDS, shuffle=True, random_state=CSV_FOLD_SEED).split(X)
        for fold, (train, test) in enumerate(folds):
            for name, model in _models(args, fold):
                record = {"part": "csv", "dataset": Path(file).stem, "size": "5-fold",
                          "seed": fold, "model": name}
                if _key(record) in done:
                    continue
                record.update(rows=len(train), **_fit_and_score(
                    model, X[train], y[train], X[test], y[test], False))
                print(json.dumps(record), flush=True)
                with path.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")


def run(args) -> None:
    path = _results_file(args.smoke)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _done(path)
    if args.part == "csv":
        run_csv(args, path, done)
        return
    classification = args.part == "classification"
    for dataset in args.datasets:
        data, split = _data(dataset, classification, args.smoke)
        X_test, y_test = data.X[split.test], data.y[split.test]
        sizes = {"curves": args.sizes or CURVE_SIZES,
                 "classification": args.sizes or ["full"]}.get(args.part, ["full"])
        for size in sizes:
            for seed in args.seeds:
                if size == "full":
                    rows = split.train
                else:
                    n = min(int(size), len(split.train))
                    rows = np.random.default_rng(seed).choice(split.train, n, replace=False)
                X, y = data.X[rows], data.y[rows]
                if not classification:
                    y = y.astype(np.float32)
                for name, model in _models(args, seed):
                    record = {"part": args.part, "dataset": dataset, "size": size,
                              "seed": seed, "model": name}
                    if _key(record) in done:
                        continue
                    record.update(rows=len(rows), **_fit_and_score(
                        model, X, y, X_test, y_test, classification))
                    print(json.dumps({k: v for k, v in record.items() if k != "reliability"}),
                          flush=True)
                    with path.open("a") as handle:
                        handle.write(json.dumps(record) + "\n")


def _models(args, seed: int):
    if args.part in ("curves", "csv"):
        from skmatnet import MatNetEnsembleRegressor, MatNetRegressor

        chosen = [CURVE_MODELS[m] for m in args.models or DEFAULT_CURVE_MODELS]
        for name, model in _regression_models(chosen, seed, args.smoke):
            # --params and --label change the networks at their defaults, not the
            # comparison rows (the previous defaults, Glorot inputs, the trees)
            if name.endswith(", defaults") and (args.params or args.label):
                name = name.replace(", defaults", f", {args.label or 'defaults'}")
                model.set_params(**args.params)
            if getattr(args, "members", 1) > 1 and isinstance(model, MatNetRegressor):
                # a deep ensemble of the row's network: one member per seed, mean predicted
                name = f"{name}, mean of {args.members} seeds"
                model = MatNetEnsembleRegressor(model, n_estimators=args.members,
                                                random_state=seed)
            yield name, model
        return
    names = args.networks or [spec.name for spec in NETWORK_SPECS]
    kind = "regressor" if args.part == "networks" else "classifier"
    if kind == "classifier" and not args.no_trees:
        from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

        # the trad. ML grid's best on the JARVIS metal task (docs/classification.md)
        yield "HistGradientBoosting (1000 iterations, 63 leaves)", HistGradientBoostingClassifier(
            max_iter=30 if args.smoke else 1000, max_leaf_nodes=63, early_stopping=False,
            random_state=seed)
        # scikit-learn's defaults, which suit a few hundred rows better than the grid's best
        yield "HistGradientBoosting, defaults", HistGradientBoostingClassifier(
            max_iter=30 if args.smoke else 100, random_state=seed)
        yield "RandomForest (500 trees)", RandomForestClassifier(
            20 if args.smoke else 500, n_jobs=1, random_state=seed)
    budget = "" if args.max_time is None else f", max_time={args.max_time:g}"
    for name in names:
        for recipe, previous in (("defaults", False), ("previous defaults", True)):
            if previous and not args.previous:
                continue
            model = _network(name, kind, seed, previous, args.smoke)
            model.set_params(max_time=args.max_time, **args.params)
            yield f"{name}, {args.label or recipe}{budget}", model


# -- the report


def _mean_std(values) -> str:
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.4f} ± {values.std():.4f}" if len(values) > 1 else f"{values[0]:.4f}"


def report(smoke: bool) -> list[dict]:
    path = _results_file(smoke)
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run a --part first")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    tables = []
    for part in PARTS:
        part_rows = [r for r in rows if r["part"] == part]
        for dataset in dict.fromkeys(r["dataset"] for r in part_rows):
            chosen = [r for r in part_rows if r["dataset"] == dataset]
            tables += _curve_table(dataset, chosen) if part == "curves" else \
                _model_table(part, dataset, chosen)
    columns = list(dict.fromkeys(k for entry in tables for k in entry))
    tables = [{k: entry.get(k, "") for k in columns} for entry in tables]  # one CSV header
    _common.save("default_recipe_smoke" if smoke else "default_recipe", tables,
                 {"setup": {"smoke": smoke, "source": str(path)}})
    if not smoke:
        _plot([r for r in rows if r["part"] == "curves"])
    return tables


def _sizes(rows) -> list:
    return sorted({str(r["size"]) for r in rows},  # "full" and "5-fold" (csv) last
                  key=lambda s: int(s) if s.isdigit() else float("inf"))


def _in_order(rows: list[dict]) -> list[str]:
    """The models of ``rows``, in the order of ``CURVE_MODELS`` (so colours stay put)."""
    order = list(CURVE_MODELS.values())
    return sorted(dict.fromkeys(r["model"] for r in rows),
                  key=lambda m: order.index(m) if m in order else len(order))


def _curve_table(dataset: str, rows: list[dict]) -> list[dict]:
    sizes = _sizes(rows)
    table = []
    for model in _in_order(rows):
        entry = {"dataset": dataset, "model": model}
        for size in sizes:
            values = [r["test_mae"] for r in rows if r["model"] == model
                      and str(r["size"]) == size]
            rows_used = {r["rows"] for r in rows if str(r["size"]) == size}
            label = f"n={max(rows_used):,}" if size == "full" else f"n={int(size):,}"
            entry[label] = _mean_std(values) if values else ""
        table.append(entry)
    columns = list(table[0])
    print(f"\n{dataset}: test MAE ({UNITS.get(dataset, 'target units')}), mean ± std over "
          f"seeds {sorted({r['seed'] for r in rows})}")
    print(markdown_table(table, columns))
    return table


def _model_table(part: str, dataset: str, rows: list[dict]) -> list[dict]:
    table = []
    for size in _sizes(rows):
        for model in dict.fromkeys(r["model"] for r in rows if str(r["size"]) == size):
            table.append(_model_entry(part, dataset, size, [
                r for r in rows if r["model"] == model and str(r["size"]) == size]))
    columns = list(dict.fromkeys(k for entry in table for k in entry))
    print(f"\n{dataset} ({part}), mean ± std over {'folds' if part == 'csv' else 'seeds'}")
    print(markdown_table(table, columns))
    if part == "classification":
        for r in rows:
            if r["seed"] == min(x["seed"] for x in rows) and str(r["size"]) == "full":
                bins = ", ".join(f"{p:.2f}→{f:.2f}" for p, f in r["reliability"])
                print(f"reliability (predicted → observed) of {r['model']}: {bins}")
    return table


def _model_entry(part: str, dataset: str, size: str, chosen: list[dict]) -> dict:
    """One row of a networks/classification/csv table: the runs of one model and size."""
    metrics = ["roc_auc", "log_loss", "accuracy"] if part == "classification" else ["test_mae"]
    entry = {"dataset": dataset, "model": chosen[0]["model"]}
    if part == "classification":
        entry["rows"] = chosen[0]["rows"]
    entry["folds" if part == "csv" else "seeds"] = len(chosen)
    for metric in metrics:
        entry[metric] = _mean_std([r[metric] for r in chosen])
    if "spike" in chosen[0]:
        entry["largest spike"] = f"{max(r['spike'] for r in chosen):.2f}"
        entry["diverged"] = sum(r["stop"] == "diverged" for r in chosen)
        entry["epochs"] = "/".join(str(r["epochs"]) for r in chosen)
    if any("averaged_epochs" in r for r in chosen):  # 0: the best epoch was kept
        entry["averaged epochs"] = "/".join(str(r.get("averaged_epochs", "")) for r in chosen)
    entry["seconds"] = f"{np.mean([r['seconds'] for r in chosen]):.0f}"
    return entry


def _plot(rows: list[dict]) -> None:
    if not rows:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # learning curves only: a set measured at one size is a table, not a curve
    datasets = [d for d in dict.fromkeys(r["dataset"] for r in rows)
                if len({str(r["size"]) for r in rows if r["dataset"] == d}) > 1]
    colours = {m: f"C{i}" for i, m in enumerate(_in_order(rows))}  # one colour per model
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4.2),
                             squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        chosen = [r for r in rows if r["dataset"] == dataset]
        for model in _in_order(chosen):
            points = {}
            for r in chosen:
                if r["model"] == model:
                    points.setdefault(r["rows"], []).append(r["test_mae"])
            sizes = sorted(points)
            ax.errorbar(sizes, [np.mean(points[s]) for s in sizes],
                        yerr=[np.std(points[s]) for s in sizes], marker="o", capsize=3,
                        color=colours[model], label=model)
        ax.set_xscale("log")
        ax.set_xlabel("training rows")
        ax.set_ylabel(f"test MAE ({UNITS.get(dataset, '')})")
        ax.set_title(dataset, fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(__file__).resolve().parents[1] / "docs" / "_static" / "default_recipe_curves.png"
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=PARTS, default="curves")
    parser.add_argument("--datasets", type=lambda s: s.split(","),
                        default=["jarvis_formation_energy"])
    parser.add_argument("--sizes", type=lambda s: s.split(","), default=None,
                        help=f"curves ({','.join(CURVE_SIZES)}) and classification (full)")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")],
                        default=[0, 1, 2])
    parser.add_argument("--models", type=lambda s: s.split(","), default=None,
                        help=f"curves/csv: some of {','.join(CURVE_MODELS)} (default "
                             f"{','.join(DEFAULT_CURVE_MODELS)})")
    parser.add_argument("--networks", type=lambda s: s.split(","), default=None,
                        help="networks/classification: a subset of the networks (default all)")
    parser.add_argument("--previous", action="store_true",
                        help="networks/classification: the previous defaults too")
    parser.add_argument("--max-time", type=float, default=None,
                        help="networks/classification: a time budget per fit (seconds)")
    parser.add_argument("--params", type=json.loads, default={},
                        help='networks/classification/csv: parameters set on every network, '
                             'as JSON (e.g. \'{"lr": 1e-3}\'); name them with --label')
    parser.add_argument("--label", default=None,
                        help="the model name's second part where --params are given")
    parser.add_argument("--members", type=int, default=1,
                        help="curves/csv: average each network over this many seeds "
                             "(MatNetEnsembleRegressor); the trees stay single")
    parser.add_argument("--no-trees", action="store_true",
                        help="classification: leave out HistGradientBoosting")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.models or ()) - set(CURVE_MODELS))
    if unknown:
        parser.error(f"--models: no model {', '.join(unknown)} (choose from "
                     f"{', '.join(CURVE_MODELS)})")
    import torch

    torch.set_num_threads(args.threads)
    if args.smoke and not args.report:  # every part, at tiny sizes
        args.seeds = [0]
        args.networks = args.networks or ["brnet"]
        for args.part, dataset, args.sizes in (
                ("curves", "jarvis_formation_energy", ["100", "full"]),
                ("networks", "jarvis_formation_energy", None),
                ("classification", "jarvis_optb88vdw_bandgap", None),
                ("csv", _smoke_csv(), None)):
            args.datasets = [dataset]
            # the csv part with another network too, as a user comparing networks runs it
            args.models = [*DEFAULT_CURVE_MODELS, "irnet"] if args.part == "csv" else None
            run(args)
        report(smoke=True)
        return
    if args.report:
        report(args.smoke)
    else:
        run(args)


if __name__ == "__main__":
    main()
