"""CrabNet at its own defaults against our fine-tuned BRNet and fine-tuned ensemble, on small data.

Issue 24, item 7: the model a user would pick instead, run from its own source
(sparks-baird/CrabNet, with its element tables) on this machine, on the same rows
as ours: test MAE and wall time of each.

Data. For each pair, the target dataset's BRNet-protocol split (dedupe to the
lowest value per composition, 81:9:10 stratified on the element count, seed
1234567). For each size (``--sizes``) and seed (``--seeds``) a random subset of
the split's training part is drawn (``numpy.random.default_rng(seed)``); every
model trains on exactly those rows and is scored on the test part's compositions
that the pretrained model never saw (neither in its training nor in its validation
rows; CrabNet starts from nothing, so a seen composition would favour ours):

- ``gap``: ``jarvis_optb88vdw_bandgap``, ours fine-tuned from the bundled
  ``oqmd_bandgap`` model (``--pretrained-gap``: another name or a model file);
- ``fe``: ``jarvis_formation_energy``, ours fine-tuned from the bundled
  ``mp_formation_energy`` model (``--pretrained-fe``).

Models:

- ``CrabNet``: ``crabnet.crabnet_.CrabNet`` at its defaults, run in a subprocess
  with CrabNet's own interpreter (``--crabnet-python``, a separate venv: CrabNet
  needs seaborn, which this project does not). It gets the subset as a DataFrame of
  ``formula``/``target`` and no ``val_df``, so it carves its own validation part
  as its defaults do (``val_size=0.2``, ``train_test_split`` on the numpy seed it
  sets from ``random_state``), trains up to 300 epochs (Lamb + Lookahead + SWA,
  cyclic lr 1e-4..6e-3 every 10 epochs; every 20th epoch, from the 20th, is an
  SWA epoch, and three SWA epochs without a new validation minimum stop it),
  batch size ``2**round(log2(n)-4)`` clipped to 128..4096 (128 at every size
  here), mat2vec element embeddings, d_model 512, 3 layers, 4 heads. Changed
  from its defaults: ``random_state`` = the seed (reproducible draws; its
  default ``None`` leaves the seed unset),
  ``verbose``, ``losscurve``, ``learningcurve`` and ``save`` off (printing,
  figures and a ``.pth`` file; none changes the model), and the run's working
  folder is a temporary one (it writes ``figures/lc_data/*.csv`` there).
  Timed: construction + ``fit`` (featurization of the formulas included) +
  ``predict`` on the test formulas, with ``OMP_NUM_THREADS`` and
  ``torch.set_num_threads`` set to ``--threads``; the interpreter start and the
  imports are recorded apart (``process_seconds``).
- ``fine-tuned BRNet``: ``BRNetRegressor(init_from=<pretrained>, random_state=seed)``
  at its fine-tuning defaults (a validation split from 1,000 rows on); from a
  bundled ensemble it starts from member ``seed % members``.
- ``fine-tuned ensemble (5)``: ``MatNetEnsembleRegressor(BRNetRegressor(init_from=...),
  n_estimators=5, random_state=seed)``, members trained one after another.
  Ours are timed on ``fit`` + ``predict`` of the element-fraction features that
  ``load_benchmark_data`` made once (featurizing a few thousand formulas takes
  milliseconds).

Rows are appended to ``benchmarks/results/crabnet_side_by_side.jsonl`` as each
model finishes; a run skips the rows already there, so a stopped run resumes.
``--report`` prints the markdown table (mean ± std over seeds; ratios of the
means: our MAE / CrabNet's, our time / CrabNet's) and saves it as
``benchmarks/results/crabnet_side_by_side.{csv,json}``.

CrabNet's venv, once (its source from git, not the PyPI release, which lacks the
element tables; the same torch as ours, the CPU build)::

    python3 -m venv /work/crabnet-venv
    /work/crabnet-venv/bin/pip install torch==2.13.0 numpy pandas scikit-learn scipy \\
        matplotlib seaborn tqdm colorama joblib psutil
        # tested: numpy 2.4.6, pandas 3.1.1, scikit-learn 1.9.1, seaborn 0.13.2
    /work/crabnet-venv/bin/pip install --no-deps /work/crabnet-src   # crabnet 2.0.8

where ``/work/crabnet-src`` is a checkout of sparks-baird/CrabNet (tested at
d6906fe; its benchmark and matbench CSV files are not needed, the
``crabnet/data/element_properties`` tables are).

Time (measured in smoke runs as CPU seconds of one thread per epoch, batch 128:
about 1.0 s at 300 rows, 3.6 s at 1,000 and, by the batch count, 10 s at 3,000;
every 20th epoch also scores the validation part after each batch): a CrabNet
fit that runs its 300 epochs takes about 5 min at 300 rows, 19 min at 1,000 and
55 min at 3,000, so the default grid (2 pairs x 2 seeds) up to about 5 h of
CrabNet; its early stopping can end a fit after 60 epochs. Ours take minutes.
CrabNet keeps each formula's largest ``n_elements`` fractions, ``n_elements``
inferred from the training rows: a test formula with more elements is
truncated, as CrabNet does for any user.

Runs::

    python benchmarks/crabnet_side_by_side.py --pairs gap,fe --threads 1 \\
        --crabnet-python /work/crabnet-venv/bin/python
    python benchmarks/crabnet_side_by_side.py --pairs gap --sizes 300 --seeds 0 \\
        --models crabnet        # one cell, one model
    python benchmarks/crabnet_side_by_side.py --report
    python benchmarks/crabnet_side_by_side.py --smoke \\
        --pretrained-gap /tmp/x.skmatnet --pretrained-fe /tmp/x.skmatnet   # < 2 min

``--smoke``: 200 rows, seed 0, 500 test rows, CrabNet at 2 epochs
(``epochs=2, epochs_step=1``: its epochs are rounded up to a multiple of
``2 * epochs_step``), ours at ``max_epochs=2``; rows go to
``crabnet_side_by_side_smoke.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import _common
import numpy as np

PAIRS = {
    "gap": {"target": "jarvis_optb88vdw_bandgap", "source": "oqmd_bandgap", "units": "eV"},
    "fe": {"target": "jarvis_formation_energy", "source": "mp_formation_energy",
           "units": "eV/atom"},
}
MODELS = {"crabnet": "CrabNet", "single": "fine-tuned BRNet",
          "ensemble": "fine-tuned ensemble (5)"}
NAME = "crabnet_side_by_side"


def _results_file(smoke: bool) -> Path:
    return _common.RESULTS / (f"{NAME}_smoke.jsonl" if smoke else f"{NAME}.jsonl")


def _key(row: dict) -> tuple:
    return (row["pair"], int(row["size"]), int(row["seed"]), row["model"])


def _done(path: Path) -> set:
    if not path.is_file():
        return set()
    return {_key(json.loads(line)) for line in path.read_text().splitlines() if line.strip()}


def _default_pretrained(source: str) -> str:
    return source  # the bundled model of that name (skmatnet.pretrained)


def _unseen(source: str, X_test: np.ndarray) -> np.ndarray:
    """Which test rows hold a composition the pretrained model neither trained nor stopped on."""
    import pretrained_zoo

    data, split = pretrained_zoo.load(source)
    seen = {row.tobytes() for row in np.ascontiguousarray(
        data.X[np.concatenate([split.train, split.val])], dtype=np.float32)}
    return np.array([row.tobytes() not in seen
                     for row in np.ascontiguousarray(X_test, dtype=np.float32)])


# -- CrabNet, in its own interpreter --------------------------------------------------------


def crabnet_worker(folder: Path, epochs: int | None, epochs_step: int | None, seed: int,
                   threads: int) -> None:
    """Fit CrabNet on ``folder/train.csv``, predict ``folder/test.csv``, write ``result.json``.

    Runs under CrabNet's interpreter (imports nothing of skmatnet).
    """
    import pandas as pd
    import torch

    torch.set_num_threads(threads)
    from crabnet import __version__ as crabnet_version
    from crabnet.crabnet_ import CrabNet

    train = pd.read_csv(folder / "train.csv", keep_default_na=False, na_values=[""])
    test = pd.read_csv(folder / "test.csv", keep_default_na=False, na_values=[""])
    params = {"random_state": seed, "verbose": False, "losscurve": False,
              "learningcurve": False, "save": False}
    if epochs is not None:
        params["epochs"] = epochs
    if epochs_step is not None:
        params["epochs_step"] = epochs_step
    start, start_cpu = time.perf_counter(), time.process_time()
    model = CrabNet(**params)
    epoch_seconds, epoch_cpu_seconds = [], []
    train_epoch = model._train

    def timed_epoch():
        began, began_cpu = time.perf_counter(), time.process_time()
        train_epoch()
        epoch_seconds.append(time.perf_counter() - began)
        epoch_cpu_seconds.append(time.process_time() - began_cpu)

    model._train = timed_epoch  # fit() calls self._train() once per epoch
    model.fit(train_df=train)
    fitted = time.perf_counter()
    predicted = model.predict(test_df=test)
    done = time.perf_counter()
    result = {
        "predictions": [float(v) for v in np.ravel(predicted)],
        "fit_seconds": fitted - start, "predict_seconds": done - fitted,
        "cpu_seconds": time.process_time() - start_cpu,
        "epoch_cpu_seconds": [round(s, 4) for s in epoch_cpu_seconds],
        "epochs_run": len(epoch_seconds), "epochs_max": int(model.epochs),
        "epoch_seconds": epoch_seconds, "batch_size": int(model.batch_size),
        "train_rows": int(model.train_len), "params": params,
        "crabnet": crabnet_version, "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "early_stopped": bool(model.optimizer.discard_count >= model.discard_n),
    }
    (folder / "result.json").write_text(json.dumps(result))


def run_crabnet(python: str, formulas, y, test_formulas, seed: int, threads: int,
                smoke: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="crabnet_") as tmp:
        folder = Path(tmp)
        # the test targets are not given to CrabNet (its loader wants a column)
        _write_csv(folder / "train.csv", formulas, y)
        _write_csv(folder / "test.csv", test_formulas, np.zeros(len(test_formulas)))
        command = [python, str(Path(__file__).resolve()), "--crabnet-worker", str(folder),
                   "--seeds", str(seed), "--threads", str(threads)]
        if smoke:
            command += ["--crabnet-epochs", "2", "--crabnet-epochs-step", "1"]
        env = {**os.environ, "MPLBACKEND": "Agg"}
        for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[variable] = str(threads)
        env.pop("PYTHONPATH", None)  # CrabNet's own packages only
        start = time.perf_counter()
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        process_seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"CrabNet failed ({done.returncode}):\n{done.stderr[-3000:]}")
        result = json.loads((folder / "result.json").read_text())
    result["process_seconds"] = process_seconds
    return result


def _write_csv(path: Path, formulas, targets) -> None:
    import csv

    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["formula", "target"])
        writer.writerows(zip(formulas, (float(v) for v in targets), strict=True))


# -- ours -------------------------------------------------------------------------------------


def _ours(model: str, pretrained: Path, seed: int, smoke: bool):
    from skmatnet import BRNetRegressor, MatNetEnsembleRegressor

    epochs = {"max_epochs": 2} if smoke else {}
    if model == "single":
        return BRNetRegressor(init_from=str(pretrained), random_state=seed, **epochs)
    return MatNetEnsembleRegressor(BRNetRegressor(init_from=str(pretrained), **epochs),
                                   n_estimators=5, random_state=seed)


# -- the runs -------------------------------------------------------------------------------


def run(args) -> None:
    from skmatnet.benchmark import load_benchmark_data, make_split

    out = _results_file(args.smoke)
    _common.RESULTS.mkdir(exist_ok=True)
    done = _done(out)
    for pair in args.pairs:
        spec = PAIRS[pair]
        pretrained = getattr(args, f"pretrained_{pair}") or _default_pretrained(spec["source"])
        data = load_benchmark_data(spec["target"])
        split = make_split(data, "brnet")
        # Only compositions the pretrained model never saw: CrabNet starts from nothing.
        test = split.test[_unseen(spec["source"], data.X[split.test])]
        if args.smoke:
            test = np.random.default_rng(0).choice(test, size=min(500, len(test)),
                                                   replace=False)
        X_test, y_test = data.X[test], data.y[test]
        for size in args.sizes:
            for seed in args.seeds:
                chosen = np.random.default_rng(seed).choice(split.train, size=size,
                                                            replace=False)
                for model in args.models:
                    row = {"pair": pair, "target": spec["target"], "size": size, "seed": seed,
                           "model": MODELS[model]}
                    if _key(row) in done:
                        continue
                    row.update(_fit(model, args, data, chosen, test, X_test, y_test,
                                    pretrained, seed))
                    row.update({"n_test": len(test), "threads": args.threads,
                                "date": time.strftime("%Y-%m-%dT%H:%M:%S")})
                    with out.open("a") as handle:
                        handle.write(json.dumps(row) + "\n")
                    print(f"{pair} n={size} seed={seed} {row['model']}: test MAE "
                          f"{row['test_mae']:.4f} ({row['seconds']:.1f} s)", flush=True)
    print(f"rows in {out}")


def _fit(model: str, args, data, chosen, test, X_test, y_test, pretrained, seed) -> dict:
    if model == "crabnet":
        result = run_crabnet(args.crabnet_python, data.formulas[chosen], data.y[chosen],
                             data.formulas[test], seed, args.threads, args.smoke)
        predicted = np.asarray(result.pop("predictions"))
        epoch_seconds = result.pop("epoch_seconds")
        return {"test_mae": float(np.mean(np.abs(predicted - y_test))),
                "seconds": result["fit_seconds"] + result["predict_seconds"],
                "mean_epoch_seconds": float(np.mean(epoch_seconds)) if epoch_seconds else None,
                "epoch_seconds": [round(s, 4) for s in epoch_seconds], **result}
    estimator = _ours(model, pretrained, seed, args.smoke)
    X, y = data.X[chosen], data.y[chosen].astype(np.float32)
    start, start_cpu = time.perf_counter(), time.process_time()
    estimator.fit(X, y)
    fitted = time.perf_counter()
    predicted = np.ravel(estimator.predict(X_test))
    finished = time.perf_counter()
    return {"test_mae": float(np.mean(np.abs(predicted - y_test))),
            "seconds": finished - start, "fit_seconds": fitted - start,
            "predict_seconds": finished - fitted,
            "cpu_seconds": time.process_time() - start_cpu, "pretrained": str(pretrained)}


# -- the report -----------------------------------------------------------------------------


def report(smoke: bool) -> None:
    path = _results_file(smoke)
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run the benchmark first")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    table = []
    for pair in PAIRS:
        for size in sorted({r["size"] for r in rows if r["pair"] == pair}):
            cell = [r for r in rows if r["pair"] == pair and r["size"] == size]
            crab = [r for r in cell if r["model"] == MODELS["crabnet"]]
            crab_mae = np.mean([r["test_mae"] for r in crab]) if crab else float("nan")
            crab_s = np.mean([r["seconds"] for r in crab]) if crab else float("nan")
            for model in MODELS.values():
                mine = [r for r in cell if r["model"] == model]
                if not mine:
                    continue
                mae = np.array([r["test_mae"] for r in mine])
                seconds = np.array([r["seconds"] for r in mine])
                line = {"pair": pair, "target": mine[0]["target"], "rows": size,
                        "model": model, "seeds": len(mine),
                        "test MAE": f"{mae.mean():.4f} ± {mae.std():.4f}",
                        "seconds": f"{seconds.mean():.1f}",
                        "CPU s": f"{np.mean([r.get('cpu_seconds', np.nan) for r in mine]):.1f}",
                        "MAE / CrabNet": "", "time / CrabNet": ""}
                if model == MODELS["crabnet"]:
                    epochs = [r["epochs_run"] for r in mine]
                    line["model"] = f"CrabNet ({min(epochs)}–{max(epochs)} epochs)" \
                        if min(epochs) != max(epochs) else f"CrabNet ({epochs[0]} epochs)"
                elif crab:
                    line["MAE / CrabNet"] = f"{_common.ratio(mae.mean(), crab_mae):.3f}"
                    line["time / CrabNet"] = f"{_common.ratio(seconds.mean(), crab_s):.3f}"
                table.append(line)
    columns = ["target", "rows", "model", "seeds", "test MAE", "seconds", "CPU s",
               "MAE / CrabNet", "time / CrabNet"]
    print(_common.markdown_table(table, columns))
    threads = sorted({r["threads"] for r in rows})
    print(f"\nseconds: wall time of fit + predict of the {rows[0]['n_test']} test rows, "
          f"{threads} thread(s); CPU s: the process's CPU time over the same span (the wall "
          "time of an unshared machine at one thread); ratios of the mean wall times and MAEs "
          "over seeds")
    json_path, csv_path = _common.save(NAME + ("_smoke" if smoke else ""), table,
                                       {"source": str(path)})
    print(f"wrote {json_path} and {csv_path}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", default="gap,fe", help=f"of {', '.join(PAIRS)}")
    parser.add_argument("--sizes", default=None, help="default 300,1000,3000 (smoke: 200)")
    parser.add_argument("--seeds", default=None, help="default 0,1 (smoke: 0)")
    parser.add_argument("--models", default=",".join(MODELS), help=f"of {', '.join(MODELS)}")
    parser.add_argument("--pretrained-gap", default=None,
                        help="bundled model name or model file (default oqmd_bandgap)")
    parser.add_argument("--pretrained-fe", default=None,
                        help="bundled model name or model file (default "
                             "mp_formation_energy)")
    parser.add_argument("--crabnet-python", default="/work/crabnet-venv/bin/python",
                        help="the interpreter of CrabNet's venv")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="200 rows, one seed, 500 test rows, 2 epochs each")
    parser.add_argument("--crabnet-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--crabnet-epochs", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--crabnet-epochs-step", type=int, default=None,
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.crabnet_worker is not None:
        crabnet_worker(args.crabnet_worker, args.crabnet_epochs, args.crabnet_epochs_step,
                       int(args.seeds), args.threads)
        return
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    if args.report:
        report(args.smoke)
        return
    args.pairs = [p for p in args.pairs.split(",") if p]
    args.models = [m for m in args.models.split(",") if m]
    for name, allowed in (("pairs", PAIRS), ("models", MODELS)):
        unknown = set(getattr(args, name)) - set(allowed)
        if unknown:
            parser.error(f"unknown {name}: {', '.join(sorted(unknown))}")
    args.sizes = [int(s) for s in (args.sizes or ("200" if args.smoke else "300,1000,3000"))
                  .split(",")]
    args.seeds = [int(s) for s in (args.seeds or ("0" if args.smoke else "0,1")).split(",")]
    if "crabnet" in args.models and not Path(args.crabnet_python).is_file():
        raise SystemExit(f"{args.crabnet_python} is missing: see the docstring for "
                         "CrabNet's venv")
    run(args)


if __name__ == "__main__":
    main()
