"""What every ``skmatnet`` command shares: the parser, the one-line errors, argument types,
the checks run before any work, and reading a model file (or a bundled pretrained model, by
name).

The commands import this module; it imports none of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "CandidateProgress",
    "CommandError",
    "CommandParser",
    "add_command",
    "check_device",
    "check_output_file",
    "check_table_output",
    "guarded",
    "load_model_file",
    "local_cluster",
    "model_file",
    "one_line",
    "positive_float",
    "positive_int",
    "set_threads",
]


class CommandParser(argparse.ArgumentParser):
    """argparse with the one-line error format of every command, and no abbreviations.

    An abbreviated option (``--formula-colum``) would be accepted silently, and
    a later option sharing the prefix would change what it means.
    """

    def __init__(self, *args: Any, allow_abbrev: bool = False, **kwargs: Any):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, allow_abbrev=allow_abbrev, **kwargs)

    def error(self, message: str):
        self.exit(2, f"skmatnet: error: {message} (see '{self.prog} --help')\n")


def add_command(commands: Any, name: str, *, help: str, description: str,
                examples: Sequence[str]) -> CommandParser:
    """A subcommand of ``commands`` (an argparse subparsers object), with its examples."""
    return commands.add_parser(name, help=help, description=textwrap.fill(description),
                               epilog="\n".join(["examples:", *examples]) + "\n")


class CommandError(Exception):
    """A problem with the command's input, reported as its one-line message."""


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fail(message: object, status: int = 1) -> int:
    print(f"skmatnet: error: {one_line(message)}", file=sys.stderr)
    return status


@contextlib.contextmanager
def _warnings_as_lines():
    """Print every warning a command meets as ``skmatnet: warning: ...``, one line, as its
    errors are printed (not Python's two lines with a file name and a source line)."""

    def show(message, category, filename, lineno, file=None, line=None):
        print(f"skmatnet: warning: {one_line(message)}", file=sys.stderr)

    with warnings.catch_warnings():  # restores warnings.showwarning on exit
        warnings.showwarning = show
        yield


def guarded(action: Callable[[], int], args: argparse.Namespace) -> int:
    """Run ``action()``; report what goes wrong as one line (with --traceback: re-raise)."""
    from ..benchmark.errors import BenchmarkError
    from ..datasets import DatasetError
    from ..featurizer import FormulaError

    try:
        with _warnings_as_lines():
            return action()
    except KeyboardInterrupt:
        print("skmatnet: interrupted", file=sys.stderr)
        return 130
    except (CommandError, BenchmarkError, DatasetError, FormulaError) as exc:
        return _fail(exc)
    except OSError as exc:
        if args.traceback:
            raise
        if exc.filename is not None and exc.strerror:  # not "[Errno 2] ...": the file, why
            return _fail(f"{exc.filename}: {exc.strerror}")
        return _fail(f"{type(exc).__name__}: {exc}")
    except (ValueError, ImportError, MemoryError) as exc:
        if args.traceback:
            raise
        return _fail(f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        if args.traceback:
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (run again with --traceback for "
                     "the details)")


# ---------------------------------------------------------------------------
# Argument types
# ---------------------------------------------------------------------------


def _positive(kind, what):
    """An argparse ``type`` accepting values of ``kind`` above zero."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {what}, got {text!r}")
        return value

    return convert


positive_int = _positive(int, "integer")
positive_float = _positive(float, "number")


def local_cluster(text: str) -> str:
    """An argparse ``type`` for ``--dask``: ``local`` or ``local:N`` with N > 0."""
    head, _, n = text.partition(":")
    if head != "local" or (n and not (n.isdigit() and int(n) > 0)):
        raise argparse.ArgumentTypeError(f"expected local or local:N (N workers), got {text!r}; "
                                         "give a running cluster with --scheduler ADDRESS")
    return text


# ---------------------------------------------------------------------------
# Checks before any work, so that a typo does not cost a fit or a prediction
# ---------------------------------------------------------------------------


def check_output_file(path: str | os.PathLike, what: str = "output file") -> Path:
    """``-o PATH``: not a directory, in a directory that exists and is writable."""
    path = Path(path)
    if path.is_dir():
        raise CommandError(f"-o {path}: is a directory; give the {what}'s name")
    if not path.parent.is_dir():
        raise CommandError(f"-o {path}: directory {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise CommandError(f"-o {path}: directory {path.parent} is not writable")
    return path


def check_device(device: str | None) -> None:
    """``--device``: a torch device that is present (``auto`` and None always are)."""
    if device is None or device == "auto":
        return
    import torch

    try:
        torch.device(device)
    except RuntimeError:
        raise CommandError(f"--device {device!r}: expected auto, cpu or cuda") from None
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise CommandError(f"device {device!r} was asked for but CUDA is not available; use "
                           "--device auto or cpu")


def set_threads(threads: int) -> None:
    """``--threads``: torch's CPU threads in this process."""
    import torch

    torch.set_num_threads(threads)


def model_file(path: str) -> Path:
    """A model argument (``MODEL``, ``--init-from``) as a file: the file ``path``, or the bundled
    pretrained model of that name (:mod:`skmatnet.pretrained`, checked against its manifest);
    else a one-line error with a hint."""
    file = Path(path)
    if file.is_dir():
        found = sorted(file.glob("*.skmatnet")) + sorted(file.glob("models/*.skmatnet"))
        hint = (f"e.g. {found[0]}" if found else
                "a .skmatnet file written by 'skmatnet train' or skmatnet.save_model")
        raise CommandError(f"{path}: is a directory; give a model file, {hint}")
    if file.suffix.lower() == ".joblib":
        raise CommandError(f"{path}: a .joblib file (a benchmark's baseline model) is not a "
                           "skmatnet model file; give a .skmatnet file (the benchmark's "
                           "networks, 'skmatnet train', skmatnet.save_model), or load it in "
                           "Python with joblib.load")
    from ..pretrained._zoo import resolve_model

    try:
        file = resolve_model(path)  # a name's file is checked: its size and sha256
    except (FileNotFoundError, ValueError) as exc:  # ModelFileError is a ValueError
        raise CommandError(exc) from None
    if not file.is_file():
        raise CommandError(f"{path}: no such model file")
    return file


def load_model_file(path: str, device: str | None = None):
    """The model saved in ``path`` or bundled under that name (:func:`model_file`), loaded by
    :func:`skmatnet.load_model`, or a one-line error with a hint.

    The loader's warnings (another version wrote the file, no GPU) are printed as
    one line each by :func:`guarded`, as every warning of a command is.
    """
    file = model_file(path)
    from ..persistence import ModelFileError, load_model

    try:
        return load_model(file, device=device)  # its warnings: one line each, by the guard
    except ModelFileError as exc:
        raise CommandError(exc) from None


class CandidateProgress:
    """One ``\\r`` line on stderr while candidates are predicted: done, rate, time left."""

    def __init__(self, command: str, quiet: bool):
        self.command = command
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
        print(f"\r[{self.command}] {done:,}/{total:,} candidates "
              f"({100 * done / max(total, 1):.0f}%), {60 * rate:,.0f}/min, {left:.0f} s left   ",
              end="", file=sys.stderr, flush=True)

    def finish(self) -> None:
        if not self.quiet and self.last:  # end the progress line
            print(file=sys.stderr)


def check_table_output(path: str) -> None:
    """``-o`` of a table of candidates: its folder, then the suffix (and pyarrow for
    Parquet), before any work."""
    from ..screening import check_output

    check_output_file(path)
    try:
        check_output(path)
    except (ValueError, ImportError) as exc:
        raise CommandError(exc) from None
