"""Test MAE against training time: the papers' recipe against the recommended one.

Both recipes train BRNet on the BRNet protocol of ``--dataset`` (deduplicated
to the minimum per composition, 81:9:10 split stratified on the element count,
seed 1234567), with the 9% validation part for early stopping, on the same
machine in the same session.

- ``paper``: the published training (``BRNetRegressor.from_recipe("paper")``:
  full-size BRNet, Adam at a constant 1e-4, batch 32, patience 100) for
  ``--paper-epochs`` epochs. After each epoch a callback computes the test MAE
  of the model early stopping would keep at that moment (the best validation
  epoch so far), outside the epoch timing and touching no random state: what a
  user stopping there gets.
- ``recommended``: the estimator defaults. A cosine schedule only gives its
  model at the end of its horizon, so its curve is one fit per schedule length
  (``--schedules``, in epochs; the last, 100, is the default with no time cut).

Training time is counted in epochs and converted to seconds with the per-epoch
time of each recipe measured on an otherwise idle machine (``--calibrate``:
three epochs of each, validation pass included, median of the last two). The
long runs can then share the machine with other work without their timings
being distorted. ``BRNetRegressor(max_time=T)`` itself is measured on an idle
machine by ``--budgets``.

Each step writes ``benchmarks/results/time_to_accuracy_<dataset>_<step>.json``;
``--report`` reads them, prints the table of times to reach given test MAEs with
their ratio, and draws ``time_to_accuracy_<dataset>.png``::

    python benchmarks/time_to_accuracy.py --recipe paper --threads 1 &
    python benchmarks/time_to_accuracy.py --recipe recommended --threads 1
    python benchmarks/time_to_accuracy.py --calibrate --threads 1     # idle machine
    python benchmarks/time_to_accuracy.py --report
"""

from __future__ import annotations

import argparse
import json
import time

import _common
import numpy as np
from _bench import add_common_arguments, brnet_protocol, mean_abs_error, setup
from _common import machine, markdown_table, save
from skorch.callbacks import Callback

from skmatnet import BRNetRegressor

#: Gupta et al. (SDM 2022), Table 1: BRNet on JARVIS, 0.070 eV/atom, 4,467 s of training.
PAPER_SECONDS = {"jarvis_formation_energy": (4467, 0.070), "mp_formation_energy": (15677, 0.106)}
DEFAULT_SCHEDULES = (5, 10, 20, 40, 100)


class TestLog(Callback):
    """Per epoch: training time so far and the test MAE of the best-validation model."""

    def __init__(self, X_test, y_test):
        self.X_test, self.y_test = X_test, y_test

    def initialize(self):
        self.log = []
        self.best_val_, self.selected_ = np.inf, None
        return self

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        val = float(history[-1, "valid_loss"])
        test = mean_abs_error(net, self.X_test, self.y_test)
        if val < self.best_val_:
            self.best_val_, self.selected_ = val, test
        self.log.append({"epoch": len(history), "training_s": float(sum(history[:, "dur"])),
                         "val_mae": val, "test_mae": test, "selected_test_mae": self.selected_})


def _mae(net, data) -> float:
    return float(np.abs(net.predict(data["X_test"]) - data["y_test"]).mean())


def run_paper(data, args) -> dict:
    log = TestLog(data["X_test"], data["y_test"])
    net = BRNetRegressor.from_recipe("paper", random_state=args.seed, device=args.device,
                                     max_epochs=args.paper_epochs, callbacks=[log])
    net.fit(data["X_train"], data["y_train"], X_val=data["X_val"], y_val=data["y_val"])
    curve = [{"epoch": e["epoch"], "test_mae": e["selected_test_mae"],
              "measured_s": e["training_s"]} for e in log.log]
    return {"curve": curve, "log": log.log, "final_test_mae": _mae(net, data),
            "epochs": net.n_epochs_, "stop_reason": net.stop_reason_}


def run_recommended(data, args) -> dict:
    curve = []
    for epochs in args.schedules:
        net = BRNetRegressor(random_state=args.seed, device=args.device, max_epochs=epochs)
        net.fit(data["X_train"], data["y_train"], X_val=data["X_val"], y_val=data["y_val"])
        point = {"epoch": net.n_epochs_, "test_mae": _mae(net, data),
                 "measured_s": float(sum(net.history_[:, "dur"]))}
        print(json.dumps(point), flush=True)
        curve.append(point)
    return {"curve": curve, "final_test_mae": curve[-1]["test_mae"]}


def run_budgets(data, args) -> dict:
    """``BRNetRegressor(max_time=T)`` for each budget (run on an idle machine)."""
    curve = []
    for budget in args.budgets:
        net = BRNetRegressor(random_state=args.seed, device=args.device, max_time=budget)
        start = time.perf_counter()
        net.fit(data["X_train"], data["y_train"], X_val=data["X_val"], y_val=data["y_val"])
        point = {"budget_s": budget, "wall_s": time.perf_counter() - start,
                 "epoch": net.n_epochs_, "test_mae": _mae(net, data)}
        print(json.dumps(point), flush=True)
        curve.append(point)
    return {"curve": curve}


def calibrate(data, args) -> dict:
    """Seconds per epoch of each recipe, validation pass included, on this machine."""
    seconds = {}
    for recipe in ("paper", "recommended"):
        net = BRNetRegressor.from_recipe(recipe, random_state=args.seed, device=args.device,
                                         max_epochs=3)
        net.fit(data["X_train"], data["y_train"], X_val=data["X_val"], y_val=data["y_val"])
        seconds[recipe] = float(np.median(net.history_[1:, "dur"]))
        print(f"{recipe}: {seconds[recipe]:.2f} s/epoch", flush=True)
    return {"seconds_per_epoch": seconds, "curve": [seconds]}


def first_time(curve: list[dict], threshold: float):
    """Training seconds at which the curve first reaches ``threshold`` (None if never)."""
    for point in sorted(curve, key=lambda p: p["training_s"]):
        if point["test_mae"] is not None and point["test_mae"] <= threshold:
            return point["training_s"]
    return None


def value_at(curve: list[dict], seconds: float):
    """The curve's test MAE after ``seconds`` of training (the last point before it)."""
    before = [p for p in curve if p["training_s"] <= seconds and p["test_mae"] is not None]
    return min(before, key=lambda p: p["test_mae"])["test_mae"] if before else None


def report(args) -> None:
    results = {}
    for step in ("paper", "recommended", "calibration"):
        path = _common.RESULTS / f"time_to_accuracy_{args.dataset}_{step}.json"
        results[step] = json.loads(path.read_text())
    seconds = results["calibration"]["result"]["seconds_per_epoch"]
    paper, ours = results["paper"]["result"]["curve"], results["recommended"]["result"]["curve"]
    for curve, recipe in ((paper, "paper"), (ours, "recommended")):
        for point in curve:
            point["training_s"] = point["epoch"] * seconds[recipe]
    paper_end = paper[-1]["training_s"]
    marks = sorted({60.0, 150.0, 300.0, 600.0, 1200.0, 1800.0, paper_end})
    thresholds = sorted({round(value_at(paper, t), 4) for t in marks
                         if value_at(paper, t) is not None}, reverse=True)
    rows = []
    for threshold in thresholds:
        t_paper, t_ours = first_time(paper, threshold), first_time(ours, threshold)
        rows.append({
            "test_MAE": threshold,
            "paper_recipe_s": round(t_paper, 1) if t_paper else "not reached",
            "recommended_s": round(t_ours, 1) if t_ours else "not reached",
            "speed-up": f"{t_paper / t_ours:.1f}x" if t_paper and t_ours else "",
        })
    print(markdown_table(rows, list(rows[0])))
    print(f"\npaper recipe: {len(paper)} epochs in {paper_end:.0f} s, final (kept) test MAE "
          f"{results['paper']['result']['final_test_mae']:.4f}; recommended recipe, no time "
          f"cut: {ours[-1]['training_s']:.0f} s, test MAE {ours[-1]['test_mae']:.4f}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot([p["training_s"] for p in paper], [p["test_mae"] for p in paper],
            label="papers' recipe (full BRNet, Adam 1e-4, batch 32)")
    ax.plot([p["training_s"] for p in ours], [p["test_mae"] for p in ours], "o-",
            label="recommended recipe (one fit per time budget)")
    reference = PAPER_SECONDS.get(args.dataset)
    if reference:
        ax.axhline(reference[1], color="gray", ls=":",
                   label=f"BRNet paper ({reference[0]:,} s, GPU)")
    ax.set_xscale("log")
    ax.set_xlabel("training time (s, one CPU thread)")
    ax.set_ylabel("test MAE (eV/atom)")
    ax.set_title(f"BRNet on {args.dataset}, BRNet protocol")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = _common.RESULTS / f"time_to_accuracy_{args.dataset}.png"
    fig.savefig(out, dpi=120)
    print("saved", out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--dataset", default="jarvis_formation_energy")
    parser.add_argument("--recipe", choices=("paper", "recommended"), default="recommended")
    parser.add_argument("--paper-epochs", type=int, default=200,
                        help="epochs of the paper recipe (default 200: about an hour on "
                             "one CPU thread for JARVIS)")
    parser.add_argument("--schedules", default=",".join(map(str, DEFAULT_SCHEDULES)),
                        help="schedule lengths (epochs) of the recommended recipe")
    parser.add_argument("--calibrate", action="store_true",
                        help="measure each recipe's seconds per epoch (on an idle machine)")
    parser.add_argument("--budgets", default="",
                        help="instead: fit BRNetRegressor(max_time=T) for each budget T")
    parser.add_argument("--seed", type=int, default=1234567)
    parser.add_argument("--report", action="store_true",
                        help="combine the two recipes' results into the table and the plot")
    args = parser.parse_args(argv)
    if args.report:
        report(args)
        return
    args.budgets = [float(b) for b in args.budgets.split(",") if b]
    args.schedules = [int(b) for b in args.schedules.split(",") if b]
    info = setup(args)
    data = brnet_protocol(args.dataset)
    if args.smoke:
        args.paper_epochs, args.schedules = 2, [2]
        args.budgets = args.budgets and [1.0]
        for part, n in (("train", 512), ("val", 128), ("test", 128)):
            data[f"X_{part}"], data[f"y_{part}"] = data[f"X_{part}"][:n], data[f"y_{part}"][:n]
    step = ("calibration" if args.calibrate else "budgets" if args.budgets else args.recipe)
    print(f"BRNet, {step}, {args.dataset} (BRNet protocol): "
          f"{len(data['X_train']):,} train / {len(data['X_val']):,} val / "
          f"{len(data['X_test']):,} test; {info['device_name']}")
    runner = {"calibration": calibrate, "budgets": run_budgets, "paper": run_paper,
              "recommended": run_recommended}[step]
    result = runner(data, args)
    rows = [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in point.items()}
            for point in result["curve"]]
    shown = rows if step != "paper" else [
        r for i, r in enumerate(rows) if i + 1 in {1, len(rows)} | {2**k for k in range(20)}]
    print(markdown_table(shown, list(shown[0])))
    info.update(machine())
    name = f"time_to_accuracy_{args.dataset}_{step}" + ("_smoke" if args.smoke else "")
    paths = save(name, rows, {"setup": info, "result": result, "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
