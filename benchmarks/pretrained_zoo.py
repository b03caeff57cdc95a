"""Train the pretrained models that ship inside the package, and measure them honestly.

Each zoo entry is a dataset, a target and a split. Every member network is
trained on the split's training part, early-stopped on its validation part and
scored on its test part, which no choice here ever looks at: how many members
to ship is chosen on the validation part. Members are written one by one to
``benchmarks/results/zoo/<entry>/`` (a run skips the members already there, so
a long run resumes where it stopped), with one JSON line each in
``members.jsonl``; ``--report`` prints, per entry, the test figures of one
member and of the mean of the first k members, and saves them as CSV/JSON.
``--package`` writes the chosen models, with their cards, into
``skmatnet/pretrained/`` (see ``skmatnet/pretrained/__init__.py``)::

    python benchmarks/pretrained_zoo.py --entries mp_formation_energy --members 3
    python benchmarks/pretrained_zoo.py --entries jarvis_formation_energy \\
        --init-from mp_formation_energy --members 3
    python benchmarks/pretrained_zoo.py --report

The splits:

- MP formation energy, JARVIS formation energy and band gap (and its metal
  labels): the BRNet protocol, 81:9:10, deduplicated to the lowest value per
  composition (:func:`skmatnet.benchmark.make_split`).
- OQMD band gap (and its metal labels): the published 70/15/15 split (CrabNet's).
- OQMD formation enthalpy: only the published validation and test thirds are
  here. The models train on the validation third (90 %, 10 % held for early
  stopping) and are scored on the test third.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import _common
import numpy as np
from _common import markdown_table

RESULTS = Path(__file__).parent / "results" / "zoo"


@dataclass(frozen=True)
class Entry:
    """One zoo model: where its rows come from and how it is split and trained."""

    dataset: str
    protocol: str  # "brnet", "published" or "validation_third"
    classification: bool = False
    max_epochs: int | None = None  # None: the rules' schedule


ENTRIES = {
    "mp_formation_energy": Entry("mp_formation_energy", "brnet", max_epochs=150),
    "jarvis_formation_energy": Entry("jarvis_formation_energy", "brnet", max_epochs=150),
    "jarvis_optb88vdw_bandgap": Entry("jarvis_optb88vdw_bandgap", "brnet", max_epochs=150),
    "oqmd_bandgap": Entry("oqmd_bandgap", "published", max_epochs=80),
    "oqmd_formation_enthalpy": Entry("oqmd_formation_enthalpy", "validation_third",
                                     max_epochs=150),
    "jarvis_is_metal": Entry("jarvis_optb88vdw_bandgap", "brnet", classification=True),
    "oqmd_is_metal": Entry("oqmd_bandgap", "published", classification=True),
}


def load(name: str, smoke: bool = False):
    """The entry's rows and its (train, val, test) row indices."""
    from skmatnet.benchmark import load_benchmark_data, make_split
    from skmatnet.benchmark.protocols import Split
    from skmatnet.model_selection import n_elements, train_val_test_split

    entry = ENTRIES[name]
    data = load_benchmark_data(entry.dataset, target="is_metal" if entry.classification else None,
                               max_rows=3000 if smoke else None)
    if entry.protocol != "validation_third":
        return data, make_split(data, entry.protocol)
    third, test = np.flatnonzero(data.parts == "val"), np.flatnonzero(data.parts == "test")
    train, val, _ = train_val_test_split(third, sizes=(0.9, 0.1, 0.0),
                                         stratify=n_elements(data.X[third]),
                                         random_state=1234567)
    return data, Split("validation_third", np.sort(train), np.sort(val), np.sort(test))


def _member(name: str, seed: int, init_from: str | None, smoke: bool):
    import skmatnet

    entry = ENTRIES[name]
    cls = skmatnet.BRNetClassifier if entry.classification else skmatnet.BRNetRegressor
    params = {"random_state": seed, "on_divergence": "restore"}
    if entry.max_epochs is not None:
        params["max_epochs"] = entry.max_epochs
    if init_from is not None:
        params["init_from"] = str(init_from)
        params["max_epochs"] = 100
    if smoke:
        params.update(max_epochs=2)
    return cls(**params)


def _scores(model, X, y, classification: bool) -> dict:
    if classification:
        from sklearn.metrics import log_loss, roc_auc_score

        proba = model.predict_proba(X)[:, list(model.classes_).index(True)]
        return {"roc_auc": float(roc_auc_score(y, proba)), "log_loss": float(log_loss(y, proba))}
    return {"mae": float(np.mean(np.abs(np.ravel(model.predict(X)) - y)))}


def train(args) -> None:
    from skmatnet import save_model

    for name in args.entries:
        data, split = load(name, args.smoke)
        label = name if args.init_from is None else f"{name}_from_{args.init_from}"
        folder = RESULTS / ("smoke" if args.smoke else "") / label
        folder.mkdir(parents=True, exist_ok=True)
        classification = ENTRIES[name].classification
        y = data.y if classification else data.y.astype(np.float32)
        for k in range(args.members):
            path = folder / f"member{k}.skmatnet"
            if path.is_file():
                continue
            source = None
            if args.init_from is not None:
                source = RESULTS / ("smoke" if args.smoke else "") / args.init_from / \
                    f"member{k}.skmatnet"
            model = _member(name, seed=k, init_from=source, smoke=args.smoke)
            start = time.perf_counter()
            model.fit(data.X[split.train], y[split.train],
                      X_val=data.X[split.val], y_val=y[split.val])
            seconds = time.perf_counter() - start
            record = {"entry": label, "member": k, "seconds": round(seconds, 1),
                      "rows": {"train": len(split.train), "val": len(split.val),
                               "test": len(split.test)},
                      "epochs": model.n_epochs_, "best_epoch": model.best_epoch_,
                      "stop": model.stop_reason_,
                      "effective_params": dict(model.effective_params_),
                      "val": _scores(model, data.X[split.val], data.y[split.val], classification),
                      "test": _scores(model, data.X[split.test], data.y[split.test],
                                      classification)}
            save_model(model, path)
            print(json.dumps(record), flush=True)
            with (folder / "members.jsonl").open("a") as handle:
                handle.write(json.dumps(record) + "\n")


def report(args) -> None:
    """Per entry: each member, and the mean of the first k members, on validation and test."""
    from skmatnet import load_model

    rows = []
    for folder in sorted(p for p in RESULTS.iterdir() if p.is_dir() and p.name != "smoke"):
        name = folder.name.split("_from_")[0]
        members = sorted(folder.glob("member*.skmatnet"))
        if not members:
            continue
        data, split = load(name)
        classification = ENTRIES[name].classification
        models = [load_model(p) for p in members]
        outputs = {}
        for part in ("val", "test"):
            rows_ = getattr(split, part)
            X = data.X[rows_]
            if classification:
                outputs[part] = [m.predict_proba(X)[:, list(m.classes_).index(True)]
                                 for m in models]
            else:
                outputs[part] = [np.ravel(m.predict(X)) for m in models]
        unseen = None
        if name == "jarvis_formation_energy":
            # the test compositions no MP model trained or stopped on: a fair comparison of
            # the MP start with the start from scratch
            source, source_split = load("mp_formation_energy")
            seen = {r.tobytes() for r in source.X[np.concatenate([source_split.train,
                                                                   source_split.val])]}
            unseen = np.array([r.tobytes() not in seen for r in data.X[split.test]])
        for k in range(1, len(models) + 1):
            row = {"entry": folder.name, "members": k}
            if unseen is not None:
                mean = np.mean(outputs["test"][:k], axis=0)[unseen]
                truth = data.y[split.test][unseen]
                row["test_mae_unseen_by_mp"] = round(float(np.mean(np.abs(mean - truth))), 5)
                row["n_unseen"] = int(unseen.sum())
            for part in ("val", "test"):
                truth = data.y[getattr(split, part)]
                mean = np.mean(outputs[part][:k], axis=0)
                if classification:
                    from sklearn.metrics import roc_auc_score

                    row[f"{part}_roc_auc"] = round(float(roc_auc_score(truth, mean)), 4)
                else:
                    row[f"{part}_mae"] = round(float(np.mean(np.abs(mean - truth))), 5)
            rows.append(row)
            print(json.dumps(row), flush=True)
    (RESULTS / "report.json").write_text(json.dumps(rows, indent=1))


#: What ships: zoo entry (a folder of results/zoo) -> (bundled name, members, description).
SHIP = {
    "mp_formation_energy": ("mp_formation_energy", 3, "Formation energy per atom of inorganic "
                            "compounds, trained on Materials Project DFT (PBE) energies."),
    "jarvis_formation_energy": ("jarvis_formation_energy", 3, "Formation energy per atom, "
                                "trained on JARVIS-DFT (OptB88vdW) energies."),
    "jarvis_optb88vdw_bandgap": ("jarvis_optb88vdw_bandgap", 1, "Band gap from the OptB88vdW "
                                 "functional (JARVIS-DFT), which underestimates gaps."),
    "oqmd_bandgap": ("oqmd_bandgap", 1, "DFT band gap of OQMD compounds (mostly zero: metals)."),
    "oqmd_formation_enthalpy": ("oqmd_formation_enthalpy", 2, "Formation enthalpy per atom, "
                                "trained on OQMD DFT energies."),
    "jarvis_is_metal": ("jarvis_is_metal", 1, "Probability that the OptB88vdW band gap is zero "
                        "(JARVIS-DFT)."),
    "oqmd_is_metal": ("oqmd_is_metal", 1, "Probability that the DFT band gap is zero (OQMD)."),
}
SPLITS = {"brnet": "BRNet protocol: 81:9:10, stratified on the element count, seed 1234567, "
                   "one row per composition (the lowest value)",
          "published": "the published train/validation/test split (CrabNet's 70/15/15)",
          "validation_third": "trained on the published validation third (90 %; 10 % for early "
                              "stopping), scored on the published test third"}


def _card(name: str, folder: Path, members: list[dict], metrics: dict, val_metrics: dict,
          half: bool) -> dict:
    import platform

    from skmatnet.datasets import describe_dataset

    entry = ENTRIES[name]
    info = describe_dataset(entry.dataset)
    rows = members[0]["rows"]
    source = (f" --init-from {folder.name.split('_from_')[1]}" if "_from_" in folder.name
              else "")
    choice = f" --choice {name}={folder.name}" if folder.name != name else ""
    return {
        "target": "metal (band gap of zero) in " + info.name if entry.classification
        else info.target,
        "units": "probability" if entry.classification else info.units,
        "dataset": info.name, "dataset_version": info.source,
        "dataset_sha256": {f.path: f.sha256 for f in info.files},
        "split": SPLITS[entry.protocol], "rows": rows,
        "recipe": "skmatnet's recommended defaults"
        + (f", max_epochs={members[0]['effective_params']['max_epochs']}"
           if entry.max_epochs else "")
        + (", fine-tuned from " + folder.name.split("_from_")[1] if "_from_" in folder.name
           else ""),
        "members": len(members),
        "epochs": [m["epochs"] for m in members], "best_epochs": [m["best_epoch"] for m in members],
        "training_seconds": [m["seconds"] for m in members],
        "test_metrics": metrics, "validation_metrics": val_metrics,
        "weights": "float16" if half else "float32",
        "citation": info.citation, "license": info.license,
        "command": f"python benchmarks/pretrained_zoo.py --entries {name} "
                   f"--members {len(members)}{source} && python benchmarks/pretrained_zoo.py "
                   f"--package{choice}",
        "machine": f"{platform.processor() or platform.machine()}, 1 torch thread",
        "description": SHIP[folder.name.split("_from_")[0]][2],
    }


def _ensemble(models, X_val, y_val):
    """The members as a calibrated ensemble: spread and intervals fitted on the validation
    part, as ``MatNetEnsembleRegressor.fit`` does with ``X_val, y_val``."""
    from skmatnet import BRNetRegressor, MatNetEnsembleRegressor

    ensemble = MatNetEnsembleRegressor(BRNetRegressor(), n_estimators=len(models), calibrate=True)
    ensemble.estimators_ = list(models)
    ensemble.n_features_in_ = models[0].n_features_in_
    mean, spreads = ensemble._mean_std(X_val)
    ensemble._calibrate(np.asarray(y_val, dtype=np.float64) - mean, spreads, adaptive=True)
    return ensemble


def _metrics(model, X, y, classification: bool) -> dict:
    return {k: round(v, 5) for k, v in _scores(model, X, y, classification).items()}


DOCS = Path(__file__).parents[1] / "docs" / "pretrained.md"
TABLE_START, TABLE_END = "<!-- bundled models: start -->", "<!-- bundled models: end -->"


def docs_table(entries: list[dict]) -> str:
    """The bundled models as the markdown table of ``docs/pretrained.md``."""
    rows = []
    for entry in entries:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in entry["test_metrics"].items())
        rows.append({"name": f"`{entry['name']}`", "predicts": entry["target"],
                     "units": entry["units"], "members": entry["members"],
                     "test figure": metrics, "size (MB)": f"{entry['bytes'] / 1e6:.1f}"})
    return markdown_table(rows, ["name", "predicts", "units", "members", "test figure",
                                 "size (MB)"])


def _write_docs_table(entries: list[dict]) -> None:
    text = DOCS.read_text()
    head, rest = text.split(TABLE_START)
    _, tail = rest.split(TABLE_END)
    DOCS.write_text(f"{head}{TABLE_START}\n{docs_table(entries)}\n{TABLE_END}{tail}")


def package(args) -> None:
    """Write the chosen models, their cards and the manifest into skmatnet/pretrained/models."""
    from skmatnet import load_model, save_model
    from skmatnet.pretrained import _manifest_entry, _write_manifest
    from skmatnet.pretrained._zoo import _models_dir, model_entries

    target_dir = Path(_models_dir())
    entries = []
    # --entries: package those alone; the other bundled files and their entries stay as they are
    kept = {} if set(args.entries) >= set(SHIP) else model_entries()
    for folder_name, (bundled, n_members, _) in SHIP.items():
        if folder_name not in args.entries:
            if bundled in kept:
                entries.append(kept[bundled])
            continue
        folder = RESULTS / args.choice.get(folder_name, folder_name)
        members = [json.loads(line) for line in (folder / "members.jsonl").read_text().splitlines()]
        members = sorted(members, key=lambda m: m["member"])[:n_members]
        if len(members) < n_members:
            print(f"{folder.name}: {len(members)} of {n_members} members trained; skipped")
            continue
        name = folder_name
        data, split = load(name)
        classification = ENTRIES[name].classification
        models = [load_model(folder / f"member{m['member']}.skmatnet") for m in members]
        model = models[0] if len(models) == 1 else _ensemble(
            models, data.X[split.val], data.y[split.val])
        X_test, y_test = data.X[split.test], data.y[split.test]
        full = _metrics(model, X_test, y_test, classification)
        path = target_dir / f"{bundled}.skmatnet"
        save_model(model, path, half_precision=True)
        half = _metrics(load_model(path), X_test, y_test, classification)
        key = "roc_auc" if classification else "mae"
        cost = abs(half[key] - full[key]) / full[key]
        print(f"{bundled}: float32 {full}, float16 {half} (relative change {cost:.2e})")
        use_half = cost < 0.005
        metrics = half if use_half else full
        card = _card(name, folder, members, metrics,
                     _metrics(model, data.X[split.val], data.y[split.val], classification),
                     use_half)
        save_model(model, path, metadata=card, half_precision=use_half)
        entries.append(_manifest_entry(
            path, name=bundled, estimator=type(models[0]).__name__,
            kind="classifier" if classification else "regressor", members=len(models),
            target=card["target"], units=card["units"], dataset=card["dataset"],
            split=card["split"], test_metrics=metrics, description=card["description"]))
    _write_manifest(entries, target_dir)
    _write_docs_table(entries)
    print(f"{len(entries)} models, {sum(e['bytes'] for e in entries) / 1e6:.1f} MB")


_LOAD = """
import json, sys, time
start = time.perf_counter()
import skmatnet.persistence  # the estimators, torch and skorch: what any model file needs
import skmatnet.pretrained
imported = time.perf_counter()
model = skmatnet.pretrained.load_pretrained(sys.argv[1])
loaded = time.perf_counter()
model.predict(["NaCl"])
print(json.dumps({"import": imported - start, "load": loaded - imported,
                  "first_prediction": time.perf_counter() - loaded}))
"""


def load_times() -> None:
    """Seconds to import skmatnet with torch, then load each bundled model and predict once,
    in a new process each time (the least disturbed of three runs)."""
    import subprocess
    import sys

    from skmatnet.pretrained import list_models

    rows = []
    for name in list_models()["name"]:
        runs = [json.loads(subprocess.run([sys.executable, "-c", _LOAD, name], check=True,
                                          capture_output=True, text=True).stdout)
                for _ in range(3)]
        best = {k: min(r[k] for r in runs) for k in runs[0]}  # the least disturbed of 3
        rows.append({"model": name, **{k: f"{v:.2f}" for k, v in best.items()}})
    print(markdown_table(rows, ["model", "import", "load", "first_prediction"]))
    _common.save("pretrained_load_times", rows)


def intervals() -> None:
    """Coverage on their test parts of the bundled ensembles' intervals: the Gaussian ones of
    the calibrated spread against ``predict_interval`` (conformal, from the validation part)."""
    from skmatnet import metrics
    from skmatnet.pretrained import list_models, load_pretrained

    rows = []
    for name in list_models()["name"]:
        model = load_pretrained(name)
        ensemble = model[-1]
        if getattr(ensemble, "calibration_scores_", None) is None:
            continue  # a single network, or an ensemble packaged before intervals existed
        data, split = load(name)
        X, y = data.X[split.test], data.y[split.test]
        mean, std = ensemble.predict(X, return_std=True)
        for coverage in (0.8, 0.9, 0.95):
            lower, upper = ensemble.predict_interval(X, coverage=coverage).T
            gaussian = metrics.interval_coverage(y, mean, std, coverage)
            rows.append({"model": name, "asked": f"{coverage:.0%}",
                         "Gaussian holds": f"{gaussian:.1%}",
                         "predict_interval holds": f"{np.mean((lower <= y) & (y <= upper)):.1%}",
                         "mean width": f"{np.mean(upper - lower):.3f}", "test rows": len(y)})
    print(markdown_table(rows, list(rows[0])))
    _common.save("pretrained_intervals", rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=lambda s: s.split(","), default=list(ENTRIES))
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--init-from", default=None,
                        help="an entry whose member k starts member k (fine-tuning)")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--package", action="store_true",
                        help="write the SHIP models, cards and manifest into the package")
    parser.add_argument("--choice", type=lambda s: dict(p.split("=") for p in s.split(",")),
                        default={}, help="entry=folder: ship another run of an entry "
                        "(e.g. jarvis_formation_energy=jarvis_formation_energy_from_"
                        "mp_formation_energy), chosen on the validation part")
    parser.add_argument("--load-times", action="store_true",
                        help="time importing skmatnet and loading each bundled model")
    parser.add_argument("--intervals", action="store_true",
                        help="coverage of the bundled ensembles' intervals on their test parts")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.report:
        report(args)
    elif args.package:
        package(args)
    elif args.load_times:
        load_times()
    elif args.intervals:
        intervals()
    else:
        train(args)


if __name__ == "__main__":
    main()
