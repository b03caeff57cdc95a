"""``skmatnet screen``: rank candidate compositions with a saved model (:mod:`skmatnet.screening`).

The parser is added by :mod:`skmatnet.cli`; errors a user can fix are one line, as
everywhere in the command.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import time
from typing import Any

__all__ = ["add_screen_parser", "screen"]

def _components(text: str) -> tuple[int, int]:
    """``N`` or ``MIN-MAX`` for ``--components``."""
    low, _, high = text.partition("-")
    try:
        pair = (int(low), int(high or low))
    except ValueError:
        pair = (0, 0)
    if not 1 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"expected N or MIN-MAX (e.g. 3 or 2-4), got {text!r}")
    return pair


def add_screen_parser(commands: Any, *, positive_int: Any, local_cluster: Any,
                      epilog: str) -> None:
    """Add the ``screen`` subcommand to ``commands`` (an argparse subparsers object), with
    the argument types and examples of :mod:`skmatnet.cli`."""
    screen_parser = commands.add_parser(
        "screen",
        help="rank every candidate composition of some elements or chemical systems",
        description=textwrap.fill(
            "Predict every composition of the given elements or chemical systems with a "
            "saved model (skmatnet train, save_model) and keep the highest (--top) or lowest "
            "(--bottom) predictions, or all past a threshold (--below/--above), streamed to a "
            "Parquet or CSV file; without -o, CSV on stdout. A formation-energy model ranks "
            "the most stable first with --bottom. Ensembles add their std."
        ),
        epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    screen_parser.add_argument("model", metavar="MODEL", help="a .skmatnet model file")
    space = screen_parser.add_argument_group("candidates (one of --elements, --systems; one "
                                             "of --max-atoms, --grid)")
    which = space.add_mutually_exclusive_group(required=True)
    which.add_argument("--elements", metavar="A,B,...",
                       help="every system of --components of these elements")
    which.add_argument("--systems", metavar="A-B-C,...",
                       help="these chemical systems (comma-separated, elements joined by '-')")
    amounts = space.add_mutually_exclusive_group(required=True)
    amounts.add_argument("--max-atoms", type=positive_int, metavar="N",
                         help="integer amounts, at most N atoms per formula unit (reduced)")
    amounts.add_argument("--grid", type=positive_int, metavar="G",
                         help="atomic fractions in steps of 1/G")
    space.add_argument("--components", type=_components, metavar="N|MIN-MAX",
                       help="elements per candidate (default: 2 to all for --elements, each "
                            "system's own size for --systems)")
    space.add_argument("--subsystems", action="store_true",
                       help="with --systems: also their subsystems (the binaries of a ternary)")
    keep = screen_parser.add_argument_group("what to keep (default: every candidate)")
    best = keep.add_mutually_exclusive_group()
    best.add_argument("--top", type=positive_int, metavar="K", help="the K highest predictions")
    best.add_argument("--bottom", type=positive_int, metavar="K",
                      help="the K lowest predictions (most stable formation energies)")
    keep.add_argument("--below", type=float, metavar="T", help="only predictions below T")
    keep.add_argument("--above", type=float, metavar="T", help="only predictions above T")
    run = screen_parser.add_argument_group("running")
    run.add_argument("-o", "--output", metavar="FILE",
                     help="a .parquet or .csv file (default: CSV on stdout)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--dask", dest="scheduler", type=local_cluster, metavar="local:N",
                       help="predict the chunks on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", dest="scheduler", metavar="ADDRESS",
                       help="... on a running Dask cluster (address or scheduler file)")
    run.add_argument("--chunk-size", type=positive_int, default=65_536, metavar="N",
                     help="candidates per chunk (default: 65536)")
    run.add_argument("--device", help="cpu or cuda (default: the device the model was saved "
                                      "with, the CPU where no GPU is present)")
    run.add_argument("--threads", type=positive_int, metavar="N",
                     help="torch threads of a local run (default: torch's, one per core)")
    run.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    run.add_argument("--traceback", action="store_true",
                     help="show the full traceback of an unexpected error")
    screen_parser.set_defaults(handler=lambda args, argv: screen(args))


class _Progress:
    """One ``\\r`` line on stderr: candidates done, rate, time left."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.start = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if self.quiet or (now - self.last < 0.5 and done < total):
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        left = (total - done) / rate if rate > 0 else float("nan")
        print(f"\r[screen] {done:,}/{total:,} candidates ({100 * done / max(total, 1):.0f}%), "
              f"{60 * rate:,.0f}/min, {left:.0f} s left   ", end="", file=sys.stderr,
              flush=True)

    def finish(self) -> None:
        if not self.quiet and self.last:  # end the progress line
            print(file=sys.stderr)


def screen(args: argparse.Namespace) -> int:
    """``skmatnet screen``: return the exit status."""
    from .cli import _guarded

    return _guarded(_screen, args)


def _screen(args: argparse.Namespace) -> int:
    from .cli import CommandError
    from .persistence import load_model
    from .screening import CompositionSpace, check_output
    from .screening import screen as run_screen

    if args.subsystems and args.systems is None:
        raise CommandError("--subsystems goes with --systems")
    space = CompositionSpace(
        elements=args.elements,
        systems=None if args.systems is None else args.systems.split(","),
        max_atoms=args.max_atoms, grid=args.grid, n_components=args.components,
        include_subsystems=args.subsystems,
    )
    if args.output is not None:
        check_output(args.output)  # before loading the model and printing anything
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    model = load_model(args.model, device=args.device)
    k = args.top or args.bottom
    what = ("every candidate" if k is None else
            f"the {k} {'highest' if args.top else 'lowest'} prediction{'s' * (k != 1)}")
    systems = f"{space.n_systems:,} system{'s' * (space.n_systems != 1)}"
    if not args.quiet:
        print(f"[screen] {len(space):,} candidates in {systems}; keeping "
              f"{what}" + (f" below {args.below:g}" if args.below is not None else "")
              + (f" above {args.above:g}" if args.above is not None else "")
              + (f"; on Dask ({args.scheduler})" if args.scheduler else ""), file=sys.stderr)
    progress = _Progress(args.quiet)
    try:
        result = run_screen(model, space, top=args.top, bottom=args.bottom, above=args.above,
                            below=args.below, output=args.output, chunk_size=args.chunk_size,
                            scheduler=args.scheduler, progress=progress)
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
