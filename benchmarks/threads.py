"""Epoch time with one torch thread against all cores, for both training recipes.

Each network trains a few epochs on the training part of the BRNet protocol
of JARVIS formation energy with the recommended recipe (the estimator
defaults: half width, batch 256) and with the papers' recipe (published width,
batch 32), once per thread count; the median epoch time after the first epoch
is reported with the speed-up of all cores over one. Run it on an idle
machine: other busy processes make multi-threaded epochs slow and erratic.

Run: ``python benchmarks/threads.py`` (writes ``benchmarks/results/threads.{json,csv}``).
"""

from __future__ import annotations

import argparse
import math
import os
from statistics import median

import torch
from _bench import ESTIMATORS, add_common_arguments, brnet_protocol, setup
from _common import print_and_save, ratio

import skmatnet


def epoch_seconds(cls, recipe, data, epochs, device, smoke) -> float:
    extra = {"width": 0.05} if smoke else {}
    net = cls.from_recipe(recipe, max_epochs=epochs, validation_fraction=None, patience=None,
                          random_state=0, device=device, **extra)
    net.fit(data["X_train"], data["y_train"])
    durations = list(net.history_[:, "dur"])
    return median(durations[1:] if len(durations) > 1 else durations)


def thread_row(name: str, recipe: str, seconds: dict) -> dict:
    """The table row of one network and recipe: rounded epoch times per thread count, and
    the speed-up of the most threads over one, from the unrounded times (a smoke-sized epoch
    rounds to 0.00 s; where it measured 0 s, the speed-up is NaN)."""
    row = {"network": name, "recipe": recipe}
    for n, value in seconds.items():
        row[f"s/epoch, {n} thread{'s' if n > 1 else ''}"] = round(value, 2)
    fewest, most = min(seconds), max(seconds)
    row["speed-up"] = round(ratio(seconds[fewest], seconds[most]), 2)
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--networks", default=",".join(ESTIMATORS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-threads", type=int, default=os.cpu_count())
    args = parser.parse_args(argv)
    info = setup(args)
    data = brnet_protocol()
    counts = sorted({1, args.max_threads})
    if args.smoke:
        args.networks, args.epochs = "brnet", 2
        data = {k: v[:512] for k, v in data.items()}
    rows = []
    for name in args.networks.split(","):
        cls = getattr(skmatnet, ESTIMATORS[name])
        for recipe in ("recommended", "paper"):
            seconds = {}
            for n in counts:
                torch.set_num_threads(n)
                seconds[n] = epoch_seconds(cls, recipe, data, args.epochs, args.device,
                                           args.smoke)
            row = thread_row(name, recipe, seconds)
            if math.isnan(row["speed-up"]):
                print(f"{name}, {recipe}: an epoch took no measurable time; speed-up not "
                      "computed (nan)", flush=True)
            print(row, flush=True)
            rows.append(row)
    torch.set_num_threads(info["threads"])
    print_and_save("threads", rows, info, args)


if __name__ == "__main__":
    main()
