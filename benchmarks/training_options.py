"""Speed and accuracy of the training options (issue 5, "Options").

BRNet on the BRNet protocol of JARVIS formation energy (deduplicated to the
minimum per composition, 81:9:10 split stratified on the element count, seed
1234567), the same initial weights for every option:

- ``baseline``: the papers' numerics: float32, batch 32, Adam lr 1e-4, with
  torch's default (unfused) Adam kernel, which every option but ``fused Adam`` keeps,
  so each row changes one thing;
- ``fused Adam``: ``optimizer__fused=True`` (the estimators' default since
  2026-12-07);
- ``bf16``: ``precision="bf16"`` (bfloat16 autocast of the forward pass);
- ``tf32``: ``precision="tf32"`` (CUDA only: on a CPU it changes nothing, so no row);
- ``compile``: ``compile=True`` (skorch's ``torch.compile`` of the module); the
  first epoch's extra time is reported as compile time;
- ``CUDA graphs``: ``compile=True, compile__mode="reduce-overhead"`` (CUDA only);
- ``batch 256`` / ``batch 1024``: larger batches with the learning rate scaled by
  the square root of the batch ratio (x sqrt(8), x sqrt(32)): the scaling rule
  for Adam (Malladi et al., NeurIPS 2022; Hoffer et al., NeurIPS 2017); the
  linear rule (Goyal et al., 2017) is derived for SGD.

The baseline trains ``--epochs`` epochs; its training time T (sum of the
per-epoch durations, validation pass included) is the budget: every other
option trains until it has done at least ``--epochs`` epochs AND spent at least
T. Validation and test MAE are logged after every epoch (outside the timing),
so each option is compared after the same number of epochs and after the same
wall time. s/epoch is the median of the epochs after the first.

Run: ``python benchmarks/training_options.py [--epochs N] [--widths small|full]``.
Writes ``benchmarks/results/training_options.{json,csv}``.
"""

from __future__ import annotations

import argparse
import math
import time
import warnings
from statistics import median

from _bench import SMALL_BRNET, add_common_arguments, brnet_protocol, mean_abs_error, setup
from _common import machine, markdown_table, ratio, save
from skorch.callbacks import Callback

from skmatnet import BRNetRegressor
from skmatnet.callbacks.guards import stop_training

BASE_LR = 1e-4


def options(cuda: bool) -> list[tuple[str, dict, str]]:
    """(name, estimator parameters, note); CUDA-only options are left out on a CPU."""
    rows = [
        ("baseline (float32, batch 32)", {}, "the papers' numerics"),
        ("fused Adam", {"optimizer__fused": True}, ""),
        ("bf16 autocast", {"precision": "bf16"}, ""),
        ("tf32 matmuls", {"precision": "tf32"}, "CUDA only"),
        ("torch.compile", {"compile": True}, ""),
        ("CUDA graphs", {"compile": True, "compile__mode": "reduce-overhead"}, "CUDA only"),
        ("batch 256, lr x sqrt(8)", {"batch_size": 256, "lr": BASE_LR * math.sqrt(8)}, ""),
        ("batch 1024, lr x sqrt(32)", {"batch_size": 1024, "lr": BASE_LR * math.sqrt(32)}, ""),
    ]
    return [row for row in rows if cuda or row[2] != "CUDA only"]


class Monitor(Callback):
    """Logs validation and test MAE per epoch; stops after ``epochs`` epochs and ``budget`` s."""

    def __init__(self, X_test, y_test, epochs, budget):
        self.X_test, self.y_test = X_test, y_test
        self.epochs, self.budget = epochs, budget
        self.log = []

    def initialize(self):
        return self

    def on_epoch_end(self, net, **kwargs):
        history = net.history
        elapsed = float(sum(history[:, "dur"]))
        self.log.append({
            "epoch": len(history),
            "dur": float(history[-1, "dur"]),
            "elapsed": elapsed,
            "val_mae": float(history[-1, "valid_loss"]),
            "test_mae": mean_abs_error(net, self.X_test, self.y_test),
        })
        if len(history) >= self.epochs and elapsed >= self.budget:
            # Stop at the end of this epoch, as the estimator's own max_time does.
            stop_training(net, "max_time")


def train(params: dict, data: dict, args, budget: float, seed: int) -> tuple[list, float]:
    module = SMALL_BRNET if args.widths == "small" else {}
    monitor = Monitor(data["X_test"], data["y_test"], args.epochs, budget)
    net = BRNetRegressor.from_recipe(
        "paper",
        max_epochs=100_000, patience=None, random_state=seed, device=args.device,
        callbacks=[monitor], **{f"module__{k}": v for k, v in module.items()},
        **{"optimizer__fused": False, **params},
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="torch")
        net.fit(data["X_train"], data["y_train"], X_val=data["X_val"], y_val=data["y_val"])
    return monitor.log, time.perf_counter() - start


def steady_epoch_s(log) -> float:
    """The median epoch time after the first (which compiles and warms up)."""
    return median(e["dur"] for e in log[1:]) if len(log) > 1 else log[0]["dur"]


def summarize(name, params, note, log, wall, args, budget, baseline_epoch_s) -> dict:
    steady = steady_epoch_s(log)
    at_n = log[args.epochs - 1]
    within = [e for e in log if e["elapsed"] <= budget * 1.0001]
    at_t = within[-1] if within else None
    return {
        "option": name,
        "batch": params.get("batch_size", 32),
        "lr": f"{params.get('lr', BASE_LR):.3g}",
        "s_per_epoch": round(steady, 3),
        # baseline_epoch_s is unrounded: the rounded s_per_epoch may be 0.0 for tiny runs.
        "speedup": round(ratio(baseline_epoch_s, steady), 2) if baseline_epoch_s is not None
        else 1.0,
        "first_epoch_extra_s": round(log[0]["dur"] - steady, 1),
        f"val_MAE@{args.epochs}ep": round(at_n["val_mae"], 4),
        f"test_MAE@{args.epochs}ep": round(at_n["test_mae"], 4),
        "epochs@T": at_t["epoch"] if at_t else 0,
        "val_MAE@T": round(at_t["val_mae"], 4) if at_t else None,
        "test_MAE@T": round(at_t["test_mae"], 4) if at_t else None,
        "note": note,
        "wall_s": round(wall, 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of the baseline (default: 5 on CPU, 20 on CUDA)")
    parser.add_argument("--widths", choices=("full", "small"), default=None,
                        help="full: the published BRNet; small: widths / 4 (default: small on "
                             "CPU, full on CUDA)")
    parser.add_argument("--options", default=None,
                        help="comma-separated substrings selecting options (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    info = setup(args)
    cuda = info["device"].startswith("cuda")
    args.epochs = args.epochs or (20 if cuda else 5)
    args.widths = args.widths or ("full" if cuda else "small")

    data = brnet_protocol()
    if args.smoke:
        args.epochs, args.widths = 2, "small"
        args.options = args.options or "baseline,fused,bf16,batch 256"
        for part, n in (("train", 512), ("val", 128), ("test", 128)):
            data[f"X_{part}"], data[f"y_{part}"] = data[f"X_{part}"][:n], data[f"y_{part}"][:n]
    chosen = options(cuda)
    if args.options:
        wanted = [w.strip() for w in args.options.split(",")]
        chosen = [o for o in chosen if any(w in o[0] for w in wanted) or o[0].startswith("base")]
    print(f"BRNet ({args.widths}) on JARVIS formation energy, BRNet protocol: "
          f"{len(data['X_train']):,} train / {len(data['X_val']):,} val / "
          f"{len(data['X_test']):,} test; {info['device_name']}")

    rows, logs = [], {}
    budget, baseline_epoch_s = 0.0, None
    for name, params, note in chosen:
        log, wall = train(params, data, args, budget, args.seed)
        if budget == 0.0:  # the baseline defines the time budget
            budget = log[args.epochs - 1]["elapsed"]
        row = summarize(name, params, note, log, wall, args, budget, baseline_epoch_s)
        if baseline_epoch_s is None:
            baseline_epoch_s = steady_epoch_s(log)
        rows.append(row)
        logs[name] = log
        print(f"  {name}: {row['s_per_epoch']} s/epoch, test MAE {row[f'test_MAE@{args.epochs}ep']}"
              f" after {args.epochs} epochs, {row['test_MAE@T']} after T ({len(log)} epochs, "
              f"{wall:.0f} s)", flush=True)

    columns = [c for c in rows[0] if c != "wall_s"]
    print()
    print(markdown_table(rows, columns))
    print(f"\nT = {budget:.1f} s (the baseline's {args.epochs} epochs). MAE in eV/atom. "
          "first_epoch_extra_s: first epoch minus a steady one (compilation, warm-up).")
    if not cuda:
        print("tf32 and CUDA graphs: CUDA only, not run on a CPU.")
    info.update(machine())
    print(f"machine: {info['device_name']}; {info['cpu_count']} cores, torch threads "
          f"{info['threads']}; torch {info['torch']}; {info['date']}")
    name = "training_options" + (f"_seed{args.seed}" if args.seed else "")
    paths = save(name + ("_smoke" if args.smoke else ""), rows,
                 {"setup": info, "budget_s": budget, "per_epoch": logs, "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
