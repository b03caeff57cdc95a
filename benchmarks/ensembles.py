"""Deep ensembles: their MAE against their members', and the spread before and after calibration.

``MatNetEnsembleRegressor(BRNetRegressor(...), n_estimators=5, calibrate=True)``
is fitted on the training part with the validation part as ``X_val, y_val``
(early stopping of every member, and the rows the spread is calibrated on),
then scored on the test part:

- ``jarvis_formation_energy``: the BRNet protocol (81:9:10), default recipe;
- ``oqmd_bandgap``: its published split (CrabNet's), ``lr=2e-3`` (the default
  4e-3 explodes on 239k rows, see docs/results_oqmd.md) and a shorter
  schedule (``--max-epochs``, default 10 on OQMD).

Reported per dataset: every member's test MAE, the ensemble's, and for the
ensemble spread before (raw) and after calibration: coverage of the 68% and
95% Gaussian intervals, miscalibration area, Gaussian NLL and the Spearman
correlation of |error| with the std (``skmatnet.metrics``); a calibration plot
goes to ``docs/_static/ensemble_calibration_<dataset>.png``.

    python benchmarks/ensembles.py --dataset jarvis_formation_energy --threads 1
    python benchmarks/ensembles.py --dataset oqmd_bandgap --threads 1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _common
import numpy as np
import torch
from _bench import add_common_arguments
from _common import markdown_table

SETTINGS = {"jarvis_formation_energy": {"protocol": "brnet", "lr": None, "max_epochs": None},
            "oqmd_bandgap": {"protocol": "published", "lr": 2e-3, "max_epochs": 10}}


def _scores(y, mean, std) -> dict:
    from skmatnet import metrics

    return {
        "coverage_68": round(metrics.interval_coverage(y, mean, std, 0.6827), 4),
        "coverage_95": round(metrics.interval_coverage(y, mean, std, 0.95), 4),
        "miscalibration_area": round(metrics.miscalibration_area(y, mean, std), 4),
        "nll": round(metrics.gaussian_nll(y, mean, std), 4),
        "spearman_error_std": round(metrics.error_std_spearman(y, mean, std), 4),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=SETTINGS, default="jarvis_formation_energy")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--max-epochs", type=int)
    add_common_arguments(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    from skmatnet import BRNetRegressor, MatNetEnsembleRegressor, metrics
    from skmatnet.benchmark import load_benchmark_data, make_split

    spec = SETTINGS[args.dataset]
    data = load_benchmark_data(args.dataset, max_rows=2000 if args.smoke else None)
    split = make_split(data, spec["protocol"])
    X, y = data.X, data.y.astype(np.float32)
    params = {"random_state": 0, "device": args.device}
    epochs = 2 if args.smoke else (args.max_epochs or spec["max_epochs"])
    if epochs:
        params["max_epochs"] = epochs
    if spec["lr"]:
        params["lr"] = spec["lr"]
    ensemble = MatNetEnsembleRegressor(BRNetRegressor(**params), n_estimators=args.members,
                                       calibrate=True, random_state=0)
    start = time.perf_counter()
    ensemble.fit(X[split.train], y[split.train], X_val=X[split.val], y_val=y[split.val])
    seconds = time.perf_counter() - start
    X_test, y_test = X[split.test], data.y[split.test]
    members = ensemble._member_predictions(X_test)
    _common.RESULTS.mkdir(exist_ok=True)
    np.savez_compressed(  # member predictions, to re-analyse without training again
        _common.RESULTS / f"ensembles_{args.dataset}{'_smoke' if args.smoke else ''}.npz",
        test=members, y_test=y_test, val=ensemble._member_predictions(X[split.val]),
        y_val=data.y[split.val])
    mean, raw_std = members.mean(axis=0), members.std(axis=0)
    calibrated = raw_std * ensemble.std_scale_
    rows = [{"model": f"member {i + 1}", "test_mae": round(float(np.mean(np.abs(p - y_test))), 5)}
            for i, p in enumerate(members)]
    ensemble_mae = float(np.mean(np.abs(mean - y_test)))
    rows.append({"model": f"ensemble of {args.members}", "test_mae": round(ensemble_mae, 5)})
    uncertainty = [{"spread": "raw (std of the members)", **_scores(y_test, mean, raw_std)},
                   {"spread": f"calibrated (x {ensemble.std_scale_:.3f}, on validation)",
                    **_scores(y_test, mean, calibrated)}]
    print(f"{args.dataset}: {len(split.train):,} train / {len(split.val):,} val / "
          f"{len(split.test):,} test; {seconds:.0f} s for {args.members} members\n")
    print(markdown_table(rows, ["model", "test_mae"]))
    print()
    print(markdown_table(uncertainty, ["spread", "coverage_68", "coverage_95",
                                       "miscalibration_area", "nll", "spearman_error_std"]))
    best = min(r["test_mae"] for r in rows[:-1])
    print(f"\nensemble {ensemble_mae:.4f} vs best member {best:.4f} "
          f"({100 * (1 - ensemble_mae / best):.1f}% lower)")

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.6, 4.6), dpi=100)
    ax = fig.add_subplot()
    metrics.plot_calibration(y_test, mean, raw_std, ax=ax, label="raw")
    metrics.plot_calibration(y_test, mean, calibrated, ax=ax, label="calibrated")
    ax.lines[-1].set_visible(False)  # one diagonal is enough
    ax.set_title(f"{args.dataset}: ensemble of {args.members} BRNets (test)", fontsize=9)
    fig.tight_layout()
    suffix = "_smoke" if args.smoke else ""
    folder = _common.RESULTS if args.smoke else \
        Path(__file__).resolve().parents[1] / "docs" / "_static"
    folder.mkdir(exist_ok=True)
    fig.savefig(folder / f"ensemble_calibration_{args.dataset}{suffix}.png")
    _common.save(f"ensembles_{args.dataset}{suffix}", rows, {
        "uncertainty": uncertainty,
        "setup": {"smoke": args.smoke, "command": "python benchmarks/ensembles.py --dataset "
                  f"{args.dataset}", "params": params, "members": args.members,
                  "seconds": round(seconds, 1), "std_scale": ensemble.std_scale_,
                  "n_train": len(split.train), "n_val": len(split.val),
                  "n_test": len(split.test)}})


if __name__ == "__main__":
    main()
