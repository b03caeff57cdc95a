"""The ``skmatnet`` command line (also ``python -m skmatnet``).

``skmatnet benchmark DATA`` runs :func:`skmatnet.benchmark.run_benchmark`:
AutoML, a traditional-ML grid search and deep networks on one dataset, with a
published protocol, and writes the comparison table, charts, fitted models and
an environment record. ``skmatnet train DATA`` fits one network (or a deep
ensemble) on a dataset or CSV file and saves it as a ``.skmatnet`` file;
``skmatnet predict MODEL FORMULAS`` writes its predictions for a CSV or text
file of formulas; ``skmatnet screen MODEL --elements ...`` ranks every
candidate composition of some elements or chemical systems
(:mod:`skmatnet.screening`), optionally by the energy above the hull of
known compounds; ``skmatnet suggest MODEL --hull-reference ...`` picks the
next compositions to compute by an ensemble's uncertainty; ``skmatnet info
MODEL`` prints a model file's card
(:func:`skmatnet.read_model_card`); ``skmatnet models`` lists the pretrained models
bundled with skmatnet (:mod:`skmatnet.pretrained`), whose names work as MODEL
and as ``train --init-from``. See ``skmatnet COMMAND --help``.

One module per command; what they share (the parser, errors, argument types,
checks) is in ``_common`` and the options several take in ``_options``, each
declared once. Errors are reported as one line, ``skmatnet: error: ...``, on
stderr, with exit status 1 (2 for bad command-line usage, 130 after Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import benchmark, info, models, predict, screen, suggest, train
from ._common import CommandError, CommandParser, guarded
from .benchmark import benchmark_options as _benchmark_options  # noqa: F401  (tests use it)

__all__ = ["CommandError", "build_parser", "main"]

# In the order of ``skmatnet --help``.
_COMMANDS = (benchmark, train, predict, screen, suggest, info, models)


def build_parser() -> argparse.ArgumentParser:
    """The ``skmatnet`` argument parser (``benchmark``, ``train``, ``predict``, ``screen``,
    ``suggest``, ``info``, ``models``)."""
    from .. import __version__

    parser = CommandParser(
        prog="skmatnet", description="Deep networks for materials-property prediction as "
        "scikit-learn estimators.",
        epilog="\n".join(["examples:", *(line for command in _COMMANDS
                                        for line in command.EXAMPLES)]) + "\n",
    )
    parser.add_argument("--version", action="version", version=f"skmatnet {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``skmatnet`` command; return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return guarded(lambda: args.handler(args, argv), args)
