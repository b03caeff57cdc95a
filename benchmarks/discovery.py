"""Discovery on MP formation energy: held-out chemical systems, stability against the hull, and
a simulated campaign.

The truth: every composition of ``mp_formation_energy`` (the lowest energy per composition)
gets its energy above the hull of *all* the data (:class:`skmatnet.screening.HullReference`);
it is **stable** when that is at most ``TOLERANCE`` (1e-6 eV/atom: the compositions on the
hull, up to rounding; none lies below it by construction).

Parts (``--part``):

- ``classify``: a seed picks ``--holdout-share`` of the chemical systems of two or more
  elements; every composition of those systems is held out (``Li-Mn-O`` holds out the
  ternaries of Li, Mn and O; ``Li-O`` is a system of its own). The models are trained on the
  rest; each held-out composition's predicted energy above the hull *of the training
  compounds* decides "stable" (``<= 0``). Reported: precision, recall and F1 of stable, the
  discovery acceleration factor (DAF = precision / share of stable among the held-out
  compositions), the DAF ceiling (1 / that share, a perfect model), and the MAE of the
  energy, for BRNet, a deep ensemble of BRNets and ExtraTrees (300 trees).
- ``campaign``: the held-out compositions are the pool. Known at the start: the training
  compounds and ``--start`` pool compositions drawn by the seed. Each round acquires
  ``--batch`` compositions by each strategy (``lower_confidence_bound``, ``expected_improvement``,
  ``probability_below_hull`` with the spread batch of :func:`skmatnet.screening.select_batch`;
  ``greedy``: the lowest predicted energy above the hull, no spread; ``random``), learns their
  true energies (they join the known compounds and the hull), and fine-tunes every ensemble
  member from its weights (``init_from``) for ``--campaign-epochs`` epochs on the acquired
  compositions plus ``--replay`` random known ones. Reported: the stable compounds found after
  each round (mean over seeds), and each strategy over random.

Rows are appended to ``benchmarks/results/discovery.jsonl`` as each model or strategy
finishes; a run skips what is there (it resumes). ``--report`` prints the markdown tables of
``docs/discovery.md``, saves them as CSV/JSON and draws ``docs/_static/discovery_campaign.png``::

    python benchmarks/discovery.py --part classify --seeds 0,1,2 --threads 1
    python benchmarks/discovery.py --part campaign --seeds 0,1,2 --rounds 10 --threads 1
    python benchmarks/discovery.py --report
    python benchmarks/discovery.py --smoke          # tiny: 3000 rows, 2 epochs, both parts

Time on one core (BRNet at its defaults, ~19 s per epoch of the ~85k training compounds,
docs/results_mp.md): ``classify`` about 3.3 h per seed (network 0.5 h, a 5-member ensemble
2.6 h, ExtraTrees ~0.2 h), ``campaign`` about 3 h per seed (its own starting ensemble, 2.6 h,
then 10 rounds x 4 model strategies x 5 members x 5 epochs of ~5,200 rows, ~0.3 h).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import _common
import numpy as np
from _common import markdown_table

PARTS = ("classify", "campaign")
MODELS = ("BRNet", "BRNet ensemble", "ExtraTrees")
STRATEGIES = ("lower_confidence_bound", "expected_improvement", "probability_below_hull",
              "greedy", "random")
#: Energy above the hull of all the data (eV/atom) at or below which a composition is stable.
TOLERANCE = 1e-6


def _results_file(smoke: bool) -> Path:
    return _common.RESULTS / ("discovery_smoke.jsonl" if smoke else "discovery.jsonl")


def _predictions_file(path: Path, seed: int, model: str) -> Path:
    folder = path.with_suffix("")  # benchmarks/results/discovery/
    folder.mkdir(exist_ok=True)
    return folder / f"classify_seed{seed}_{model.replace(' ', '_')}.npz"


def _done(path: Path) -> set:
    if not path.is_file():
        return set()
    return {_key(json.loads(line)) for line in path.read_text().splitlines() if line.strip()}


def _key(row: dict) -> tuple:
    return (row["part"], row["seed"], row["model"])


# -- data and the split


_DATA: dict = {}


def _data(args):
    """Formulas, energies, systems, fractions and the truth (stable on the hull of all);
    built once per process for each ``max_rows`` (the smoke run's parts and report share it)."""
    return _data_of(args.max_rows)


def _data_of(max_rows):
    if max_rows not in _DATA:
        _DATA[max_rows] = _build_data(max_rows)
    return _DATA[max_rows]


def _build_data(max_rows):
    import pandas as pd

    from skmatnet import ELEMENTS, element_fractions, load_dataset
    from skmatnet.screening import HullReference

    frame = load_dataset("mp_formation_energy")
    if max_rows:
        frame = frame.sample(n=min(max_rows, len(frame)), random_state=0)
    frame = frame.reset_index(drop=True).rename(columns={"target": "energy"})
    truth = HullReference(frame[["formula", "energy"]])
    X = element_fractions(frame["formula"].tolist())
    frame["system"] = pd.Series(["-".join(ELEMENTS[j] for j in np.flatnonzero(row))
                                 for row in X > 0])
    frame["n_elements"] = frame["system"].str.count("-") + 1
    frame["e_above_hull"] = truth.e_above_hull(frame["formula"].tolist(), frame["energy"])
    frame["stable"] = frame["e_above_hull"] <= TOLERANCE
    return frame, X


def _split(frame, seed: int, share: float):
    """Held-out rows: every composition of a seeded share of the systems of 2+ elements."""
    systems = np.array(sorted(set(frame.loc[frame["n_elements"] >= 2, "system"])))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(systems, max(1, round(share * len(systems))), replace=False))
    test = frame["system"].isin(held).to_numpy()
    return np.flatnonzero(~test), np.flatnonzero(test)


def _network(seed: int, args, **extra):
    from skmatnet import BRNetRegressor

    params = {"random_state": seed, "device": args.device, "on_divergence": "restore"}
    if args.smoke:
        params.update(max_epochs=2, width=0.125)
    if args.epochs:
        params["max_epochs"] = args.epochs
    return BRNetRegressor(**{**params, **extra})


def _models(seed: int, args):
    from sklearn.ensemble import ExtraTreesRegressor

    from skmatnet import MatNetEnsembleRegressor

    yield "BRNet", _network(seed, args)
    yield "BRNet ensemble", MatNetEnsembleRegressor(_network(seed, args),
                                                    n_estimators=args.members,
                                                    random_state=seed)
    yield "ExtraTrees", ExtraTreesRegressor(n_estimators=10 if args.smoke else 300,
                                            n_jobs=args.threads, random_state=seed)


def _scores(truth_stable: np.ndarray, predicted_e: np.ndarray) -> dict:
    predicted = predicted_e <= 0
    tp = int((predicted & truth_stable).sum())
    precision = tp / predicted.sum() if predicted.sum() else 0.0
    recall = tp / truth_stable.sum() if truth_stable.sum() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    prevalence = float(truth_stable.mean())
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "daf": round(_common.ratio(precision, prevalence), 3),
            "daf_ceiling": round(_common.ratio(1.0, prevalence), 3),
            "prevalence": round(prevalence, 4), "predicted_stable": int(predicted.sum()),
            "true_stable": int(truth_stable.sum())}


def run_classify(args, frame, X, path, done) -> None:
    from skmatnet.screening import HullReference

    for seed in args.seeds:
        train, test = _split(frame, seed, args.holdout_share)
        known = HullReference(frame.loc[train, ["formula", "energy"]])
        hull_energy = known.hull_energy(frame.loc[test, "formula"].tolist())
        y = frame["energy"].to_numpy(dtype=np.float32)
        for name, model in _models(seed, args):
            record = {"part": "classify", "seed": seed, "model": name}
            if _key(record) in done:
                continue
            start = time.perf_counter()
            model.fit(X[train], y[train])
            predicted = np.ravel(model.predict(X[test]))
            e = predicted - hull_energy
            truth = frame.loc[test, "stable"].to_numpy()
            record.update(members=args.members, epochs=args.epochs,
                          train_rows=len(train), test_rows=len(test),
                          held_out_systems=int(frame.loc[test, "system"].nunique()),
                          seconds=round(time.perf_counter() - start, 1),
                          mae=round(float(np.mean(np.abs(predicted - y[test]))), 4),
                          **_scores(truth, e))
            # the predictions, for the report's table of thresholds other than 0
            np.savez(_predictions_file(path, seed, name), e_above_hull=e, stable=truth,
                     max_rows=-1 if args.max_rows is None else args.max_rows,
                     holdout_share=args.holdout_share)
            for n, label in ((2, "binary"), (3, "ternary"), (4, "quaternary+")):
                rows = frame.loc[test, "n_elements"].to_numpy()
                rows = rows >= n if n == 4 else rows == n
                if rows.any():
                    part = _scores(truth[rows], e[rows])
                    record[f"daf_{label}"] = part["daf"]
                    record[f"ceiling_{label}"] = part["daf_ceiling"]
            print(json.dumps(record), flush=True)
            with path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")


# -- the campaign


class _Members:
    """An ensemble's members, fine-tuned in place; mean and (calibrated) std."""

    def __init__(self, ensemble):
        self.members = list(ensemble.estimators_)
        self.scale = float(getattr(ensemble, "std_scale_", 1.0))

    def predict(self, X):
        values = np.stack([np.ravel(m.predict(X)) for m in self.members])
        return values.mean(axis=0), values.std(axis=0) * self.scale

    def fine_tune(self, X, y, epochs: int, seed: int) -> None:
        from sklearn.base import clone

        tuned = []
        for i, member in enumerate(self.members):
            model = clone(member).set_params(init_from=member, max_epochs=epochs,
                                             random_state=seed * 1000 + i)
            tuned.append(model.fit(X, y))
        self.members = tuned


def _acquire(strategy, pool, members, X, known, batch, rng):
    """Indices (into ``pool``) of the next batch."""
    import pandas as pd

    from skmatnet.screening import select_batch
    from skmatnet.screening.acquisition import _acquisition_scores

    if strategy == "random":
        return rng.choice(len(pool["rows"]), min(batch, len(pool["rows"])), replace=False)
    mean, std = members.predict(X[pool["rows"]])
    e = mean - known.hull_energy(pool["formulas"])
    frame = pd.DataFrame({"id": np.arange(len(e)), "formula": pool["formulas"],
                          "system": pool["systems"], "e_above_hull": e})
    if strategy == "greedy":
        return np.lexsort((frame["id"], e))[:batch]
    frame[strategy] = _acquisition_scores(strategy, e, std, 1.0)
    return select_batch(frame, min(batch, len(frame)), score=strategy)["id"].to_numpy()


def run_campaign(args, frame, X, path, done) -> None:
    from skmatnet import MatNetEnsembleRegressor
    from skmatnet.screening import HullReference

    y = frame["energy"].to_numpy(dtype=np.float32)
    for seed in args.seeds:
        todo = [s for s in STRATEGIES
                if _key({"part": "campaign", "seed": seed, "model": s}) not in done]
        if not todo:
            continue
        train, test = _split(frame, seed, args.holdout_share)
        rng = np.random.default_rng(seed)
        start_rows = rng.choice(test, min(args.start, len(test) - 1), replace=False)
        pool_rows = np.setdiff1d(test, start_rows)
        known_rows = np.concatenate([train, start_rows])
        started = time.perf_counter()
        initial = None
        if any(s != "random" for s in todo):
            initial = MatNetEnsembleRegressor(_network(seed, args), n_estimators=args.members,
                                              random_state=seed).fit(X[known_rows], y[known_rows])
        fit_seconds = time.perf_counter() - started
        for strategy in todo:
            started = time.perf_counter()
            members = _Members(initial) if strategy != "random" else None
            pool = {"rows": pool_rows.copy()}
            known = known_rows.copy()
            acquired: list[int] = []
            found = []
            strategy_rng = np.random.default_rng([seed, STRATEGIES.index(strategy)])
            for round_ in range(args.rounds):
                if not len(pool["rows"]):
                    break
                pool["formulas"] = frame.loc[pool["rows"], "formula"].tolist()
                pool["systems"] = frame.loc[pool["rows"], "system"].tolist()
                hull = HullReference(frame.loc[known, ["formula", "energy"]])
                picks = _acquire(strategy, pool, members, X, hull, args.batch, strategy_rng)
                chosen = pool["rows"][picks]
                acquired += chosen.tolist()
                known = np.concatenate([known, chosen])
                pool["rows"] = np.setdiff1d(pool["rows"], chosen)
                found.append(int(frame.loc[acquired, "stable"].sum()))
                if members is not None and round_ < args.rounds - 1:
                    replay = strategy_rng.choice(known, min(args.replay, len(known)),
                                                 replace=False)
                    rows = np.concatenate([np.array(acquired), replay])
                    members.fine_tune(X[rows], y[rows], args.campaign_epochs,
                                      seed * 100 + round_)
            record = {"part": "campaign", "seed": seed, "model": strategy,
                      "pool": len(pool_rows),
                      "pool_stable": int(frame.loc[pool_rows, "stable"].sum()),
                      "batch": args.batch, "found": found,
                      "members": args.members, "epochs": args.epochs,
                      "seconds": round(time.perf_counter() - started + (
                          fit_seconds if strategy != "random" else 0), 1)}
            print(json.dumps(record), flush=True)
            with path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")


def run(args) -> None:
    import torch

    torch.set_num_threads(args.threads)
    path = _results_file(args.smoke)
    path.parent.mkdir(parents=True, exist_ok=True)
    done = _done(path)
    frame, X = _data(args)
    (run_classify if args.part == "classify" else run_campaign)(args, frame, X, path, done)


# -- the report


def _mean_std(values, digits=3) -> str:
    values = np.asarray(values, dtype=float)
    if len(values) > 1:
        return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"
    return f"{values[0]:.{digits}f}"


def report(smoke: bool) -> list[dict]:
    path = _results_file(smoke)
    if not path.is_file():
        raise SystemExit(f"{path} is missing: run a --part first")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    tables = []
    classify = [r for r in rows if r["part"] == "classify"]
    if classify:
        table = []
        for model in [m for m in MODELS if any(r["model"] == m for r in classify)]:
            chosen = [r for r in classify if r["model"] == model]
            entry = {"table": "classify", "model": model, "seeds": len(chosen)}
            for metric in ("precision", "recall", "f1", "daf", "daf_ceiling", "mae"):
                entry[metric] = _mean_std([r[metric] for r in chosen])
            entry["DAF / ceiling"] = _mean_std([_common.ratio(r["daf"], r["daf_ceiling"])
                                                for r in chosen], 2)
            entry["seconds"] = f"{np.mean([r['seconds'] for r in chosen]):.0f}"
            table.append(entry)
        first = classify[0]
        print(f"\nHeld-out chemical systems ({first['held_out_systems']} systems, "
              f"{first['test_rows']} compositions of seed {first['seed']}; stable: "
              f"{first['true_stable']}): mean ± std over seeds")
        print(markdown_table(table, list(table[0])))
        tables += table
        tables += _threshold_table(path, classify)
    campaign = [r for r in rows if r["part"] == "campaign"]
    if campaign:
        rounds = max(len(r["found"]) for r in campaign)
        table = []
        random_final = [r["found"][-1] for r in campaign if r["model"] == "random"]
        for strategy in [s for s in STRATEGIES if any(r["model"] == s for r in campaign)]:
            chosen = [r for r in campaign if r["model"] == strategy]
            entry = {"table": "campaign", "model": strategy, "seeds": len(chosen)}
            for k in range(rounds):
                values = [r["found"][k] for r in chosen if len(r["found"]) > k]
                entry[f"round {k + 1}"] = f"{np.mean(values):.1f}" if values else ""
            final = np.mean([r["found"][-1] for r in chosen])
            entry["over random"] = (f"{_common.ratio(final, np.mean(random_final)):.2f}"
                                    if random_final else "")
            # each seed against its own random run: the spread of the ratio over seeds
            random_by_seed = {r["seed"]: r["found"][-1] for r in campaign
                              if r["model"] == "random"}
            entry["per seed"] = ", ".join(
                f"{_common.ratio(r['found'][-1], random_by_seed[r['seed']]):.2f}"
                for r in sorted(chosen, key=lambda r: r["seed"]) if r["seed"] in random_by_seed)
            table.append(entry)
        print(f"\nStable compounds found after each round of {campaign[0]['batch']} "
              f"(pool {campaign[0]['pool']}, {campaign[0]['pool_stable']} stable), mean over "
              "seeds")
        print(markdown_table(table, list(table[0])))
        tables += table
        _plot(campaign, smoke)
    columns = list(dict.fromkeys(k for entry in tables for k in entry))
    tables = [{k: entry.get(k, "") for k in columns} for entry in tables]
    _common.save("discovery_smoke" if smoke else "discovery", tables,
                 {"setup": {"smoke": smoke, "source": str(path), "tolerance": TOLERANCE}})
    return tables


#: Predicted energies above the training hull (eV/atom) at or below which "stable" is called.
THRESHOLDS = (-0.1, -0.05, -0.02, 0.0, 0.02)


def _threshold_table(path: Path, classify: list[dict]) -> list[dict]:
    """Precision, recall, F1 and DAF / ceiling when "stable" is called below other thresholds
    than 0: the trade a user makes with a budget. Descriptive (the seeds with saved
    predictions), not a threshold chosen on the test rows."""
    table = []
    for model in MODELS:
        files = [_predictions_file(path, r["seed"], model) for r in classify
                 if r["model"] == model]
        files = [f for f in files if f.is_file()]
        if not files:
            continue
        for threshold in THRESHOLDS:
            scores = [_scores(np.load(f)["stable"], np.load(f)["e_above_hull"] - threshold)
                      for f in files]
            table.append({"table": "thresholds", "model": model, "seeds": len(files),
                          "stable if e <=": f"{threshold:+.2f}",
                          **{k: f"{np.mean([s[k] for s in scores]):.3f}"
                             for k in ("precision", "recall", "f1")},
                          "DAF / ceiling": f"{np.mean([s['precision'] for s in scores]):.2f}"})
        joint = [_joint_hull_scores(np.load(f), int(f.stem.split("_")[1][4:])) for f in files]
        table.append({"table": "thresholds", "model": model, "seeds": len(files),
                      "stable if e <=": "on the hull with the other predictions",
                      **{k: f"{np.mean([s[k] for s in joint]):.3f}"
                         for k in ("precision", "recall", "f1")},
                      "DAF / ceiling": f"{np.mean([s['precision'] for s in joint]):.2f}"})
    if table:
        print("\nCalling stable below other thresholds (eV/atom), or only on the hull of the "
              "training compounds and every held-out composition's prediction: mean over the "
              "seeds with saved predictions")
        print(markdown_table(table, list(table[0])))
    return table


_KNOWN: dict = {}


def _joint_hull_scores(saved, seed: int) -> dict:
    """Scores when a held-out composition is called stable only if it is on the hull of the
    training compounds *and the predicted energies of all the held-out compositions*: the
    candidates of one chemical system compete with each other, as in a screen of a whole
    system (``HullReference`` of the known and the predicted energies together)."""
    import pandas as pd

    from skmatnet.screening import HullReference

    max_rows = int(saved["max_rows"]) if "max_rows" in saved else -1
    share = float(saved["holdout_share"]) if "holdout_share" in saved else 0.1
    frame = _data_of(None if max_rows < 0 else max_rows)[0]
    key = (max_rows, seed, share)
    if key not in _KNOWN:  # one training hull per seed, whatever the model
        train, test = _split(frame, seed, share)
        known = frame.loc[train, ["formula", "energy"]]
        formulas = frame.loc[test, "formula"].tolist()
        _KNOWN[key] = known, formulas, HullReference(known).hull_energy(formulas)
    known, formulas, hull_energy = _KNOWN[key]
    predicted = saved["e_above_hull"] + hull_energy
    joint = HullReference(pd.concat([known, pd.DataFrame({"formula": formulas,
                                                          "energy": predicted})]))
    return _scores(saved["stable"], joint.e_above_hull(formulas, predicted) - TOLERANCE)


def _plot(rows: list[dict], smoke: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, strategy in enumerate(s for s in STRATEGIES if any(r["model"] == s for r in rows)):
        chosen = [r["found"] for r in rows if r["model"] == strategy]
        length = min(len(f) for f in chosen)
        values = np.array([f[:length] for f in chosen], dtype=float)
        acquired = rows[0]["batch"] * np.arange(1, length + 1)
        ax.errorbar(acquired, values.mean(axis=0), yerr=values.std(axis=0), marker="o",
                    capsize=3, color=f"C{i}", label=strategy.replace("_", " "))
    ax.set_xlabel("compositions acquired")
    ax.set_ylabel("stable compounds found")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = (_common.RESULTS / "discovery_smoke.png" if smoke else
           Path(__file__).resolve().parents[1] / "docs" / "_static" / "discovery_campaign.png")
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=PARTS, default="classify")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")],
                        default=[0, 1, 2])
    parser.add_argument("--holdout-share", type=float, default=0.1,
                        help="share of the chemical systems (of 2+ elements) held out")
    parser.add_argument("--members", type=int, default=5, help="ensemble members")
    parser.add_argument("--epochs", type=int, default=None,
                        help="max_epochs of every network (default: the estimator's)")
    parser.add_argument("--start", type=int, default=20,
                        help="campaign: pool compositions known at the start")
    parser.add_argument("--batch", type=int, default=20, help="campaign: acquired per round")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--campaign-epochs", type=int, default=5,
                        help="campaign: fine-tuning epochs per round")
    parser.add_argument("--replay", type=int, default=5000,
                        help="campaign: known compounds mixed into each fine-tuning")
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--report", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    if args.smoke and not args.report:  # both parts, tiny
        args.max_rows, args.seeds, args.members = args.max_rows or 3000, [0], 2
        args.rounds, args.batch, args.start = 2, 5, 5
        args.campaign_epochs, args.replay = 1, 200
        for args.part in PARTS:
            run(args)
        report(smoke=True)
        return
    if args.report:
        report(args.smoke)
    else:
        run(args)


if __name__ == "__main__":
    main()
