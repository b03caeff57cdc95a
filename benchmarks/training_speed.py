"""Training epoch time: skmatnet estimators vs a minimal raw PyTorch loop (issue 5, items 1, 2, 4).

For each network at its published size and each batch size, three trainers run
side by side on the same rows, from the same initial weights:

- ``estimator``: the skmatnet estimator, ``fast_path=True`` (the default);
- ``standard``: the same estimator with ``fast_path=False`` (skorch's DataLoader
  and one ``loss.item()`` per batch);
- ``raw``: a minimal PyTorch loop: tensors already on the device, ``randperm``
  index slicing, Adam(lr=1e-4) with the estimator's kernel (fused on a CPU or CUDA
  device), L1Loss, zero_grad/backward/step, no per-batch sync.

Epochs are interleaved (one epoch of each trainer per round, the order rotating),
so the noise of a shared machine hits all three alike; after one warm-up round
the median of ``--epochs`` rounds is reported. An estimator epoch is timed from
``on_epoch_begin`` to the end of all ``on_epoch_end`` callbacks (everything a fit
does per epoch), the raw epoch from its first to its last line, with
``torch.cuda.synchronize()`` on a GPU.

Achieved GFLOP/s = 6 x parameters x rows / epoch seconds (forward + backward of
the weight matmuls; BatchNorm, activations and the optimizer are not counted),
against the measured float32 ``torch.mm`` peak of the same device and threads.

Run::

    python benchmarks/training_speed.py                      # JARVIS (CPU: 4,096 rows)
    python benchmarks/training_speed.py --dataset oqmd_bandgap --networks brnet \\
        --batch-sizes 32 --epochs 1   # a full OQMD epoch (all 341,608 rows on CUDA; on a
                                      # CPU 16,384 rows, extrapolated to a full epoch)

Prints Markdown tables and writes ``benchmarks/results/training_speed*.{json,csv}``.
"""

from __future__ import annotations

import argparse
import time
from statistics import median

import torch
from _bench import (
    ESTIMATORS,
    add_common_arguments,
    jarvis_features,
    matmul_peak,
    oqmd_features,
    parse_rows,
    setup,
    timer,
)
from _common import machine, markdown_table, ratio, save
from skorch.callbacks import Callback

import skmatnet
from skmatnet._device import FUSED_ADAM_DEVICES
from skmatnet.nets import count_parameters, get_network

FULL_ROWS = {"jarvis_formation_energy": 26_741, "oqmd_bandgap": 341_608}
METHODS = ("estimator", "standard", "raw")


class EpochClock(Callback):
    """Wall time of each epoch, from the first on_epoch_begin to the last on_epoch_end."""

    def __init__(self, device):
        self.device = device
        self.seconds = []
        self.cpu_seconds = []

    def initialize(self):
        # skorch re-initializes callbacks on every fit; the measurements must survive that.
        return self

    def on_epoch_begin(self, net, **kwargs):
        self._start = timer(self.device)
        self._cpu = time.process_time()

    def on_epoch_end(self, net, **kwargs):
        self.seconds.append(timer(self.device) - self._start)
        self.cpu_seconds.append(time.process_time() - self._cpu)


class EstimatorTrainer:
    def __init__(self, name, module_params, X, y, batch_size, device, seed, fast_path):
        cls = getattr(skmatnet, ESTIMATORS[name])
        self.clock = EpochClock(device)
        # the papers' recipe: the same optimizer, rate and widths as the raw loop
        self.net = cls.from_recipe(
            "paper",
            batch_size=batch_size, max_epochs=1, validation_fraction=None, patience=None,
            random_state=seed, device=device, fast_path=fast_path, callbacks=[self.clock],
            **{f"module__{k}": v for k, v in module_params.items()},
        )
        self.X, self.y = X, y

    def epoch(self) -> tuple[float, float]:
        """Wall and CPU (process) seconds of one epoch."""
        self.net.partial_fit(self.X, self.y)
        return self.clock.seconds[-1], self.clock.cpu_seconds[-1]


class RawTrainer:
    """The minimal loop every framework overhead is measured against."""

    def __init__(self, name, module_params, X, y, batch_size, device, seed):
        torch.manual_seed(seed)  # the estimator seeds the same way: same initial weights
        self.model = get_network(name)(X.shape[1], 1, **module_params).to(device)
        # The kernel the estimator uses (fused where torch has one), so the ratio is overhead.
        fused = torch.device(device).type in FUSED_ADAM_DEVICES
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-4, fused=fused)
        self.loss = torch.nn.L1Loss()
        self.X = torch.as_tensor(X).to(device)
        self.y = torch.as_tensor(y).reshape(len(y), 1).to(device)
        self.batch_size, self.device = batch_size, device

    def epoch(self) -> tuple[float, float]:
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss
        X, y, size = self.X, self.y, self.batch_size
        start, cpu = timer(self.device), time.process_time()
        model.train()
        order = torch.randperm(len(X), device=X.device)
        for first in range(0, len(X), size):
            index = order[first:first + size]
            optimizer.zero_grad()
            loss = loss_fn(model(X[index]), y[index])
            loss.backward()
            optimizer.step()
        return timer(self.device) - start, time.process_time() - cpu


def measure(name, module_params, X, y, batch_size, args, peak_flops) -> dict:
    trainers = {
        "estimator": EstimatorTrainer(name, module_params, X, y, batch_size, args.device,
                                      args.seed, fast_path=True),
        "standard": EstimatorTrainer(name, module_params, X, y, batch_size, args.device,
                                     args.seed, fast_path=False),
        "raw": RawTrainer(name, module_params, X, y, batch_size, args.device, args.seed),
    }
    trainers = {k: v for k, v in trainers.items() if k in args.methods}
    params = count_parameters(get_network(name)(X.shape[1], 1, **module_params))
    seconds = {method: [] for method in trainers}
    cpu_seconds = {method: [] for method in trainers}
    order = list(trainers)
    for round_ in range(1 + args.epochs):
        for method in order:
            wall, cpu = trainers[method].epoch()
            if round_:  # round 0 is the warm-up
                seconds[method].append(wall)
                cpu_seconds[method].append(cpu)
        order = order[1:] + order[:1]
    per_epoch = {m: median(s) for m, s in seconds.items()}
    per_epoch_cpu = {m: median(s) for m, s in cpu_seconds.items()}
    rows = len(X)
    flops = 6 * params * rows
    row = {"network": name, "params": params, "batch": batch_size, "rows": rows}
    for method in METHODS:
        row[f"{method}_s"] = round(per_epoch[method], 3) if method in per_epoch else None
    raw = per_epoch.get("raw")
    for method in ("estimator", "standard"):
        relative = per_epoch[method] / raw if raw and method in per_epoch else None
        row[f"{method}/raw"] = None if relative is None else round(relative, 3)
    if not args.device.startswith("cuda") and "raw" in per_epoch_cpu and "estimator" in per_epoch:
        # CPU time is less disturbed than wall time by other processes on a shared machine.
        row["estimator/raw_cpu_time"] = round(ratio(per_epoch_cpu["estimator"],
                                                    per_epoch_cpu["raw"]), 3)
    for method in ("estimator", "raw"):
        if method in per_epoch:
            row[f"{method}_GFLOP/s"] = round(flops / per_epoch[method] / 1e9, 1)
    if "estimator" in per_epoch:
        row["estimator_eff_%"] = round(100 * flops / per_epoch["estimator"] / peak_flops, 1)
    row["epochs_s"] = {m: [round(s, 4) for s in v] for m, v in seconds.items()}
    row["epochs_cpu_s"] = {m: [round(s, 4) for s in v] for m, v in cpu_seconds.items()}
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--dataset", default="jarvis_formation_energy", choices=list(FULL_ROWS))
    parser.add_argument("--rows", default=None,
                        help='rows per epoch, or "all" (default: all on CUDA; on a CPU 4,096 '
                             'JARVIS or 16,384 OQMD rows)')
    parser.add_argument("--networks", default=",".join(ESTIMATORS),
                        help="comma-separated (default: all six)")
    parser.add_argument("--batch-sizes", default="32,1024")
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs after one warm-up (default: 2 on CPU, 5 on CUDA)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="subset of estimator,standard,raw")
    parser.add_argument("--widths", choices=("full", "tiny"), default="full",
                        help="full: published sizes; tiny: the test suite's small networks")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    info = setup(args)
    cuda = info["device"].startswith("cuda")
    if args.smoke:
        args.rows, args.epochs, args.widths = args.rows or "64", args.epochs or 1, "tiny"
        args.batch_sizes = "16,64"
    default_rows = 16_384 if args.dataset == "oqmd_bandgap" else 4096
    rows = parse_rows(args.rows) if args.rows else (None if cuda else default_rows)
    args.epochs = args.epochs or (5 if cuda else 2)
    args.methods = tuple(m.strip() for m in args.methods.split(","))
    networks = [n.strip() for n in args.networks.split(",")]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    load = oqmd_features if args.dataset == "oqmd_bandgap" else jarvis_features
    X, y = load(rows, seed=args.seed)
    print(f"{args.dataset}: {len(X):,} rows x {X.shape[1]} features; {info['device_name']}; "
          f"{args.epochs} timed epoch(s) after 1 warm-up")

    peak = matmul_peak(args.device)
    print(f"float32 matmul peak ({peak['size']}x{peak['size']} torch.mm): "
          f"{peak['flops'] / 1e9:.1f} GFLOP/s")

    results = []
    for name in networks:
        cls = getattr(skmatnet, ESTIMATORS[name])
        module_params = dict(cls._test_module_params) if args.widths == "tiny" else {}
        for batch_size in batch_sizes:
            started = time.perf_counter()
            row = measure(name, module_params, X, y, batch_size, args, peak["flops"])
            results.append(row)
            print(f"  {name} batch {batch_size}: "
                  + ", ".join(f"{m} {row[m + '_s']} s" for m in METHODS if row[m + "_s"])
                  + f" ({time.perf_counter() - started:.0f} s)", flush=True)

    columns = ["network", "params", "batch", "rows", "raw_s", "estimator_s", "standard_s",
               "estimator/raw", "standard/raw", "estimator_GFLOP/s", "raw_GFLOP/s",
               "estimator_eff_%"]
    if not cuda:
        columns.insert(9, "estimator/raw_cpu_time")
    print()
    print(markdown_table(results, columns))
    print(f"\ns = seconds per epoch (median of {args.epochs}); GFLOP/s = 6 x params x rows / s; "
          f"efficiency vs the measured {peak['flops'] / 1e9:.1f} GFLOP/s float32 matmul peak.")

    full = FULL_ROWS[args.dataset]
    extrapolated = []
    if args.dataset == "oqmd_bandgap":
        for row in results:
            scale = full / row["rows"]
            extrapolated.append({
                "network": row["network"], "batch": row["batch"], "rows measured": row["rows"],
                "estimator s/epoch measured": row["estimator_s"],
                f"full epoch ({full:,} rows) s": None if row["estimator_s"] is None
                else round(row["estimator_s"] * scale, 1),
                "how": "measured" if scale == 1 else f"extrapolated (x{scale:.2f}, linear in rows)",
            })
        print()
        print(markdown_table(extrapolated, list(extrapolated[0])))

    info.update(machine())
    print(f"\nmachine: {info['device_name']}; {info['cpu_count']} cores, torch threads "
          f"{info['threads']}; torch {info['torch']}; {info['date']}")
    name = "training_speed" + ("" if args.dataset == "jarvis_formation_energy" else "_oqmd")
    name += "_smoke" if args.smoke else ""
    flat = [{k: v for k, v in r.items() if not k.startswith("epochs_")} for r in results]
    paths = save(name, flat, {"setup": info, "matmul_peak": peak, "per_epoch_seconds": results,
                              "extrapolated": extrapolated, "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
