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
import os
from statistics import median

import torch
from _bench import ESTIMATORS, add_common_arguments, brnet_protocol, setup
from _common import machine, markdown_table, save

import skmatnet


def epoch_seconds(cls, recipe, data, epochs, device, smoke) -> float:
    extra = {"width": 0.05} if smoke else {}
    net = cls.from_recipe(recipe, max_epochs=epochs, validation_fraction=None, patience=None,
                          random_state=0, device=device, **extra)
    net.fit(data["X_train"], data["y_train"])
    durations = list(net.history_[:, "dur"])
    return median(durations[1:] if len(durations) > 1 else durations)


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
            row = {"network": name, "recipe": recipe}
            for n in counts:
                torch.set_num_threads(n)
                row[f"s/epoch, {n} thread{'s' if n > 1 else ''}"] = round(
                    epoch_seconds(cls, recipe, data, args.epochs, args.device, args.smoke), 2)
            times = [v for k, v in row.items() if k.startswith("s/epoch")]
            row["speed-up"] = round(times[0] / times[-1], 2)
            print(row, flush=True)
            rows.append(row)
    torch.set_num_threads(info["threads"])
    print(markdown_table(rows, list(rows[0])))
    info.update(machine())
    paths = save("threads" + ("_smoke" if args.smoke else ""), rows,
                 {"setup": info, "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
