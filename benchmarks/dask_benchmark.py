"""Wall time of a small benchmark run serially and on a local Dask cluster.

The same ``run_benchmark`` call (JARVIS formation energy, ``--max-rows 3000``, models
trad. ML, ElemNet and BRNet, 5 epochs, the quick trad. ML grid) once in this process
and once on a ``LocalCluster`` of ``--workers`` processes with one thread each (one
torch thread in the serial run too). The cluster's start-up is timed apart from the
run; the test MAEs of both runs are compared (they must agree). Run it on an idle
machine: the point is how much the models gain from running side by side.

Run: ``python benchmarks/dask_benchmark.py`` (writes
``benchmarks/results/dask_benchmark.{json,csv}``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from _common import markdown_table, save


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="jarvis_formation_energy")
    parser.add_argument("--models", default="tradml,elemnet,brnet")
    parser.add_argument("--protocol", default="brnet")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--max-rows", type=int, default=3000)
    parser.add_argument("--max-epochs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="300 rows, tiny networks")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()  # other processes on the machine slow both runs

    import torch

    from skmatnet._dask import connect_dask
    from skmatnet.benchmark import run_benchmark

    torch.set_num_threads(1)
    options = {"models": args.models, "protocol": args.protocol, "n_folds": args.folds,
               "max_rows": 300 if args.smoke else args.max_rows,
               "max_epochs": 2 if args.smoke else args.max_epochs, "tiny": args.smoke,
               "tradml_grid": "quick", "device": "cpu", "plots": False, "verbose": False,
               "threads": 1}
    rows, tables = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        serial = run_benchmark(args.data, output_dir=Path(tmp) / "serial", **options)
        serial_seconds = time.perf_counter() - start
        start = time.perf_counter()
        with connect_dask(f"local:{args.workers}") as client:
            startup = time.perf_counter() - start
            start = time.perf_counter()
            parallel = run_benchmark(args.data, output_dir=Path(tmp) / "dask", scheduler=client,
                                     **options)
            dask_seconds = time.perf_counter() - start
        tables = {"serial": serial.table, "dask": parallel.table}
    difference = float((tables["serial"]["test_mae"] - tables["dask"]["test_mae"]).abs().max())
    compute = float(tables["serial"].drop_duplicates("train_time_s")["train_time_s"].sum())
    rows.append({"run": "serial", "workers": 1, "cluster_start_s": 0.0,
                 "wall_s": round(serial_seconds, 1), "speed_up": 1.0,
                 "model_compute_s": round(compute, 1)})
    compute = float(tables["dask"].drop_duplicates("train_time_s")["train_time_s"].sum())
    rows.append({"run": f"dask local:{args.workers}", "workers": args.workers,
                 "cluster_start_s": round(startup, 1), "wall_s": round(dask_seconds, 1),
                 "speed_up": round(serial_seconds / dask_seconds, 2),
                 "model_compute_s": round(compute, 1)})
    per_model = [{"model": m, "serial_test_mae": round(float(a), 6),
                  "dask_test_mae": round(float(b), 6),
                  "serial_train_s": round(float(ta), 1), "dask_train_s": round(float(tb), 1)}
                 for m, a, b, ta, tb in zip(tables["serial"]["model"],
                                            tables["serial"]["test_mae"],
                                            tables["dask"]["test_mae"],
                                            tables["serial"]["train_time_s"],
                                            tables["dask"]["train_time_s"], strict=True)]
    print(markdown_table(rows, list(rows[0])))
    print()
    print(markdown_table(per_model, list(per_model[0])))
    print(f"\nlargest test-MAE difference serial vs Dask: {difference:.2e}")
    command = "python " + " ".join(["benchmarks/dask_benchmark.py", *sys.argv[1:]])
    paths = save("dask_benchmark" + ("_smoke" if args.smoke else ""), rows,
                 {"setup": {**options, "data": args.data, "workers": args.workers,
                            "smoke": args.smoke, "command": command,
                            "load_average_before": load_before},
                  "per_model": per_model, "max_test_mae_difference": difference})
    print(f"saved {paths[0]} and {paths[1]}")


if __name__ == "__main__":
    main()
