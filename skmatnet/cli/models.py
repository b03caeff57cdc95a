"""``skmatnet models``: the bundled pretrained models, as a table.

The table is :func:`skmatnet.pretrained.list_models`; each name works as the
MODEL of ``skmatnet predict`` and ``skmatnet screen`` and as ``skmatnet train
--init-from``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ._common import add_command

__all__ = ["EXAMPLES", "add_parser", "run"]

EXAMPLES = [
    "  skmatnet models                                  # the bundled pretrained models",
    "  skmatnet models --csv > models.csv",
]


def add_parser(commands: Any) -> None:
    """Add ``models`` to ``commands`` (an argparse subparsers object)."""
    models = add_command(
        commands, "models",
        help="list the pretrained models bundled with skmatnet",
        description="List the pretrained models bundled with skmatnet: name, target, units, "
                    "estimator, members, test metrics, dataset, split and size. A name works "
                    "as the MODEL of 'skmatnet predict' and 'skmatnet screen', and as "
                    "'skmatnet train --init-from'.",
        examples=EXAMPLES,
    )
    models.add_argument("--csv", action="store_true",
                        help="write the table as CSV (default: aligned text)")
    # Every command's guard reads --traceback.
    models.add_argument("--traceback", action="store_true",
                        help="on an error, show Python's traceback instead of one line")
    models.set_defaults(handler=run)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet models``: print the table; return the exit status."""
    from ..pretrained import list_models

    table = list_models()
    if args.csv:
        sys.stdout.write(table.to_csv(index=False))
    elif table.empty:
        print("no pretrained models are bundled with this installation of skmatnet")
    else:
        print(table.drop(columns="description").to_string(index=False))
    return 0
