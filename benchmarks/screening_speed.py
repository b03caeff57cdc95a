"""Screening throughput: candidates per second end to end, one process vs a local Dask cluster.

The model is the published BRNet (full size, 4,548,385 weights), fitted for one epoch on 512
JARVIS rows only so that it is fitted (throughput does not depend on the weights). The
candidates are every ternary of the first K of the 86 elements with at most 12 atoms per
formula unit (196 compositions per system), K chosen for about 1e5, 1e6 and 1e7 candidates.
End to end = enumerate, build the fractions, predict, keep the 100 lowest, write Parquet.

Each (mode, size) runs in a fresh subprocess, so that its peak memory (ru_maxrss of the
process, plus that of each worker for Dask) is its own:

- ``process``: one process, torch on ``--threads`` threads (default: all cores);
- ``dask``: ``screen(..., scheduler="local:N")``, N worker processes with one thread each.

Also written: the matmul bound of this machine for the network (measured float32 peak of all
threads / 2 x weights FLOP per candidate), and the issue's target, 1 million candidates per
minute on 2 CPU cores.

With ``--hull-reference mp_formation_energy``, each (mode, size) runs twice: plainly and
ranked by the energy above the hull of those references (``rank_by="e_above_hull"``; the
references are read before the clock starts, every system's hull is built inside it).

Run: ``python benchmarks/screening_speed.py [--sizes 1e5,1e6,1e7] [--modes process,dask]
[--hull-reference mp_formation_energy]``.
Writes ``benchmarks/results/screening_speed.{json,csv}`` (``screening_speed_hull`` with
``--hull-reference``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_PER_MINUTE = 1_000_000
PATTERNS_PER_TERNARY = 196  # max_atoms=12


def n_elements_for(size: float) -> int:
    """The smallest K whose ternaries number at least ``size`` candidates."""
    k = 3
    while math.comb(k, 3) * PATTERNS_PER_TERNARY < size and k < 86:
        k += 1
    return k


def fitted_brnet(smoke: bool, width: float = 1.0, device: str = "cpu"):
    import numpy as np

    from skmatnet import BRNetRegressor, element_fractions, load_dataset

    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    X = element_fractions(list(formulas[:512]))
    # width=1.0: the published size (the estimators default to the recommended half width).
    params = {"max_epochs": 1, "device": device, "random_state": 0, "width": width}
    if smoke:
        params.update(width=0.125)
    return BRNetRegressor(**params).fit(X, np.asarray(y[:512], dtype=np.float32))


def one_run(args) -> dict:
    """Run one (mode, size) in this process and return its row."""
    import torch

    from skmatnet import ELEMENTS
    from skmatnet.nets import count_parameters
    from skmatnet.screening import CompositionSpace, screen

    threads = args.threads if args.mode == "process" else 1
    torch.set_num_threads(threads)
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model = fitted_brnet(args.smoke, args.width, device)
    k = n_elements_for(args.size)
    space = CompositionSpace(ELEMENTS[:k], n_components=3, max_atoms=12)
    scheduler = f"local:{args.workers}" if args.mode == "dask" else None
    options = {}
    if args.hull:
        from skmatnet.screening import HullReference

        options = {"references": HullReference(args.hull), "rank_by": "e_above_hull"}
    worker_peaks: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "top.parquet"
        start = time.perf_counter()
        if scheduler is None:
            result = screen(model, space, bottom=100, output=output, **options)
        else:
            from skmatnet._dask import connect_dask

            with connect_dask(scheduler) as client:
                started = time.perf_counter()
                result = screen(model, space, bottom=100, output=output, scheduler=client,
                                **options)
                worker_peaks = list(client.run(_peak_mb).values())
            start = started  # the cluster's start-up is reported on its own
        seconds = time.perf_counter() - start
    return {
        "mode": args.mode,
        "ranked_by": "e_above_hull" if args.hull else "prediction",
        "device": device,
        "workers": args.workers if args.mode == "dask" else 1,
        "threads_each": threads,
        "elements": k,
        "candidates": result.n_candidates,
        "seconds": round(seconds, 2),
        "candidates_per_s": round(result.n_candidates / seconds),
        "candidates_per_min": round(60 * result.n_candidates / seconds),
        "client_peak_mb": round(_peak_mb()),
        "worker_peak_mb": round(max(worker_peaks)) if worker_peaks else "",
        "parameters": count_parameters(model.module_),
        "best": f"{result.frame['formula'][0]} {result.frame['prediction'][0]:.3f}",
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_bound(threads: int, parameters: int, device: str) -> dict:
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from _bench import matmul_peak

    torch.set_num_threads(threads)
    peak = matmul_peak(device)
    rate = peak["flops"] / (2 * parameters)
    return {"matmul_gflops": round(peak["flops"] / 1e9, 1), "bound_per_s": round(rate),
            "bound_per_min": round(60 * rate)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1e5,1e6,1e7",
                        help="candidate counts, comma-separated (default: %(default)s)")
    parser.add_argument("--modes", default="process,dask",
                        help="process and/or dask (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="Dask workers (default: one per core, %(default)s)")
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch threads of the single process (default: %(default)s)")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when available), cpu or cuda (default: auto)")
    parser.add_argument("--width", type=float, default=1.0,
                        help="BRNet width (default 1.0, the published size; 0.0625 has 256x "
                             "fewer weights: shows what the rest of the pipeline costs)")
    parser.add_argument("--smoke", action="store_true",
                        help="a tiny network and 1e4 candidates, for the test suite")
    parser.add_argument("--hull-reference", default=None, metavar="DATASET|CSV",
                        help="also rank by the energy above the hull of these references")
    parser.add_argument("--hull", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args)))
        return

    sys.path.insert(0, str(Path(__file__).parent))
    from _common import machine, markdown_table, save

    sizes = [1e4] if args.smoke else [float(s) for s in args.sizes.split(",")]
    rows = []
    for size in sizes:
        hulls = [None] + ([args.hull_reference] if args.hull_reference else [])
        for mode, hull in [(m, h) for m in args.modes.split(",") for h in hulls]:
            command = [sys.executable, __file__, "--one", "--mode", mode, "--size", str(size),
                       "--workers", str(args.workers), "--threads", str(args.threads),
                       "--width", str(args.width), "--device", args.device]
            if args.smoke:
                command.append("--smoke")
            if hull:
                command += ["--hull", hull]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode:
                raise SystemExit(f"{mode} {size:g} failed:\n{done.stderr[-3000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            row["vs_target"] = f"{row['candidates_per_min'] / TARGET_PER_MINUTE:.2f}x"
            rows.append(row)
            print(f"{mode:8s} {row['ranked_by']:13s} {row['candidates']:>12,} candidates  "
                  f"{row['seconds']:>8.1f} s  "
                  f"{row['candidates_per_min']:>12,}/min  peak {row['client_peak_mb']} MB "
                  f"(workers {row['worker_peak_mb']})", flush=True)
    bound = matmul_bound(args.threads, rows[0]["parameters"], rows[0]["device"])
    columns = ["mode", "ranked_by", "workers", "threads_each", "candidates", "seconds",
               "candidates_per_s", "candidates_per_min", "vs_target", "client_peak_mb",
               "worker_peak_mb", "best"]
    print()
    print(markdown_table(rows, columns))
    print(f"\n> matmul bound of this machine for this network ({args.threads} threads, "
          f"{bound['matmul_gflops']} GFLOP/s float32): {bound['bound_per_min']:,} candidates"
          f"/min. Target: {TARGET_PER_MINUTE:,}/min.")
    name = "screening_speed_smoke" if args.smoke else (
        "screening_speed" if args.width == 1.0 else f"screening_speed_width{args.width:g}")
    if args.hull_reference and not args.smoke:
        name += "_hull"
    json_path, _ = save(name, rows, {"matmul_bound": bound, "machine_info": machine(),
                                     "target_per_minute": TARGET_PER_MINUTE})
    print(f"saved {json_path}")


if __name__ == "__main__":
    main()
