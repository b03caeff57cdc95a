"""Which rate, schedule and freezing fine-tuning should default to: learning curves from the zoo.

Each pair starts from a model of the pretrained zoo (``benchmarks/pretrained_zoo.py``
writes them to ``benchmarks/results/zoo/``) and fine-tunes it on random subsets
of a target dataset's training part (BRNet protocol split), at 30 to 3,000 rows
and several seeds:

- ``mp_to_jarvis``: MP formation energy → JARVIS formation energy (another database);
- ``oqmd_gap_to_jarvis_gap``: OQMD band gap → JARVIS optB88vdW band gap (another
  functional and database).

The test rows are the target's test part *minus every composition the
pretrained model trained or early-stopped on*, so no test composition was seen
in pretraining. Variants (``VARIANTS``): the peak rate of the from-scratch rules
times a factor (1, 0.3, 0.1), with or without the first BRNet stage frozen
(``freeze_layers=6``), against BRNet from scratch at its defaults (and with the
papers' random input layers, ``input_init="glorot"``) and ExtraTrees
(300 trees). Rows are appended to ``benchmarks/results/fine_tuning_defaults.jsonl``
as each fit finishes (a run resumes where it stopped); ``--report`` prints the
tables of ``docs/pretrained.md`` and saves them as CSV/JSON::

    python benchmarks/fine_tuning_defaults.py --pair mp_to_jarvis --seeds 0,1,2
    python benchmarks/fine_tuning_defaults.py --pair oqmd_gap_to_jarvis_gap --seeds 0,1,2
    python benchmarks/fine_tuning_defaults.py --report
    python benchmarks/fine_tuning_defaults.py --calibration --pair mp_to_jarvis --sizes 100,300

``--calibration`` fits fine-tuned ensembles of five instead, calibrated on 100 more rows
(of compositions the pretrained model never saw, like the test rows) or on their own
out-of-fold errors (``cv=5``), and records the test MAE, the coverage and width of the
Gaussian 95% interval and of the conformal 90% and 95% intervals (``predict_interval``)
and the miscalibration area (``benchmarks/results/fine_tuning_intervals.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _common
import numpy as np
from _common import markdown_table

RESULTS = _common.RESULTS / "fine_tuning_defaults.jsonl"
ZOO = _common.RESULTS / "zoo"
PAIRS = {"mp_to_jarvis": ("mp_formation_energy", "jarvis_formation_energy"),
         "oqmd_gap_to_jarvis_gap": ("oqmd_bandgap", "jarvis_optb88vdw_bandgap")}
#: name -> (factor on the from-scratch rules' peak rate, freeze_layers); None: not fine-tuned.
VARIANTS = {"fine-tuned, rate x1": (1.0, 0), "fine-tuned, rate x0.3": (0.3, 0),
            "fine-tuned, rate x0.1": (0.1, 0), "fine-tuned, rate x0.3, stage 1 frozen": (0.3, 6),
            "from scratch": None, "from scratch, Glorot inputs": None, "ExtraTrees": None}


def _codes(X) -> set:
    return {row.tobytes() for row in np.ascontiguousarray(X, dtype=np.float32)}


def _pair_data(pair: str):
    """Target rows, its training pool, the unseen test rows, and the pretrained file."""
    import pretrained_zoo

    source, target = PAIRS[pair]
    source_data, source_split = pretrained_zoo.load(source)
    seen = _codes(source_data.X[np.concatenate([source_split.train, source_split.val])])
    data, split = pretrained_zoo.load(target)
    unseen = np.array([row.tobytes() not in seen
                       for row in np.ascontiguousarray(data.X[split.test], dtype=np.float32)])
    return data, split.train, split.test[unseen], len(split.test), ZOO / source / "member0.skmatnet"


def _model(variant: str, path: Path, n_rows: int, seed: int):
    from sklearn.ensemble import ExtraTreesRegressor

    from skmatnet import BRNetRegressor
    from skmatnet._adaptive import recommended_settings, validation_fraction_for

    if variant == "ExtraTrees":
        return ExtraTreesRegressor(n_estimators=300, n_jobs=1, random_state=seed)
    if VARIANTS[variant] is None:  # from scratch: at the defaults, or with random input layers
        return BRNetRegressor(random_state=seed, input_init="glorot" if "Glorot" in variant
                              else "elements")
    factor, frozen = VARIANTS[variant]
    share = validation_fraction_for(n_rows) or 0.0
    # the factors scale the rate that fine-tuning starts from: the batch's, without the lower
    # rate of a from-scratch fit on few rows
    rule = recommended_settings(n_rows - int(np.ceil(share * n_rows)),
                                rate_falls_on_small_sets=False)["lr"]
    return BRNetRegressor(init_from=str(path), lr=float(f"{rule * factor:.2g}"),
                          freeze_layers=frozen, random_state=seed)


def run(args) -> None:
    done = set()
    if RESULTS.is_file():
        done = {(r["pair"], r["size"], r["seed"], r["model"])
                for r in map(json.loads, RESULTS.read_text().splitlines())}
    data, pool, test, n_test_all, path = _pair_data(args.pair)
    print(f"{args.pair}: {len(test)} of {n_test_all} test rows unseen in pretraining", flush=True)
    for size in args.sizes:
        for seed in args.seeds:
            rows = np.random.default_rng(seed).choice(pool, size=size, replace=False)
            X, y = data.X[rows], data.y[rows].astype(np.float32)
            for variant in args.variants:
                if (args.pair, size, seed, variant) in done:
                    continue
                model = _model(variant, path, size, seed)
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
                mae = float(np.mean(np.abs(np.ravel(model.predict(data.X[test])) - data.y[test])))
                record = {"pair": args.pair, "size": size, "seed": seed, "model": variant,
                          "test_mae": round(mae, 5), "seconds": round(seconds, 2),
                          "n_test": len(test)}
                if hasattr(model, "effective_params_"):
                    record["effective_params"] = dict(model.effective_params_)
                print(json.dumps(record), flush=True)
                with RESULTS.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")


CALIBRATION = _common.RESULTS / "fine_tuning_intervals.jsonl"
#: How the fine-tuned ensemble of five is calibrated: on 100 more rows, or on its own rows.
CALIBRATIONS = ("100 new rows", "out of fold (cv=5)")


def calibration(args) -> None:
    """Error bars of a fine-tuned ensemble on small data, calibrated two ways.

    The rows (``--sizes``) and the 100 more rows are drawn from the pool's compositions
    that are new to the pretrained model, like the test rows: a user's compositions, and
    the ones they will predict. ``100 new rows``: five members from the bundled model's
    members, trained on the rows, calibrated on the 100 more rows. ``out of fold (cv=5)``:
    five members, one per fold of the rows alone, calibrated on their out-of-fold errors
    (no extra rows). Each records, on the unseen test
    compositions, the coverage of the Gaussian 95% interval of the rescaled spread
    and of the conformal ``predict_interval`` at 90% and 95%, and their mean widths."""
    import pretrained_zoo

    from skmatnet import BRNetRegressor, MatNetEnsembleRegressor, metrics

    source = PAIRS[args.pair][0]
    data, pool, test, _, _ = _pair_data(args.pair)
    # The spread is calibrated on rows as new to the pretrained model as the test rows are
    # (a user's own compositions): rows it saw are easier, and would shrink the spread.
    source_data, source_split = pretrained_zoo.load(source)
    seen = _codes(source_data.X[np.concatenate([source_split.train, source_split.val])])
    new_rows = np.array([i for i in pool if data.X[i].astype(np.float32).tobytes() not in seen])
    done = set()
    if CALIBRATION.is_file():
        done = {(r["pair"], r["size"], r["seed"], r["calibration"])
                for r in map(json.loads, CALIBRATION.read_text().splitlines())}
    for size in args.sizes:
        for seed in args.seeds:
            rng = np.random.default_rng(seed)
            held = rng.choice(new_rows, size=100, replace=False)
            # the user's rows, like the rows to predict, are compositions new to the start
            train = rng.choice(np.setdiff1d(new_rows, held), size=size, replace=False)
            for how in CALIBRATIONS:
                if (args.pair, size, seed, how) in done:
                    continue
                member = BRNetRegressor(init_from=source)
                if how == "100 new rows":
                    ensemble = MatNetEnsembleRegressor(member, n_estimators=5, calibrate=True,
                                                       random_state=seed)
                    fit_args = {"X_val": data.X[held], "y_val": data.y[held]}
                else:
                    ensemble = MatNetEnsembleRegressor(member, cv=5, calibrate=True,
                                                       random_state=seed)
                    fit_args = {}
                start = time.perf_counter()
                ensemble.fit(data.X[train], data.y[train].astype(np.float32), **fit_args)
                seconds = time.perf_counter() - start
                mean, std = ensemble.predict(data.X[test], return_std=True)
                truth = data.y[test]
                record = {"pair": args.pair, "size": size, "seed": seed, "calibration": how,
                          "test_mae": round(float(np.mean(np.abs(mean - truth))), 5),
                          "gaussian_95": round(metrics.interval_coverage(truth, mean, std), 4),
                          "gaussian_95_width": round(float(np.mean(2 * 1.959964 * std)), 4),
                          "miscalibration_area": round(
                              metrics.miscalibration_area(truth, mean, std), 4),
                          "error_std_spearman": round(
                              metrics.error_std_spearman(truth, mean, std), 4),
                          "std_scale": round(float(ensemble.std_scale_), 3),
                          "calibration_rows": len(ensemble.calibration_scores_),
                          "seconds": round(seconds, 1), "n_test": len(test)}
                for coverage in (0.9, 0.95):
                    lower, upper = ensemble.predict_interval(data.X[test], coverage).T
                    label = f"conformal_{round(coverage * 100)}"
                    record[label] = round(float(np.mean((lower <= truth) & (truth <= upper))), 4)
                    record[f"{label}_width"] = round(float(np.mean(upper - lower)), 4)
                if how == "100 new rows":
                    # the alternative: one width for all rows (plain split conformal prediction)
                    errors = np.sort(np.abs(data.y[held] - ensemble.predict(data.X[held])))
                    for coverage in (0.9, 0.95):
                        half = errors[int(np.ceil((len(errors) + 1) * coverage)) - 1]
                        label = f"one_width_{round(coverage * 100)}"
                        record[label] = round(float(np.mean(np.abs(truth - mean) <= half)), 4)
                        record[f"{label}_width"] = round(float(2 * half), 4)
                print(json.dumps(record), flush=True)
                with CALIBRATION.open("a") as handle:
                    handle.write(json.dumps(record) + "\n")


def calibration_report() -> list[dict]:
    """Coverage of the fine-tuned ensembles' intervals, mean over seeds."""
    rows = [json.loads(line) for line in CALIBRATION.read_text().splitlines()]
    table = []
    for pair in PAIRS:
        for size in sorted({r["size"] for r in rows if r["pair"] == pair}):
            for how in CALIBRATIONS:
                done = [r for r in rows if (r["pair"], r["size"], r["calibration"])
                        == (pair, size, how)]
                if not done:
                    continue

                def mean(key, digits=3, done=done):
                    return f"{np.mean([r[key] for r in done]):.{digits}f}"

                def share(key, done=done):
                    return f"{np.mean([r[key] for r in done]):.1%}" if key in done[0] else "–"

                table.append({"pair": pair, "rows": size, "calibrated on": how,
                              "seeds": len(done), "test MAE": mean("test_mae"),
                              "Gaussian 95%": share("gaussian_95"),
                              "predict_interval 90%": share("conformal_90"),
                              "predict_interval 95%": share("conformal_95"),
                              "its 95% width": mean("conformal_95_width"),
                              "one width 90%": share("one_width_90"),
                              "one width 95%": share("one_width_95"),
                              "its 95% width ": (mean("one_width_95_width")
                                                 if "one_width_95" in done[0] else "–"),
                              "error-spread Spearman": mean("error_std_spearman", 2),
                              "seconds": mean("seconds", 0)})
    print("\nFine-tuned ensembles of five: share of the unseen test compositions inside their "
          "intervals, mean over seeds")
    print(markdown_table(table, list(table[0])))
    _common.save("fine_tuning_intervals", table)
    return table


def _zero_shot(pair: str) -> float:
    """Test MAE of the pretrained start itself on the unseen test compositions."""
    from skmatnet import load_model

    data, _, test, _, path = _pair_data(pair)
    return float(np.mean(np.abs(np.ravel(load_model(path).predict(data.X[test])) - data.y[test])))


def report() -> None:
    rows = [json.loads(line) for line in RESULTS.read_text().splitlines()]
    tables = []
    for pair in PAIRS:
        mine = [r for r in rows if r["pair"] == pair]
        if not mine:
            continue
        sizes = sorted({r["size"] for r in mine})
        table = [{"model": "bundled start, not fine-tuned (zero-shot)",
                  **dict.fromkeys([f"n={s}" for s in sizes], f"{_zero_shot(pair):.4f}")}]
        for variant in VARIANTS:
            line = {"model": variant, **{f"n={s}": "" for s in sizes}}
            for size in sizes:
                done = [r for r in mine if r["model"] == variant and r["size"] == size]
                values, seconds = [r["test_mae"] for r in done], [r["seconds"] for r in done]
                if values:
                    line[f"n={size}"] = (f"{np.mean(values):.4f} ± {np.std(values):.4f} "
                                         f"({np.mean(seconds):.0f} s, {len(values)} seeds)")
            table.append(line)
        print(f"\n{pair} ({mine[0]['n_test']} unseen test rows): test MAE, mean ± std over seeds")
        print(markdown_table(table, ["model", *[f"n={s}" for s in sizes]]))
        tables += [{"pair": pair, **line} for line in table]
    _common.save("fine_tuning_defaults", tables)
    if CALIBRATION.is_file():
        calibration_report()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pair", choices=list(PAIRS))
    parser.add_argument("--sizes", type=lambda s: [int(v) for v in s.split(",")],
                        default=[30, 100, 300, 1000, 3000])
    parser.add_argument("--seeds", type=lambda s: [int(v) for v in s.split(",")],
                        default=[0, 1, 2])
    parser.add_argument("--variants", type=lambda s: s.split(";"), default=list(VARIANTS))
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--calibration", action="store_true",
                        help="error bars of a fine-tuned ensemble of 5 at --sizes instead")
    args = parser.parse_args(argv)
    if args.report:
        report()
    elif args.calibration:
        calibration(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
