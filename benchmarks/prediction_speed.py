"""Prediction throughput on all 341,608 OQMD band-gap formulas (issue 5, item 3).

Times, in compounds per second:

- featurizing the formula strings (``element_fractions``, best of ``--repeats``);
- network-only ``predict`` of a full-size BRNet on the featurized matrix (fitted
  for one epoch on 512 rows just to be fitted: throughput does not depend on the
  weights), at the default prediction batch of 4096;
- end to end: ``Pipeline(ElementFractionTransformer(), BRNetRegressor).predict``
  from the formula strings;
- a sweep of the prediction batch (``iterator_valid__batch_size``) and
  ``precision="bf16"`` on the first ``--sweep-rows`` rows.

Each rate is compared with Tatis et al.'s V100 figure (about 34k compounds in
5.4 s, about 6.3k/s) and with the roofline of this device: the measured float32
matmul peak divided by 2 x parameters FLOP per compound.

Run: ``python benchmarks/prediction_speed.py [--rows N] [--sweep-rows N]``.
Writes ``benchmarks/results/prediction_speed.{json,csv}``.
"""

from __future__ import annotations

import argparse

import numpy as np
from _bench import (
    SMALL_BRNET,
    TATIS_V100_RATE,
    add_common_arguments,
    matmul_peak,
    setup,
    timer,
)
from _common import machine, markdown_table, save
from sklearn.pipeline import make_pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, element_fractions
from skmatnet.datasets import load_dataset
from skmatnet.nets import count_parameters


def best_time(function, repeats: int, device) -> tuple[object, float]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = timer(device)
        result = function()
        best = min(best, timer(device) - start)
    return result, best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--rows", type=int, default=None,
                        help="use the first N formulas (default: all 341,608)")
    parser.add_argument("--sweep-rows", type=int, default=None,
                        help="rows for the batch-size and bf16 sweep (default: 65,536 on CPU, "
                             "all on CUDA)")
    parser.add_argument("--batch-sizes", default="1024,4096,16384",
                        help="prediction batch sizes of the sweep")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per figure, best kept (default: 1 on CPU, 3 on CUDA)")
    parser.add_argument("--widths", choices=("full", "small"), default="full",
                        help="full: the published BRNet (4.5 M parameters); small: widths / 4")
    args = parser.parse_args(argv)
    info = setup(args)
    cuda = info["device"].startswith("cuda")
    if args.smoke:
        args.rows, args.sweep_rows, args.widths = args.rows or 2000, args.sweep_rows or 1000, \
            "small"
        args.batch_sizes = "256,1024"
    repeats = args.repeats or (3 if cuda else 1)
    device = args.device

    data = load_dataset("oqmd_bandgap", dedupe=None)
    formulas = data["formula"].tolist()[: args.rows]
    y = data["target"].to_numpy(dtype=np.float32)[: args.rows]
    n = len(formulas)
    sweep_rows = min(n, args.sweep_rows or (n if cuda else 65_536))
    print(f"{n:,} OQMD band-gap formulas (train + val + test); {info['device_name']}")

    module_params = SMALL_BRNET if args.widths == "small" else {}
    pipeline = make_pipeline(
        ElementFractionTransformer(),
        BRNetRegressor.from_recipe(
            "paper", max_epochs=1, validation_fraction=None, patience=None, random_state=0,
            device=device, **{f"module__{k}": v for k, v in module_params.items()}),
    )
    pipeline.fit(formulas[:512], y[:512])
    net = pipeline[-1]
    params = count_parameters(net.module_)
    peak = matmul_peak(device)
    roofline = peak["flops"] / (2 * params)
    print(f"BRNet {params:,} parameters; float32 matmul peak {peak['flops'] / 1e9:.1f} GFLOP/s "
          f"-> at most {roofline:,.0f} compounds/s for the network")

    rows = []

    def add(stage, batch, count, seconds, note=""):
        rate = count / seconds
        rows.append({
            "stage": stage, "batch": batch, "compounds": count, "seconds": round(seconds, 3),
            "compounds_per_s": round(rate), "vs_Tatis_V100": f"{rate / TATIS_V100_RATE:.2f}x",
            "note": note,
        })
        print(f"  {stage} (batch {batch}): {seconds:.3f} s, {rate:,.0f}/s", flush=True)

    X, featurize_s = best_time(lambda: element_fractions(formulas), max(repeats, 3), "cpu")
    add("featurize (element_fractions)", "", n, featurize_s, "on the CPU, best of 3")

    net.predict(X[:4096])  # warm-up (first CUDA kernels, allocator)
    reference, predict_s = best_time(lambda: net.predict(X), repeats, device)
    add("network only (predict)", 4096, n, predict_s, "float32")

    _, end_to_end_s = best_time(lambda: pipeline.predict(formulas), repeats, device)
    add("end to end (Pipeline.predict from formulas)", 4096, n, end_to_end_s, "float32")

    X_sweep = X[:sweep_rows]
    for batch in (int(b) for b in args.batch_sizes.split(",")):
        net.set_params(iterator_valid__batch_size=batch)
        net.predict(X_sweep[:batch])
        _, seconds = best_time(lambda: net.predict(X_sweep), repeats, device)
        add("network only, batch sweep", batch, sweep_rows, seconds, "float32")
    net.set_params(iterator_valid__batch_size=4096, precision="bf16")
    net.predict(X_sweep[:4096])
    bf16, seconds = best_time(lambda: net.predict(X_sweep), repeats, device)
    net.set_params(precision="float32")
    difference = float(np.abs(bf16 - reference[:sweep_rows]).max())
    add("network only, precision='bf16'", 4096, sweep_rows, seconds,
        f"max abs difference to float32: {difference:.2g} eV")

    columns = ["stage", "batch", "compounds", "seconds", "compounds_per_s", "vs_Tatis_V100",
               "note"]
    print()
    print(markdown_table(rows, columns))
    target = 100 if cuda else 10
    print(f"\nTatis et al. V100: ~34k compounds in 5.4 s = {TATIS_V100_RATE:,.0f}/s. Target here: "
          f"{target}x = {target * TATIS_V100_RATE:,.0f}/s. Roofline of this device for BRNet "
          f"({params:,} parameters, 2 x params FLOP per compound): {roofline:,.0f}/s "
          f"= {roofline / TATIS_V100_RATE:.1f}x.")
    info.update(machine())
    print(f"machine: {info['device_name']}; {info['cpu_count']} cores, torch threads "
          f"{info['threads']}; torch {info['torch']}; {info['date']}")
    paths = save("prediction_speed" + ("_smoke" if args.smoke else ""), rows, {
        "setup": info, "params": params, "matmul_peak": peak, "roofline_per_s": roofline,
        "tatis_v100_per_s": TATIS_V100_RATE, "args": vars(args),
    })
    print("saved", *paths)


if __name__ == "__main__":
    main()
