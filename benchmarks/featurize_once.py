"""Share of featurization in a grid search over network parameters (issue 5, "Featurize once").

The same ``GridSearchCV`` (a reduced-width BRNet, a grid over ``lr``, 3 folds,
refit) three ways, on JARVIS formation-energy formulas:

- ``Pipeline``: ``make_pipeline(ElementFractionTransformer(), BRNetRegressor())``
  searched as is: every fit and every scoring featurizes its rows again;
- ``Pipeline(memory=...)``: the same with ``memory=joblib.Memory(...)``: each
  fold's training rows are featurized once and reused across the grid;
- ``featurize first``: ``X = element_fractions(formulas)`` once, then the grid
  search over the estimator alone.

Reports the total time and the time spent featurizing (measured inside the
transformer; for ``featurize first``, the one call before the search).

Run: ``python benchmarks/featurize_once.py [--rows N] [--epochs N]``.
Writes ``benchmarks/results/featurize_once.{json,csv}``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
from _bench import SMALL_BRNET, add_common_arguments, setup
from _common import machine, markdown_table, save
from joblib import Memory
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmatnet import BRNetRegressor, ElementFractionTransformer, element_fractions
from skmatnet.datasets import load_dataset


class TimedFeaturizer(ElementFractionTransformer):
    """ElementFractionTransformer that adds the seconds it spends to a class-level total."""

    seconds = 0.0
    calls = 0

    def transform(self, X):
        start = time.perf_counter()
        result = super().transform(X)
        TimedFeaturizer.seconds += time.perf_counter() - start
        TimedFeaturizer.calls += 1
        return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument("--rows", type=int, default=8000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lrs", default="1e-4,3e-4", help="the grid over lr")
    args = parser.parse_args(argv)
    info = setup(args)
    if args.smoke:
        args.rows, args.epochs = 300, 1

    data = load_dataset("jarvis_formation_energy", dedupe="min")
    formulas = np.asarray(data["formula"].tolist()[: args.rows], dtype=object)
    y = data["target"].to_numpy(dtype=np.float32)[: args.rows]
    net = BRNetRegressor.from_recipe(
        "paper", max_epochs=args.epochs, validation_fraction=None, patience=None,
        random_state=0, device=args.device,
        **{f"module__{k}": v for k, v in SMALL_BRNET.items()})
    grid = {"lr": [float(v) for v in args.lrs.split(",")]}
    print(f"GridSearchCV: {len(grid['lr'])} candidates x 3 folds + refit, BRNet (small), "
          f"{args.epochs} epochs, {len(formulas):,} JARVIS formulas; {info['device_name']}")

    # Warm-up: the first fit of a process loads modules lazily; keep that out of the timings.
    make_pipeline(ElementFractionTransformer(), clone(net).set_params(max_epochs=1)).fit(
        formulas[:64], y[:64])
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        variants = {
            "Pipeline": lambda: make_pipeline(TimedFeaturizer(), net),
            "Pipeline(memory=joblib.Memory(...))": lambda: make_pipeline(
                TimedFeaturizer(), net, memory=Memory(cache, verbose=0)),
        }
        for name, build in variants.items():
            TimedFeaturizer.seconds, TimedFeaturizer.calls = 0.0, 0
            search = GridSearchCV(build(), {f"brnetregressor__{k}": v for k, v in grid.items()},
                                  cv=3, scoring="neg_mean_absolute_error")
            start = time.perf_counter()
            search.fit(formulas, y)
            total = time.perf_counter() - start
            rows.append({"variant": name, "total_s": round(total, 2),
                         "featurize_s": round(TimedFeaturizer.seconds, 3),
                         "featurize_calls": TimedFeaturizer.calls,
                         "featurize_share_%": round(100 * TimedFeaturizer.seconds / total, 2)})
            print(f"  {name}: {total:.1f} s", flush=True)

    start = time.perf_counter()
    X = element_fractions(formulas)
    featurize = time.perf_counter() - start
    search = GridSearchCV(net, grid, cv=3, scoring="neg_mean_absolute_error")
    search.fit(X, y)
    total = time.perf_counter() - start
    rows.append({"variant": "featurize first, then GridSearchCV(estimator)",
                 "total_s": round(total, 2), "featurize_s": round(featurize, 3),
                 "featurize_calls": 1, "featurize_share_%": round(100 * featurize / total, 2)})
    print()
    print(markdown_table(rows, list(rows[0])))
    info.update(machine())
    print(f"\nmachine: {info['device_name']}; {info['cpu_count']} cores, torch threads "
          f"{info['threads']}; torch {info['torch']}; {info['date']}")
    paths = save("featurize_once" + ("_smoke" if args.smoke else ""), rows,
                 {"setup": info, "args": vars(args)})
    print("saved", *paths)


if __name__ == "__main__":
    main()
