"""Rank every Li-Mn-O composition by predicted formation energy, with error bars.

Run: ``python examples/screen_li_mn_o.py [--quick] [--scheduler local:2]``. An ensemble of
three BRNets is trained on 90% of the Materials Project formation energies (the 20-epoch
recommended schedule; ``--quick``: 3,000 rows, 3 epochs), its spread calibrated on the other
10%, then every composition of Li-Mn-O
and its binaries with at most 12 atoms per formula unit is predicted, and the 15 most stable
are listed with the ensemble's spread and, where Materials Project has the composition, its
DFT value. ``--scheduler`` runs the screen on Dask.
"""

from __future__ import annotations

import argparse

import numpy as np

from skmatnet import BRNetRegressor, MatNetEnsembleRegressor
from skmatnet.benchmark import load_benchmark_data
from skmatnet.screening import CompositionSpace, screen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a short training")
    parser.add_argument("--scheduler", help="a Dask scheduler: local:N or an address")
    args = parser.parse_args()

    mp = load_benchmark_data("mp_formation_energy", max_rows=3000 if args.quick else None)
    held_out = np.random.default_rng(0).random(len(mp.y)) < 0.1
    ensemble = MatNetEnsembleRegressor(
        BRNetRegressor(max_epochs=3 if args.quick else 20), n_estimators=3, calibrate=True,
        random_state=0)
    ensemble.fit(mp.X[~held_out], mp.y[~held_out], X_val=mp.X[held_out], y_val=mp.y[held_out])
    print(f"trained 3 BRNets on {(~held_out).sum():,} Materials Project rows; spread "
          f"calibrated on {held_out.sum():,} others (factor {ensemble.std_scale_:.1f})")

    space = CompositionSpace(systems=["Li-Mn-O"], max_atoms=12, include_subsystems=True)
    result = screen(ensemble, space, bottom=15, scheduler=args.scheduler)
    print(f"screened {result.n_candidates:,} candidates of {space.n_systems} systems in "
          f"{result.seconds:.1f} s")

    # The DFT value of the compositions Materials Project has (its rows are deduplicated
    # to the lowest value per composition).
    known = {row.tobytes(): value for row, value in zip(mp.X, mp.y, strict=True)}
    unseen = {row.tobytes() for row in mp.X[held_out]}
    from skmatnet import element_fractions

    fractions = element_fractions(result.frame["formula"].tolist())
    result.frame["mp_eV_per_atom"] = [known.get(row.tobytes(), np.nan) for row in fractions]
    print(result.frame[["formula", "system", "prediction", "std", "mp_eV_per_atom"]]
          .to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    everything = screen(ensemble, space).frame
    fractions = element_fractions(everything["formula"].tolist())
    dft = np.array([known.get(row.tobytes(), np.nan) for row in fractions])
    listed = ~np.isnan(dft)
    error = np.abs(everything["prediction"].to_numpy() - dft)[listed]
    n_unseen = sum(row.tobytes() in unseen for row in fractions[listed])
    print(f"{listed.sum()} of the {len(everything)} candidates are in Materials Project "
          f"({n_unseen} of them held out from training): mean |prediction - MP| "
          f"{error.mean():.3f} eV/atom")
    in_mp = result.frame["mp_eV_per_atom"].notna()
    print(f"{in_mp.sum()} of the 15 are in Materials Project; "
          f"mean |prediction - MP| over them: "
          f"{np.abs(result.frame['prediction'] - result.frame['mp_eV_per_atom'])[in_mp].mean():.3f}"
          " eV/atom")


if __name__ == "__main__":
    main()
