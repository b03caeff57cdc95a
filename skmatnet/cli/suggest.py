"""``skmatnet suggest MODEL``: the next compositions to compute, chosen by an ensemble's
uncertainty against the convex hull of known compounds.

The acquisition and the spread batch are :func:`skmatnet.screening.suggest`'s; the candidates'
and the hull's options are ``skmatnet screen``'s (both declared in :mod:`._options`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ._common import (
    CandidateProgress,
    CommandError,
    add_command,
    check_device,
    check_table_output,
    load_model_file,
    positive_int,
    set_threads,
)
from ._options import (
    add_dask_options,
    add_device,
    add_hull_arguments,
    add_model_argument,
    add_reporting,
    add_space_arguments,
    add_threads,
    load_references,
    space_from_args,
)

__all__ = ["EXAMPLES", "add_parser", "run"]

EXAMPLES = [
    "  skmatnet suggest ensemble.skmatnet --systems Li-Mn-O,Li-Fe-O --subsystems --max-atoms 12 "
    "--hull-reference mp_formation_energy --n 20",
    "  skmatnet suggest ensemble.skmatnet --elements Li,Na,Mn,Fe,O --components 3 --grid 12 "
    "--hull-reference known.csv --acquisition expected_improvement -o next.csv",
]

#: skmatnet.screening.ACQUISITIONS, written out (tests/test_cli_screen.py holds them equal).
ACQUISITIONS = ("lower_confidence_bound", "expected_improvement", "probability_below_hull")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text!r}")
    return value


def add_parser(commands: Any) -> None:
    """Add ``suggest`` to ``commands`` (an argparse subparsers object)."""
    suggest = add_command(
        commands, "suggest",
        help="choose the next compositions to compute with an ensemble's uncertainty",
        description="Screen the candidates with a saved ensemble (skmatnet train --ensemble) "
                    "against the convex hull of known compounds (--hull-reference), score "
                    "each by an acquisition (lower confidence bound of the energy above the "
                    "hull, expected improvement below the hull, or probability of lying below "
                    "it), and pick --n of them best first, spread out: at most "
                    "--max-per-system per chemical system and none closer than "
                    "--min-distance (the share of atoms that differ) to an earlier pick. "
                    "Known compositions are left out. Without -o, CSV on stdout.",
        examples=EXAMPLES,
    )
    add_model_argument(suggest)
    add_space_arguments(suggest)
    choose = suggest.add_argument_group("what to suggest")
    add_hull_arguments(choose, required=True)
    choose.add_argument("--n", type=positive_int, default=20, metavar="N",
                        help="compositions to suggest (default: 20)")
    choose.add_argument("--acquisition", choices=ACQUISITIONS,
                        default="lower_confidence_bound",
                        help="the score (default: lower_confidence_bound)")
    choose.add_argument("--max-per-system", type=positive_int, default=2, metavar="K",
                        help="picks per chemical system at most (default: 2)")
    choose.add_argument("--min-distance", type=_fraction, default=0.05, metavar="D",
                        help="smallest composition distance between picks, the share of "
                             "atoms that differ (default: 0.05; 0 for none)")
    choose.add_argument("--pool", type=positive_int, default=None, metavar="N",
                        help="best candidates kept before the spread selection (default: "
                             "max(50 n, 1000))")
    choose.add_argument("--include-known", action="store_true",
                        help="also suggest compositions among the references")
    running = suggest.add_argument_group("running")
    running.add_argument("-o", "--output", metavar="FILE",
                         help="a .parquet or .csv file (default: CSV on stdout)")
    add_dask_options(running, "the chunks' predictions")
    running.add_argument("--chunk-size", type=positive_int, default=65_536, metavar="N",
                         help="candidates per chunk (default: 65536)")
    add_device(running, model_file=True)
    add_threads(running)
    add_reporting(suggest.add_argument_group("output"))
    suggest.set_defaults(handler=run)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet suggest``: return the exit status."""
    from ..screening import suggest as run_suggest

    space = space_from_args(args)
    if args.output is not None:
        check_table_output(args.output)
    check_device(args.device)
    set_threads(args.threads)
    model = load_model_file(args.model, args.device)
    from ..screening.predict import _Predictor

    try:  # an ensemble (a std) before the references are read
        _Predictor(model, return_std=True)
    except (ValueError, TypeError) as exc:
        raise CommandError(f"suggest needs an ensemble: {exc}") from None
    references = load_references(args.hull_reference)
    if not args.quiet:
        print(f"[suggest] {len(space):,} candidates in {space.n_systems:,} systems; "
              f"{args.n} by {args.acquisition.replace('_', ' ')} against {references!r}",
              file=sys.stderr)
    progress = CandidateProgress("suggest", args.quiet)
    try:
        result = run_suggest(model, space, references, n=args.n, acquisition=args.acquisition,
                             kappa=args.kappa, max_per_system=args.max_per_system,
                             min_distance=args.min_distance, pool=args.pool,
                             exclude_known=not args.include_known, output=args.output,
                             chunk_size=args.chunk_size, scheduler=args.scheduler,
                             progress=progress)
    except ValueError as exc:  # not an ensemble, a classifier
        raise CommandError(exc) from None
    finally:
        progress.finish()
    if args.output is None:
        result.frame.to_csv(sys.stdout, index=False)
    if not args.quiet:
        where = f" -> {result.path}" if result.path is not None else ""
        print(f"[suggest] {result.n_candidates:,} candidates in {result.seconds:.1f} s; "
              f"suggested {result.n_kept}{where}", file=sys.stderr)
    return 0
