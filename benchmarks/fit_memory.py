"""Peak memory of featurizing and fitting on the full OQMD band-gap set (issue 5, item 5).

Every measurement runs in a fresh Python process, so peaks do not mix; the peak
resident set size is ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of that
process (plus ``torch.cuda.max_memory_allocated`` on a GPU):

- ``import``: the libraries alone (torch, skmatnet, pandas, scikit-learn, after
  a fit of a tiny network so that every lazily imported module is loaded; every
  measurement starts the same way);
- ``featurize``: loading the formulas and ``element_fractions`` (the matrix is
  then saved to a temporary ``.npy`` for the other processes);
- ``load X``: the libraries plus the featurized float32 matrix (``np.load``);
- ``fit, one batch``: ``fit`` of BRNet on the first ``--batch-size`` rows only:
  the weights, Adam's state and one batch of activations, no data to speak of;
- ``fit``: ``fit`` of BRNet for one epoch on all rows, estimator defaults
  (``validation_fraction=0.1``, fast path) except ``--batch-size`` (default
  4096: a large batch, to keep the run short on a CPU; it makes the activations
  larger than at the papers' 32, so this is an upper bound for them).

``fit`` minus ``fit, one batch`` is the memory that grows with the data; it is
reported as a multiple of the featurized float32 matrix, along with the peak of
numpy allocations during ``fit`` (``tracemalloc``, which sees numpy's buffers but
not torch's), which shows copies of the data made on the host.

Run: ``python benchmarks/fit_memory.py [--split all|train] [--batch-size N]``.
Writes ``benchmarks/results/fit_memory.{json,csv}``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import SMALL_BRNET, add_common_arguments, setup
from _common import machine, markdown_table, save

MEASUREMENTS = ("import", "featurize", "load X", "fit, one batch", "fit")
MB = 2**20


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (Linux: ru_maxrss is in KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def child(args) -> dict:
    """One measurement, in this (fresh) process."""
    import numpy as np
    import torch

    from skmatnet import BRNetRegressor, element_fractions
    from skmatnet.datasets import load_dataset

    work = Path(args.workdir)
    out = {"measurement": args.child}
    # A tiny fit first, so that the modules fit imports lazily are loaded in every
    # measurement (including "import") and are not counted as data or traced by tracemalloc.
    tiny = np.random.default_rng(0).random((64, 86), dtype=np.float32)
    BRNetRegressor.from_recipe("paper", max_epochs=1, batch_size=32, device=args.device,
                   **{f"module__{k}": v for k, v in BRNetRegressor._test_module_params.items()}
                   ).fit(tiny, tiny[:, 0])
    if args.child == "featurize":
        data = load_dataset("oqmd_bandgap", dedupe=None)
        if args.split != "all":
            data = data[data["split"] == args.split]
        formulas = data["formula"].tolist()[: args.rows]
        y = data["target"].to_numpy(dtype=np.float32)[: args.rows]
        del data
        out["rss_before"] = current_rss()
        start = time.perf_counter()
        X = element_fractions(formulas)
        out["seconds"] = time.perf_counter() - start
        np.save(work / "X.npy", X)
        np.save(work / "y.npy", y)
        out["rows"], out["X_bytes"] = len(X), X.nbytes
    elif args.child != "import":
        X = np.load(work / "X.npy")
        y = np.load(work / "y.npy")
        out["rss_before"] = current_rss()
        if args.child.startswith("fit"):
            import tracemalloc

            if args.child == "fit, one batch":
                X, y = X[: args.batch_size].copy(), y[: args.batch_size].copy()
            module = SMALL_BRNET if args.widths == "small" else {}
            net = BRNetRegressor.from_recipe(
                "paper", max_epochs=1, batch_size=args.batch_size, random_state=0,
                device=args.device, fast_path=not args.standard_path,
                **{f"module__{k}": v for k, v in module.items()})
            cuda = args.device.startswith("cuda")
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            tracemalloc.start()
            start = time.perf_counter()
            net.fit(X, y)
            out["seconds"] = time.perf_counter() - start
            out["numpy_peak"] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            if cuda:
                out["cuda_peak"] = torch.cuda.max_memory_allocated()
            out["rows"] = len(X)
    out["peak_rss"] = peak_rss()
    return out


def run_child(name: str, args, workdir: str) -> dict:
    command = [sys.executable, __file__, "--child", name, "--workdir", workdir,
               "--device", args.device, "--threads", str(args.threads), "--split", args.split,
               "--batch-size", str(args.batch_size), "--widths", args.widths]
    if args.rows:
        command += ["--rows", str(args.rows)]
    if args.standard_path:
        command.append("--standard-path")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"measurement {name!r} failed:\n{result.stderr[-3000:]}")
    line = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--split", default="all", choices=("all", "train", "val", "test"),
                        help="all: the 341,608 rows (train + val + test; 117.5 MB = 112 MiB "
                             "featurized)")
    parser.add_argument("--rows", type=int, default=None, help="use only the first N rows")
    parser.add_argument("--batch-size", type=int, default=4096)
    parser.add_argument("--widths", choices=("full", "small"), default="full",
                        help="full: the published BRNet; small: widths / 4")
    parser.add_argument("--standard-path", action="store_true",
                        help="fit with fast_path=False (skorch's DataLoader)")
    parser.add_argument("--child", choices=MEASUREMENTS, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        import torch

        torch.set_num_threads(args.threads)
        print("RESULT " + json.dumps(child(args)))
        return
    info = setup(args)
    if args.smoke:
        args.rows, args.widths, args.batch_size = args.rows or 3000, "small", 1024

    results = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name in MEASUREMENTS:
            if args.smoke:
                # In this process (the peaks then mix): only checks that the code runs.
                results[name] = child(argparse.Namespace(**{**vars(args), "child": name,
                                                            "workdir": workdir}))
            else:
                results[name] = run_child(name, args, workdir)
            print(f"  {name}: peak RSS {results[name]['peak_rss'] / MB:.0f} MiB", flush=True)

    X_bytes = results["featurize"]["X_bytes"]
    n = results["featurize"]["rows"]
    base = results["import"]["peak_rss"]
    data_growth = results["fit"]["peak_rss"] - results["fit, one batch"]["peak_rss"]
    rows = []
    for name in MEASUREMENTS:
        r = results[name]
        row = {
            "measurement": name,
            "rows": r.get("rows", ""),
            "peak_RSS_MiB": round(r["peak_rss"] / MB),
            "RSS_before_MiB": round(r["rss_before"] / MB) if "rss_before" in r else "",
            "above_import_MiB": round((r["peak_rss"] - base) / MB),
            "x_featurized_size": round((r["peak_rss"] - base) / X_bytes, 2),
            "numpy_peak_in_fit_MiB": round(r["numpy_peak"] / MB) if "numpy_peak" in r else "",
            "seconds": round(r["seconds"], 1) if "seconds" in r else "",
        }
        if "cuda_peak" in r:
            row["cuda_peak_MiB"] = round(r["cuda_peak"] / MB)
        rows.append(row)
    columns = list(rows[-1])
    print()
    print(markdown_table(rows, columns))
    print(f"\nfeaturized float32 matrix: {n:,} x 86 = {X_bytes / MB:.1f} MiB. fit minus "
          f"'fit, one batch' (memory that grows with the data): {data_growth / MB:.0f} MiB = "
          f"{data_growth / X_bytes:.2f} x the featurized matrix. Batch {args.batch_size}, "
          f"{'fast_path=False' if args.standard_path else 'fast path'}, "
          f"{args.widths} BRNet, {args.device}.")
    info["MALLOC_MMAP_THRESHOLD_"] = os.environ.get("MALLOC_MMAP_THRESHOLD_")
    if info["MALLOC_MMAP_THRESHOLD_"]:
        print(f"glibc: MALLOC_MMAP_THRESHOLD_={info['MALLOC_MMAP_THRESHOLD_']}")
    info.update(machine())
    print(f"machine: {info['device_name']}; {info['cpu_count']} cores, torch threads "
          f"{info['threads']}; torch {info['torch']}; {info['date']}")
    name = "fit_memory" + ("_small" if args.widths == "small" else "")
    name += "_standard" if args.standard_path else ""
    name += "_mmap" if info["MALLOC_MMAP_THRESHOLD_"] else ""
    name += "_smoke" if args.smoke else ""
    paths = save(name, rows, {"setup": info, "X_bytes": X_bytes,
                              "data_growth_bytes": data_growth, "raw": results,
                              "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
