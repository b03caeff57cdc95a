"""Epoch time at the defaults: fused Adam (the estimators' default) against torch's default kernel.

Each network at its defaults (the rules' batch size for the rows, width 0.5) trains
``--epochs`` epochs on random subsets of the training part of the BRNet protocol of JARVIS
formation energy, once with ``optimizer__fused=True`` (what the estimators use on a CPU or
CUDA device) and once with ``optimizer__fused=False`` (torch's default, a loop over the
parameters), from the same initial weights. The two kernels alternate, the order rotating
with each repeat, so the noise of a shared machine hits both alike. Reported: the median
epoch time after the first epoch of each fit, in process CPU seconds (which other processes
on the machine disturb far less than wall seconds) and in wall seconds, and the ratio
default-kernel / fused of the CPU seconds (of the wall seconds on a GPU). The
accuracy of full-length fits is measured by ``default_recipe.py`` (``docs/defaults.md``).

Run: ``python benchmarks/adam_kernel.py --threads 1`` (writes
``benchmarks/results/adam_kernel.{json,csv}``).
"""

from __future__ import annotations

import argparse
import time
from statistics import median

import numpy as np
from _bench import (
    ESTIMATORS,
    add_common_arguments,
    brnet_protocol,
    is_cuda,
    parse_rows,
    setup,
)
from _common import print_and_save, ratio
from skorch.callbacks import Callback

import skmatnet
from skmatnet._adaptive import recommended_settings

KERNELS = {"fused": True, "torch default": False}


class CpuClock(Callback):
    """Process CPU seconds of each epoch."""

    def on_train_begin(self, net, **kwargs):
        self.seconds = []

    def on_epoch_begin(self, net, **kwargs):
        self._start = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        self.seconds.append(time.process_time() - self._start)


def epoch_seconds(cls, X, y, fused: bool, epochs: int, device, smoke: bool) -> tuple:
    """(CPU, wall) seconds of a steady epoch: the median after the first."""
    extra = {"width": 0.05} if smoke else {}
    clock = CpuClock()
    net = cls(max_epochs=epochs, validation_fraction=None, random_state=0, device=device,
              optimizer__fused=fused, callbacks=[clock], **extra)
    net.fit(X, y)
    wall = list(net.history_[:, "dur"])
    return tuple(median(values[1:] if len(values) > 1 else values)
                 for values in (clock.seconds, wall))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--networks", default=",".join(ESTIMATORS))
    parser.add_argument("--rows", default="300,3000,all",
                        help="training subsets (all: the whole training part)")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
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
            (fused, fused_wall), (plain, plain_wall) = (
                tuple(median(v) for v in zip(*seconds[kernel], strict=True))
                for kernel in KERNELS)
            row = {"network": name, "rows": len(X),
                   "batch": recommended_settings(len(X))["batch_size"],
                   "CPU s/epoch, fused": round(fused, 3),
                   "CPU s/epoch, torch default": round(plain, 3),
                   # the host's CPU time says nothing of a GPU's work: wall time there
                   "speed-up": round(ratio(plain_wall, fused_wall) if is_cuda(args.device)
                                     else ratio(plain, fused), 2),
                   "wall s/epoch, fused": round(fused_wall, 3),
                   "wall s/epoch, torch default": round(plain_wall, 3)}
            print(row, flush=True)
            rows.append(row)
    print_and_save("adam_kernel", rows, info, args)


if __name__ == "__main__":
    main()
