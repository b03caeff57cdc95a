"""Learning curves of fine-tuning: pretrained vs trained from scratch vs ExtraTrees, on small data.

Two transfers, each scored on a fixed test set of the target dataset (the test
part of its BRNet-protocol split: dedupe to the minimum per composition, 81:9:10
stratified on the element count, seed 1234567):

- ``mp_to_jarvis``: pretrain BRNet on Materials Project formation energies,
  fine-tune on JARVIS formation energies (cross-database);
- ``oqmd_gap_to_jarvis_gap``: pretrain on OQMD band gaps, fine-tune on JARVIS
  optB88vdW band gaps (cross-property: another functional, another database).

The pretraining rows leave out every composition of the target's test part, so
no test composition is seen in pretraining. For each training-set size
(``--sizes``) and seed (``--seeds``), a random subset of the target's training
part is drawn, and three models are trained on exactly those rows:
``BRNetRegressor(init_from=<pretrained file>, lr=--lr-fine-tune)``, the default
``BRNetRegressor()`` from scratch, and ``ExtraTreesRegressor(n_estimators=300)``.
Both networks use their default validation split (10% of the rows) for early
stopping and the default 100-epoch schedule.

Steps (each writes ``benchmarks/results/fine_tuning_<pair>_<step>.json``; the
pretrained model goes to ``--model-dir``, not to git)::

    python benchmarks/fine_tuning.py --pair mp_to_jarvis --step pretrain --threads 1
    python benchmarks/fine_tuning.py --pair mp_to_jarvis --step curves --threads 1
    python benchmarks/fine_tuning.py --report      # tables and PNG of every finished pair
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _common
import numpy as np
import torch
from _common import machine, markdown_table

PAIRS = {
    "mp_to_jarvis": {"source": "mp_formation_energy", "target": "jarvis_formation_energy",
                     "pretrain_epochs": 20, "pretrain_lr": 4e-3, "units": "eV/atom"},
    "oqmd_gap_to_jarvis_gap": {"source": "oqmd_bandgap", "target": "jarvis_optb88vdw_bandgap",
                               "pretrain_epochs": 10, "pretrain_lr": 2e-3, "units": "eV"},
}
MODELS = ("fine-tuned BRNet", "BRNet from scratch", "ExtraTrees")


def _protocol(name: str):
    from skmatnet.benchmark import load_benchmark_data, make_split

    data = load_benchmark_data(name)
    split = make_split(data, "brnet")
    return data, split


def _codes(X: np.ndarray) -> set:
    return {row.tobytes() for row in np.ascontiguousarray(X, dtype=np.float32)}


def pretrain(pair: str, model_dir: Path, smoke: bool) -> dict:
    from skmatnet import BRNetRegressor, save_model
    from skmatnet.benchmark import load_benchmark_data

    spec = PAIRS[pair]
    target, split = _protocol(spec["target"])
    source = load_benchmark_data(spec["source"], max_rows=3000 if smoke else None)
    held_out = _codes(target.X[split.test])
    keep = np.array([row.tobytes() not in held_out for row in source.X])
    X, y = source.X[keep], source.y[keep].astype(np.float32)
    epochs = 2 if smoke else spec["pretrain_epochs"]
    model = BRNetRegressor(max_epochs=epochs, lr=spec["pretrain_lr"], random_state=0)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    model_dir.mkdir(parents=True, exist_ok=True)
    path = save_model(model, model_dir / f"pretrained_{pair}.skmatnet")
    record = {"pair": pair, "source": spec["source"], "rows": len(y),
              "left_out_test_compositions": int((~keep).sum()), "epochs": epochs,
              "lr": spec["pretrain_lr"], "seconds": round(seconds, 1),
              "best_valid_mae": float(np.min(model.history_[:, "valid_loss"])),
              "model_file": str(path)}
    print(json.dumps(record, indent=2))
    return record


def _fit_models(path: Path, X, y, seed: int, lr: float, smoke: bool, tag: str = ""):
    from sklearn.ensemble import ExtraTreesRegressor

    from skmatnet import BRNetRegressor

    epochs = {"max_epochs": 3} if smoke else {}
    name = MODELS[0] + (f" (lr {lr:g})" if tag else "")
    yield name, BRNetRegressor(init_from=str(path), lr=lr, random_state=seed, **epochs)
    if tag:
        return  # a variant of the fine-tuning only; the other models are in the untagged run
    yield MODELS[1], BRNetRegressor(random_state=seed, **epochs)
    yield MODELS[2], ExtraTreesRegressor(n_estimators=30 if smoke else 300, random_state=seed,
                                         n_jobs=1)


def curves(pair: str, model_dir: Path, sizes, seeds, lr: float, smoke: bool,
           tag: str = "") -> list[dict]:
    spec = PAIRS[pair]
    path = model_dir / f"pretrained_{pair}.skmatnet"
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run --step pretrain first")
    data, split = _protocol(spec["target"])
    X_test, y_test = data.X[split.test], data.y[split.test]
    pool = split.train
    rows = []
    for size in sizes:
        for seed in seeds:
            chosen = np.random.default_rng(seed).choice(pool, size=size, replace=False)
            X, y = data.X[chosen], data.y[chosen].astype(np.float32)
            for name, model in _fit_models(path, X, y, seed, lr, smoke, tag):
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                mae = float(np.mean(np.abs(np.ravel(model.predict(X_test)) - y_test)))
                rows.append({"pair": pair, "size": size, "seed": seed, "model": name,
                             "test_mae": round(mae, 5), "seconds": round(seconds, 2)})
                print(f"{pair} n={size} seed={seed} {name}: test MAE {mae:.4f} "
                      f"({seconds:.1f} s)", flush=True)
    return rows


def _load(pair: str, step: str):
    path = _common.RESULTS / f"fine_tuning_{pair}_{step}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _zero_shot(pre: dict, target: str) -> float | None:
    """Test MAE of the pretrained model on the target's test rows, without fine-tuning."""
    from skmatnet import load_model

    path = Path(pre["model_file"])
    if not path.is_file():
        return None
    data, split = _protocol(target)
    predicted = load_model(path).predict(data.X[split.test])
    return float(np.mean(np.abs(predicted - data.y[split.test])))


def report(smoke: bool = False) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suffix = "_smoke" if smoke else ""
    done = [p for p in PAIRS if _load(p, "curves" + suffix)]
    if not done:
        raise SystemExit("no finished curves: run --step curves first")
    fig, axes = plt.subplots(1, len(done), figsize=(5.5 * len(done), 4.2), squeeze=False)
    for ax, pair in zip(axes[0], done, strict=True):
        result, pre = _load(pair, "curves" + suffix), _load(pair, "pretrain" + suffix)
        for variant in sorted(_common.RESULTS.glob(f"fine_tuning_{pair}_curves_*{suffix}.json")):
            if smoke or not variant.stem.endswith("_smoke"):
                result["rows"] += json.loads(variant.read_text())["rows"]
        spec = PAIRS[pair]
        table = []
        sizes = sorted({r["size"] for r in result["rows"]})
        names = list(dict.fromkeys(r["model"] for r in result["rows"]))
        for i, model in enumerate(names):
            means, stds = [], []
            for size in sizes:
                values = [r["test_mae"] for r in result["rows"]
                          if r["model"] == model and r["size"] == size]
                means.append(np.mean(values))
                stds.append(np.std(values))
            ax.errorbar(sizes, means, yerr=stds, marker="o", capsize=3, color=f"C{i}",
                        label=model)
            table.append({"model": model, **{f"n={s}": f"{m:.4f} ± {d:.4f}"
                                             for s, m, d in zip(sizes, means, stds,
                                                                strict=True)}})
        ax.set_xscale("log")
        ax.set_xlabel("training rows of the target")
        ax.set_ylabel(f"test MAE ({spec['units']})")
        ax.set_title(f"{spec['source']} → {spec['target']}", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        seeds = sorted({r["seed"] for r in result["rows"]})
        print(f"\n{pair}: test MAE (mean ± std over seeds {seeds}; "
              f"{result['n_test']} test rows)")
        print(markdown_table(table, ["model", *[f"n={s}" for s in sizes]]))
        seconds = {m: np.mean([r["seconds"] for r in result["rows"] if r["model"] == m
                               and r["size"] == max(sizes)]) for m in names}
        print("seconds per fit at n=" + str(max(sizes)) + ": "
              + ", ".join(f"{m} {v:.0f}" for m, v in seconds.items()))
        if pre:
            print(f"pretrained on {pre['rows']:,} {pre['source']} rows, {pre['epochs']} epochs, "
                  f"{pre['seconds']:.0f} s ({pre['left_out_test_compositions']} test "
                  "compositions left out)")
            zero_shot = _zero_shot(pre, spec["target"])
            if zero_shot is not None:
                ax.axhline(zero_shot, color="gray", linestyle=":", linewidth=1,
                           label="pretrained, not fine-tuned")
                ax.legend(fontsize=8)
                print(f"the pretrained model itself, not fine-tuned: test MAE {zero_shot:.4f}")
    fig.tight_layout()
    out = (_common.RESULTS if smoke else
           Path(__file__).resolve().parents[1] / "docs" / "_static") / f"fine_tuning{suffix}.png"
    fig.savefig(out, dpi=100)
    print(f"\nwrote {out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=PAIRS, default="mp_to_jarvis")
    parser.add_argument("--step", choices=("pretrain", "curves"))
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--sizes", default="100,300,1000,3000")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--lr-fine-tune", type=float, default=1e-3)
    parser.add_argument("--model-dir", type=Path, default=Path("skmatnet-results/pretrained"))
    parser.add_argument("--tag", default="",
                        help="a fine-tuning variant (e.g. another --lr-fine-tune): only the "
                             "fine-tuned model is trained, into curves_<tag>")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.report:
        report(args.smoke)
        return
    if args.step is None:
        parser.error("give --step pretrain or --step curves (or --report)")
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.smoke:
        sizes, seeds = [60], [0]
    command = "python benchmarks/fine_tuning.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in (("pair", args.pair), ("step", args.step)))
    suffix = "_smoke" if args.smoke else ""
    if args.step == "pretrain":
        record = pretrain(args.pair, args.model_dir, args.smoke)
        payload = {"machine": machine(), "command": command, **record}
    else:
        _, split = _protocol(PAIRS[args.pair]["target"])
        rows = curves(args.pair, args.model_dir, sizes, seeds, args.lr_fine_tune, args.smoke,
                      args.tag)
        payload = {"machine": machine(), "command": command, "n_test": len(split.test),
                   "lr_fine_tune": args.lr_fine_tune, "rows": rows}
    _common.RESULTS.mkdir(exist_ok=True)
    step = args.step + (f"_{args.tag}" if args.tag and args.step == "curves" else "")
    out = _common.RESULTS / f"fine_tuning_{args.pair}_{step}{suffix}.json"
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
