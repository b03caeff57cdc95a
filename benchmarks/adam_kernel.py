"""Epoch time at the defaults: fused Adam (the estimators' default) against torch's default kernel.

Each network at its defaults (the rules' batch size for the rows, width 0.5) trains
``--epochs`` epochs on random subsets of the training part of the BRNet protocol of JARVIS
formation energy, once with ``optimizer__fused=True`` (what the estimators use on a CPU or
CUDA device) and once with ``optimizer__fused=False`` (torch's default, a loop over the
parameters), from the same initial weights. The two kernels alternate, the order rotating
with each repeat, so the noise of a shared machine hits both alike; the median epoch time
after the first epoch of each fit is reported, with the ratio default-kernel / fused. The
accuracy of full-length fits is measured by ``default_recipe.py`` (``docs/defaults.md``).

Run: ``python benchmarks/adam_kernel.py --threads 1`` (writes
``benchmarks/results/adam_kernel.{json,csv}``).
"""

from __future__ import annotations

import argparse
from statistics import median

import numpy as np
from _bench import ESTIMATORS, add_common_arguments, brnet_protocol, parse_rows, setup
from _common import machine, markdown_table, ratio, save

import skmatnet
from skmatnet._adaptive import recommended_settings

KERNELS = {"fused": True, "torch default": False}


def epoch_seconds(cls, X, y, fused: bool, epochs: int, device, smoke: bool) -> float:
    extra = {"width": 0.05} if smoke else {}
    net = cls(max_epochs=epochs, validation_fraction=None, random_state=0, device=device,
              optimizer__fused=fused, **extra)
    net.fit(X, y)
    durations = list(net.history_[:, "dur"])
    return median(durations[1:] if len(durations) > 1 else durations)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--networks", default=",".join(ESTIMATORS))
    parser.add_argument("--rows", default="300,3000,all",
                        help="training subsets (all: the whole training part)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    info = setup(args)
    data = brnet_protocol()
    if args.smoke:
        args.networks, args.rows, args.epochs, args.repeats = "brnet", "64", 2, 1
    rng = np.random.default_rng(0)
    rows = []
    for name in args.networks.split(","):
        cls = getattr(skmatnet, ESTIMATORS[name])
        for size in args.rows.split(","):
            n = parse_rows(size) or len(data["X_train"])
            keep = rng.choice(len(data["X_train"]), min(n, len(data["X_train"])), replace=False)
            X, y = data["X_train"][keep], data["y_train"][keep]
            seconds = {kernel: [] for kernel in KERNELS}
            for repeat in range(args.repeats):
                order = list(KERNELS)[repeat % 2:] + list(KERNELS)[:repeat % 2]
                for kernel in order:
                    seconds[kernel].append(epoch_seconds(cls, X, y, KERNELS[kernel],
                                                         args.epochs, args.device, args.smoke))
            fused, plain = median(seconds["fused"]), median(seconds["torch default"])
            row = {"network": name, "rows": len(X),
                   "batch": recommended_settings(len(X))["batch_size"],
                   "s/epoch, fused": round(fused, 3), "s/epoch, torch default": round(plain, 3),
                   "speed-up": round(ratio(plain, fused), 2)}
            print(row, flush=True)
            rows.append(row)
    print(markdown_table(rows, list(rows[0])))
    info.update(machine())
    paths = save("adam_kernel" + ("_smoke" if args.smoke else ""), rows,
                 {"setup": info, "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
