"""``skmatnet info MODEL``: a model file's card, without loading the model.

The card is :func:`skmatnet.read_model_card`'s: the metadata saved with the model
and the keys skmatnet records. Only the file's configuration is read (no weights,
no torch), so the command answers at once.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from ._common import CommandError, add_command, model_file
from ._options import add_traceback

__all__ = ["EXAMPLES", "add_parser", "run"]

EXAMPLES = [
    "  skmatnet info brnet.skmatnet",
    "  skmatnet info brnet.skmatnet --json > brnet-card.json",
]


def add_parser(commands: Any) -> None:
    """Add ``info`` to ``commands`` (an argparse subparsers object)."""
    info = add_command(
        commands, "info",
        help="show a model file's card: what it predicts, its data, how it was trained",
        description="Print the model card of a model file written by 'skmatnet train' or "
                    "skmatnet.save_model: the metadata saved with it (target, units, dataset, "
                    "rows, scores, the command that trained it...) and what skmatnet records "
                    "(when and by which versions it was written, the estimator, the network, "
                    "the epochs). One 'key: value' line each, nested values indented; --json "
                    "for a program. Reads the file's configuration only, not the weights.",
        examples=EXAMPLES,
    )
    info.add_argument("model", metavar="MODEL", help="a .skmatnet model file")
    output = info.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the card as one JSON object")
    add_traceback(output)
    info.set_defaults(handler=run)


def run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    """``skmatnet info``: print the card; return the exit status."""
    # The card module imports no torch: reading a card takes milliseconds.
    from .._persistence.card import read_model_card
    from .._persistence.layout import ModelFileError

    file = model_file(args.model)
    try:
        card = read_model_card(file)
    except ModelFileError as exc:
        raise CommandError(exc) from None
    if args.json:
        # Strict JSON: an infinite setting (max_time) is written as text.
        print(json.dumps(_finite(card), indent=2, allow_nan=False))
    else:
        sys.stdout.write("".join(_lines(card)))
    return 0


def _finite(value: Any) -> Any:
    """``value`` with its infinities and NaNs as text (``"inf"``), as JSON has none."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


def _lines(card: dict, indent: str = "") -> list[str]:
    """``key: value`` lines; a dict's entries (and a list of dicts' items) below it, indented."""
    lines = []
    for key, value in card.items():
        if isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:\n")
            lines.extend(_lines(value, indent + "  "))
        elif isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
            lines.append(f"{indent}{key}:\n")
            for item in value:
                if isinstance(item, dict):
                    entries = _lines(item, indent + "    ")
                    lines.append(f"{indent}  - {entries[0].lstrip()}" if entries
                                 else f"{indent}  - {{}}\n")
                    lines.extend(entries[1:])
                else:
                    lines.append(f"{indent}  - {_scalar(item)}\n")
        else:
            lines.append(f"{indent}{key}: {_scalar(value)}\n")
    return lines


def _scalar(value: Any) -> str:
    """A value on one line: text as it is, a list of plain values joined by commas."""
    if isinstance(value, list):
        return ", ".join(_scalar(item) for item in value) if value else "[]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # empty
        return "{}"
    return " ".join(str(value).split()) if isinstance(value, str) else str(value)
