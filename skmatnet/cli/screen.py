"""``skmatnet screen MODEL``: rank candidate compositions with a saved model.

The candidates and the ranking are :mod:`skmatnet.screening`'s.
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
    "  skmatnet screen brnet.skmatnet --systems Li-Mn-O --subsystems --max-atoms 12 --bottom 100",
    "  skmatnet screen brnet.skmatnet --elements Li,Fe,Mn,O --max-atoms 12 --bottom 100 "
    "-o top.parquet",
    "  skmatnet screen brnet.skmatnet --elements Li,Na,Mg,Al,O --grid 10 --below -2 --dask "
    "local:2",
    "  skmatnet screen ensemble.skmatnet --systems Li-Mn-O --max-atoms 12 --hull-reference "
    "mp_formation_energy --rank-by e_above_hull --bottom 50",
]


#: What --rank-by takes: skmatnet.screening.RANK_BY (written out, so that building the parser
#: imports no pandas; tests/test_cli_screen.py holds them equal).
RANK_BY = ("prediction", "e_above_hull", "probability_below_hull", "lower_confidence_bound",
           "expected_improvement")


def add_parser(commands: Any) -> None:
    """Add ``screen`` to ``commands`` (an argparse subparsers object)."""
    screen = add_command(
        commands, "screen",
        help="rank every candidate composition of some elements or chemical systems",
        description="Predict every composition of the given elements or chemical systems "
                    "with a saved model (skmatnet train, save_model) and keep the highest "
                    "(--top) or lowest (--bottom) predictions, or all past a threshold "
                    "(--below/--above), streamed to a Parquet or CSV file; without -o, CSV on "
                    "stdout. A formation-energy model ranks the most stable first with "
                    "--bottom. Ensembles add their std.",
        examples=EXAMPLES,
    )
    add_model_argument(screen)
    add_space_arguments(screen)
    keep = screen.add_argument_group("what to keep (default: every candidate)")
    best = keep.add_mutually_exclusive_group()
    best.add_argument("--top", type=positive_int, metavar="K", help="the K highest predictions")
    best.add_argument("--bottom", type=positive_int, metavar="K",
                      help="the K lowest predictions (most stable formation energies)")
    keep.add_argument("--below", type=float, metavar="T", help="only predictions below T")
    keep.add_argument("--above", type=float, metavar="T", help="only predictions above T")
    keep.add_argument("--rank-by", choices=RANK_BY, default=None,
                      help="the column --top/--bottom/--below/--above apply to (default: "
                           "prediction); all but prediction need --hull-reference, and "
                           "probability_below_hull, lower_confidence_bound and "
                           "expected_improvement an ensemble")
    add_hull_arguments(keep)
    running = screen.add_argument_group("running")
    running.add_argument("-o", "--output", metavar="FILE",
                         help="a .parquet or .csv file (default: CSV on stdout)")
    add_dask_options(running, "the chunks' predictions")
    running.add_argument("--chunk-size", type=positive_int, default=65_536, metavar="N",
                         help="candidates per chunk (default: 65536)")
    add_device(running, model_file=True)
    add_threads(running)
    add_reporting(screen.add_argument_group("output"))
    screen.set_defaults(handler=run)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet screen``: return the exit status."""
    from ..screening import screen as run_screen

    space = space_from_args(args)
    if args.rank_by not in (None, "prediction") and args.hull_reference is None:
        raise CommandError(f"--rank-by {args.rank_by} needs --hull-reference")
    if args.output is not None:
        check_table_output(args.output)  # before loading the model and printing anything
    check_device(args.device)
    set_threads(args.threads)
    model = load_model_file(args.model, args.device)
    references = load_references(args.hull_reference)
    k = args.top or args.bottom
    column = ("prediction" + "s" * (k != 1) if args.rank_by in (None, "prediction")
              else f"by {args.rank_by}")
    what = ("every candidate" if k is None else
            f"the {k} {'highest' if args.top else 'lowest'} {column}")
    systems = f"{space.n_systems:,} system{'s' * (space.n_systems != 1)}"
    if not args.quiet:
        print(f"[screen] {len(space):,} candidates in {systems}; keeping "
              f"{what}" + (f" below {args.below:g}" if args.below is not None else "")
              + (f" above {args.above:g}" if args.above is not None else "")
              + (f"; on Dask ({args.scheduler})" if args.scheduler else ""), file=sys.stderr)
    progress = CandidateProgress("screen", args.quiet)
    try:
        result = run_screen(model, space, top=args.top, bottom=args.bottom, above=args.above,
                            below=args.below, output=args.output, chunk_size=args.chunk_size,
                            scheduler=args.scheduler, progress=progress,
                            references=references, rank_by=args.rank_by, kappa=args.kappa)
    except ValueError as exc:  # rank_by against the model (a classifier, no std)
        raise CommandError(exc) from None
    finally:
        progress.finish()
    if result.frame is not None and args.output is None:
        result.frame.to_csv(sys.stdout, index=False)
    if not args.quiet:
        where = f" -> {result.path}" if result.path is not None else ""
        print(f"[screen] {result.n_candidates:,} candidates in {result.seconds:.1f} s "
              f"({60 * result.candidates_per_second:,.0f}/min); kept {result.n_kept:,}{where}",
              file=sys.stderr)
    return 0
