"""Writing files atomically, so an interrupted write never leaves a half-written file.

The bytes go to a temporary file in the target's directory (same file system,
so the rename is atomic), which replaces the target only once it is complete;
on any error, Ctrl-C included, the temporary file is removed and the target is
left as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_open", "atomic_write", "file_sha256"]

_CHUNK = 1 << 20


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, *, parents: bool = True,
                suffix: str = ".tmp") -> Iterator[BinaryIO]:
    """Open a binary file handle whose content replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : path-like
        The file to write.
    parents : bool, default=True
        Create missing parent directories; with ``False`` a missing directory
        is an error (``FileNotFoundError``), as for :func:`open`.
    suffix : str, default=".tmp"
        Suffix of the hidden temporary file (``.<name>.<random><suffix>``).

    Yields
    ------
    file object
        Open for binary writing.
    """
    path = Path(path)
    if parents:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | os.PathLike, data: bytes | str, *, parents: bool = True) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; return the path.

    Parameters
    ----------
    path : path-like
    data : bytes or str
    parents : bool, default=True
        See :func:`atomic_open`.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_open(path, parents=parents) as handle:
        handle.write(payload)
    return Path(path)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
