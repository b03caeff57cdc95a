"""Search for the recommended training recipe, scored on validation data only.

Each named configuration is a set of estimator parameters on top of the
estimator defaults (the recommended recipe) or of the papers' recipe
(``"paper": True``). Every run trains on the BRNet protocol's training part
(81%) of ``--dataset``, with its validation part (9%) for early stopping and as
the score that decides; the test MAE (10%) is recorded alongside for the
results pages but never used to choose.

Runs append to ``benchmarks/results/recipe_search_<dataset>.jsonl`` as they
finish and a run already in that file is skipped, so the search can be split
across processes (``--configs``) and resumed.

Run (one torch thread per process when two share the machine):
``python benchmarks/recipe_search.py --threads 1 --configs base,adam,no_warmup``;
``--list`` prints every configuration; ``--table`` prints the collected results.
"""

from __future__ import annotations

import argparse
import json
import time

import _common
import numpy as np
from _bench import add_common_arguments, brnet_protocol, setup
from _common import machine, markdown_table, save

import skmatnet

#: name -> (estimator parameters, description). Equal-time runs use ``max_time``.
CONFIGS: dict[str, dict] = {
    # equal wall time: 150 s per run, the schedule defined over the time budget
    "base_t150": {"max_time": 150},
    "adam_t150": {"max_time": 150, "optimizer": "Adam"},
    "wd0.1_t150": {"max_time": 150, "optimizer__weight_decay": 0.1},
    "no_warmup_t150": {"max_time": 150, "warmup": 0.0},
    "onecycle_t150": {"max_time": 150, "lr_schedule": "onecycle", "warmup": 0.3},
    "lr1e-3_t150": {"max_time": 150, "lr": 1e-3},
    "lr4e-3_t150": {"max_time": 150, "lr": 4e-3},
    "bs128_lr1.4e-3_t150": {"max_time": 150, "batch_size": 128, "lr": 1.4e-3},
    "bs512_lr2.8e-3_t150": {"max_time": 150, "batch_size": 512, "lr": 2.8e-3},
    "w0.25_t150": {"max_time": 150, "width": 0.25},
    "w0.75_t150": {"max_time": 150, "width": 0.75},
    "w1.0_t150": {"max_time": 150, "width": 1.0},
    "constant_t150": {"max_time": 150, "lr_schedule": "constant"},
    "paper_t150": {"max_time": 150, "paper": True},
    # at convergence: the schedule over a fixed number of epochs
    "base_e40": {"max_epochs": 40},
    "base_e100": {"max_epochs": 100},
    "base_e200": {"max_epochs": 200},
    "lr4e-3_e100": {"max_epochs": 100, "lr": 4e-3},
    "w0.25_e100": {"max_epochs": 100, "width": 0.25},
    "w1.0_e100": {"max_epochs": 100, "width": 1.0},
    "w1.0_e200": {"max_epochs": 200, "width": 1.0},
    "onecycle_e100": {"max_epochs": 100, "lr_schedule": "onecycle", "warmup": 0.3},
    "swa_e100": {"max_epochs": 100, "swa": 0.75},
    "patience20_e100": {"max_epochs": 100, "patience": 20},
}

NETWORKS = {name: getattr(skmatnet, cls) for name, cls in
            (("brnet", "BRNetRegressor"), ("bnet", "BNetRegressor"),
             ("elemnet", "ElemNetRegressor"), ("irnet", "IRNetRegressor"),
             ("fcmnr", "FCMnRRegressor"), ("fcunet", "FCUNetRegressor"))}


def build(network: str, params: dict, seed: int, device: str):
    import torch

    params = dict(params)
    paper = params.pop("paper", False)
    if "swa" in params:
        from skmatnet.callbacks import WeightAveraging

        params["callbacks"] = [WeightAveraging(params.pop("swa"), params["max_epochs"])]
    if isinstance(params.get("optimizer"), str):
        params["optimizer"] = getattr(torch.optim, params["optimizer"])
    cls = NETWORKS[network]
    return cls.from_recipe("paper" if paper else "recommended", random_state=seed,
                           device=device, **params)


def mae(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float64).ravel() - b).mean())


def run(name: str, network: str, data: dict, seed: int, device: str) -> dict:
    net = build(network, CONFIGS[name], seed, device)
    start = time.perf_counter()
    net.fit(data["X_train"], data["y_train"], X_val=data["X_val"], y_val=data["y_val"])
    wall = time.perf_counter() - start
    used = net.get_params(deep=False)
    effective = {k: used[k] for k in ("lr", "batch_size", "lr_schedule", "warmup", "width")}
    effective["optimizer"] = used["optimizer"].__name__
    return {
        "config": name, "network": network, "seed": seed, "params": CONFIGS[name],
        "effective": effective,
        "val_mae": round(mae(net.predict(data["X_val"]), data["y_val"]), 5),
        "test_mae": round(mae(net.predict(data["X_test"]), data["y_test"]), 5),
        "wall_s": round(wall, 1), "epochs": net.n_epochs_, "stop": net.stop_reason_,
        "parameters": int(sum(p.numel() for p in net.module_.parameters())),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--dataset", default="jarvis_formation_energy")
    parser.add_argument("--configs", default="base_t150", help="comma-separated names")
    parser.add_argument("--networks", default="brnet", help="comma-separated networks")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--list", action="store_true", help="print the configurations")
    parser.add_argument("--table", action="store_true", help="print the results so far")
    args = parser.parse_args(argv)
    out = _common.RESULTS / f"recipe_search_{args.dataset}{'_smoke' if args.smoke else ''}.jsonl"
    if args.list:
        for name, params in CONFIGS.items():
            print(f"{name:24s} {params}")
        return
    if args.table:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        for row in rows:
            row["settings"] = ", ".join(f"{k}={v}" for k, v in row["params"].items()
                                        if k not in ("max_time", "max_epochs")) or "defaults"
            row["parameters"] = f"{row['parameters']:,}"
        cols = ["config", "settings", "parameters", "epochs", "wall_s", "val_mae", "test_mae"]
        for title, budget in (("equal time (max_time)", "max_time"),
                              ("fixed schedule (max_epochs)", "max_epochs")):
            part = sorted((r for r in rows if budget in r["params"]), key=lambda r: r["val_mae"])
            if part:
                print(f"{title}, best validation MAE first:\n")
                print(markdown_table(part, cols) + "\n")
        return
    info = setup(args)
    data = brnet_protocol(args.dataset)
    if args.smoke:
        for part, n in (("train", 512), ("val", 128), ("test", 128)):
            data[f"X_{part}"], data[f"y_{part}"] = data[f"X_{part}"][:n], data[f"y_{part}"][:n]
        CONFIGS["smoke"] = {"max_epochs": 2, "width": 0.1}
        args.configs = "smoke"
    done = set()
    if out.exists():
        done = {(r["config"], r["network"], r["seed"])
                for r in map(json.loads, out.read_text().splitlines())}
    _common.RESULTS.mkdir(exist_ok=True)
    rows = []
    for network in args.networks.split(","):
        for seed in map(int, args.seeds.split(",")):
            for name in args.configs.split(","):
                if (name, network, seed) in done:
                    continue
                row = run(name, network, data, seed, info["device"])
                row.update(threads=info["threads"], device=info["device_name"],
                           date=time.strftime("%Y-%m-%d"))
                print(json.dumps(row), flush=True)
                with out.open("a") as handle:
                    handle.write(json.dumps(row) + "\n")
                rows.append(row)
    if rows:
        print(markdown_table(rows, ["config", "network", "seed", "val_mae", "test_mae",
                                    "wall_s", "epochs"]))
        info.update(machine())
        save(out.stem, rows, {"setup": info, "args": vars(args)})


if __name__ == "__main__":
    main()
