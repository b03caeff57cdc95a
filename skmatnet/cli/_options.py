"""The options several commands take, each declared once here, so that it is spelled,
checked and defaulted the same in every command.

Each ``add_*`` function adds a group of options to a parser or an argument group; where
reading a group back is more than a lookup, the function that does it sits beside it
(``space_from_args``, ``load_references``).
"""

from __future__ import annotations

import argparse
from typing import Any

from ._common import CommandError, local_cluster, positive_float, positive_int

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_THREADS",
    "add_dask_options",
    "add_data_options",
    "add_data_source",
    "add_device",
    "add_formula_column",
    "add_hull_arguments",
    "add_model_argument",
    "add_network_options",
    "add_reporting",
    "add_seed",
    "add_space_arguments",
    "add_threads",
    "add_traceback",
    "load_references",
    "space_from_args",
]

#: ``--seed`` of every command.
DEFAULT_SEED = 1234567
#: ``--threads`` of every command: one torch thread, as every baseline model of the
#: benchmark uses one core; results and timings then do not depend on the machine's
#: core count, and commands run side by side do not compete for the cores. More only
#: pay on an otherwise idle machine.
DEFAULT_THREADS = 1


def add_data_source(parser: Any) -> None:
    """DATA: a dataset name or a CSV file (read by ``load_benchmark_data``)."""
    from ..datasets import list_datasets

    parser.add_argument("data", metavar="DATA",
                        help=f"a dataset name ({', '.join(list_datasets())}) or a "
                             "CSV file with a formula and a target column")


def add_model_argument(parser: Any) -> None:
    """MODEL: a model file, or the name of a bundled pretrained model (``skmatnet models``)."""
    parser.add_argument("model", metavar="MODEL",
                        help="a .skmatnet model file, or the name of a bundled pretrained "
                             "model (see 'skmatnet models')")


def add_formula_column(group: Any, default: str | None = "formula", note: str = "") -> None:
    """``--formula-column``: the formula column of CSV input."""
    group.add_argument("--formula-column", default=default, metavar="NAME",
                       help=f"formula column of the CSV input (default: formula){note}")


def add_data_options(group: Any) -> None:
    """How DATA is read: the options of ``load_benchmark_data``."""
    from ..benchmark.tasks import TASKS
    from ..datasets import DEDUPE_MODES

    add_formula_column(group)
    group.add_argument("--target-column", default="target", metavar="NAME",
                       help="target column of a CSV file (default: target)")
    group.add_argument("--task", choices=TASKS, default="auto",
                       help="what the target is (default auto: a label column or a boolean "
                            "target is classification, numbers regression)")
    group.add_argument("--threshold", type=float, metavar="T",
                       help="classify a numeric target: label = target > T (e.g. 0 on a band "
                            "gap: True for the rows with a gap)")
    group.add_argument("--target", metavar="NAME", dest="target",
                       help="a dataset's alternative target, e.g. is_metal for the band-gap "
                            "datasets")
    group.add_argument("--dedupe", choices=(*DEDUPE_MODES, "none"), default="min",
                       help="one row per composition: lowest value (the BRNet protocol), mean, "
                            "or keep all rows (default: min)")
    group.add_argument("--max-rows", type=positive_int, metavar="N",
                       help="use a random subset of N rows, drawn after deduplication (before "
                            "any split; for trials and tests, not comparable with papers)")


def add_seed(group: Any) -> None:
    group.add_argument("--seed", type=int, default=DEFAULT_SEED,
                       help="seed of every random step: split, --max-rows subset, networks, "
                            f"searches (default: {DEFAULT_SEED})")


def add_device(group: Any, *, model_file: bool = False) -> None:
    """``--device``; for a saved model the default is the device it was saved with."""
    if model_file:
        group.add_argument("--device", metavar="DEVICE",
                           help="auto (CUDA when available), cpu or cuda (default: the device "
                                "the model was saved with, the CPU where no GPU is present)")
    else:
        group.add_argument("--device", default="auto", metavar="DEVICE",
                           help="auto (CUDA when available), cpu or cuda (default: auto)")


def add_threads(group: Any) -> None:
    group.add_argument("--threads", type=positive_int, default=DEFAULT_THREADS, metavar="N",
                       help=f"torch CPU threads (default: {DEFAULT_THREADS}, as every baseline "
                            "model of the benchmark; more only pay on an otherwise idle machine)")


def add_network_options(group: Any) -> None:
    """How the networks are trained: recipe, epochs, budget, batch, rate, device, threads."""
    from .._recipe_names import RECIPES

    group.add_argument("--recipe", choices=RECIPES, default=RECIPES[0],
                       help="training recipe: recommended (AdamW, cosine schedule, "
                            "half-width networks, batch size, peak rate and schedule length "
                            "chosen from the training rows) or paper (Adam 1e-4, batch 32, "
                            f"patience 100/200, up to 3000 epochs) (default: {RECIPES[0]})")
    group.add_argument("--max-epochs", type=positive_int, metavar="N",
                       help="epochs (default: the recipe's: a schedule of 100 epochs and at "
                            "least 2,000 steps, for a classifier 12 and 1,000; or 3000 with early "
                            "stopping for the paper recipe)")
    group.add_argument("--max-time", type=positive_float, metavar="SECONDS",
                       help="wall-clock budget per network (per fold of the benchmark's tatis "
                            "protocol); "
                            "the recommended recipe anneals its rate over it (default: none)")
    group.add_argument("--patience", type=positive_int, metavar="N",
                       help="early-stopping patience (default: the recipe's: none, or 100 for "
                            "BRNet/BNet and 200 others with the paper recipe)")
    group.add_argument("--batch-size", type=positive_int, metavar="N",
                       help="training batch size (default: the recipe's: from 16 to 256 by the "
                            "training rows, or 32)")
    group.add_argument("--lr", type=positive_float,
                       help="peak learning rate (default: the recipe's: chosen from the training "
                            "rows and batch size, or 1e-4)")
    add_device(group)
    add_threads(group)
    group.add_argument("--tiny", action="store_true",
                       help="tiny networks (the test-suite settings), for smoke tests")


def add_dask_options(group: Any, tasks: str) -> None:
    """``--dask local:N`` or ``--scheduler ADDRESS`` (one of them): where ``tasks`` run."""
    where = group.add_mutually_exclusive_group()
    where.add_argument("--dask", dest="scheduler", type=local_cluster, metavar="local:N",
                       help=f"run {tasks} on a local Dask cluster of N worker processes, one "
                            "thread each")
    where.add_argument("--scheduler", dest="scheduler", metavar="ADDRESS",
                       help="... on a running Dask cluster: its scheduler address "
                            "(tcp://host:8786) or scheduler file (.json)")


def add_reporting(group: Any) -> None:
    """``--quiet`` and ``--traceback``: what the command prints besides its results."""
    group.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_traceback(group)


def add_traceback(group: Any) -> None:
    """``--traceback`` alone, for a command that prints no progress."""
    group.add_argument("--traceback", action="store_true",
                       help="show the full traceback of an unexpected error")


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


def add_space_arguments(parser: Any) -> None:
    """The candidates' options (``--elements``/``--systems``, ``--max-atoms``/``--grid``,
    ``--components``, ``--subsystems``)."""
    space = parser.add_argument_group("candidates (one of --elements, --systems; one of "
                                      "--max-atoms, --grid)")
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


def add_hull_arguments(group: Any, *, required: bool = False) -> None:
    """``--hull-reference`` and ``--kappa``."""
    group.add_argument("--hull-reference", metavar="DATASET|CSV", required=required,
                       help="known compounds' formation energies per atom: a dataset name "
                            "(e.g. mp_formation_energy) or a CSV of formula and energy; adds "
                            "e_above_hull (and probability_below_hull for ensembles)")
    group.add_argument("--kappa", type=float, default=1.0, metavar="K",
                       help="the std's weight in lower_confidence_bound (default: 1)")


def space_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~skmatnet.screening.CompositionSpace` of the candidates' options."""
    from ..screening import CompositionSpace

    if args.subsystems and args.systems is None:
        raise CommandError("--subsystems goes with --systems")
    return CompositionSpace(
        elements=args.elements,
        systems=None if args.systems is None else args.systems.split(","),
        max_atoms=args.max_atoms, grid=args.grid, n_components=args.components,
        include_subsystems=args.subsystems,
    )


def load_references(path: str | None) -> Any:
    """``--hull-reference`` as a :class:`~skmatnet.screening.HullReference` (or None)."""
    from ..screening import HullReference

    if path is None:
        return None
    try:
        return HullReference(path)
    except (ValueError, FileNotFoundError, TypeError) as exc:
        raise CommandError(f"--hull-reference: {exc}") from None
