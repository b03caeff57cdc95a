"""Getting a dataset's files: the read-only roots (``data_home``, ``SKMATNET_DATA``), the
download cache, the sha256 check (remembered per process in ``_VERIFIED``) and the download
through pooch and :func:`_urlopen`."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import urllib.request
from pathlib import Path
from typing import Any

import platformdirs

from .._io import file_sha256
from ._catalog import DataFile, describe_dataset
from ._errors import ChecksumError, DataNotFoundError, DatasetError, DownloadError

# The name the logger had when this was the module skmatnet.datasets, so that logging
# set up for it still applies to the same records.
logger = logging.getLogger("skmatnet.datasets")

#: Environment variable naming a (possibly read-only) directory holding the files.
DATA_ENV = "SKMATNET_DATA"
#: Environment variable overriding skmatnet's cache root (datasets go in ``datasets/``).
CACHE_ENV = "SKMATNET_CACHE"

_DOWNLOAD_TIMEOUT = 60.0  # seconds without data before a download is abandoned
_CHUNK = 1 << 20


def get_cache_dir() -> Path:
    """Directory where downloaded dataset files are cached.

    ``$SKMATNET_CACHE/datasets`` when the environment variable ``SKMATNET_CACHE``
    is set, else ``platformdirs.user_cache_dir("skmatnet")/datasets``. It is
    created on the first download, not by this function.

    Returns
    -------
    pathlib.Path
    """
    root = os.environ.get(CACHE_ENV) or platformdirs.user_cache_dir("skmatnet")
    return Path(root).expanduser() / "datasets"


def _local_path(root: Path, file: DataFile) -> Path:
    return root.joinpath(*file.path.split("/"))


def _read_only_roots(data_home: str | os.PathLike | None) -> list[tuple[str, Path]]:
    roots = []
    if data_home is not None:
        roots.append(("data_home", Path(data_home).expanduser()))
    env = os.environ.get(DATA_ENV)
    if env:
        roots.append((DATA_ENV, Path(env).expanduser()))
    return roots


# Verified files: (resolved path, size, mtime_ns) -> sha256, so that repeated
# loads in one process hash each unchanged file once.
_VERIFIED: dict[tuple[str, int, int], str] = {}
_VERIFIED_LOCK = threading.Lock()


# A module global, so that tests can count the hashing.
_sha256 = file_sha256


def _verify(path: Path, file: DataFile) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has the published sha256."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _VERIFIED_LOCK:
        known = _VERIFIED.get(key)
    if known == file.sha256:
        return
    actual = _sha256(path)
    if actual != file.sha256:
        raise ChecksumError(
            f"checksum mismatch for {path}: expected sha256 {file.sha256} ({file.size:,} "
            f"bytes), got {actual} ({stat.st_size:,} bytes). The file is corrupt or is not "
            f"the published {file.path!r}; replace it with a fresh copy of {file.url}",
            path=str(path),
            expected=file.sha256,
            actual=actual,
        )
    with _VERIFIED_LOCK:
        _VERIFIED[key] = actual


def _urlopen(url: str, timeout: float) -> Any:
    """Open ``url`` for reading (a seam for tests, which replace it)."""
    request = urllib.request.Request(url, headers={"User-Agent": "skmatnet"})
    return urllib.request.urlopen(request, timeout=timeout)


def _offline_hint(file: DataFile) -> str:
    return (
        f"To work offline, put the files in a directory laid out as <dir>/{file.path} and "
        f"set the environment variable {DATA_ENV}=<dir> or pass data_home=<dir>."
    )


class _Fetch:
    """A pooch downloader streaming through :func:`_urlopen` and hashing as it writes.

    The digest is kept so that a checksum error can say what arrived.
    """

    def __init__(self, file: DataFile):
        self.file = file
        self.sha256 = ""

    def __call__(self, url: str, output_file: str, pooch_obj: Any) -> None:
        digest = hashlib.sha256()
        with open(output_file, "wb") as out:
            try:
                with _urlopen(url, _DOWNLOAD_TIMEOUT) as response:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except OSError as exc:  # URLError, HTTPError, timeouts, resets
                raise DownloadError(
                    f"could not download {self.file.path!r} from {url}: {exc}. "
                    + _offline_hint(self.file)
                ) from exc
        self.sha256 = digest.hexdigest()


@contextlib.contextmanager
def _quiet_pooch():
    """Keep pooch's INFO lines ("Downloading data from ...") off stderr, as before."""
    import pooch

    pooch_logger = pooch.get_logger()
    level = pooch_logger.level
    pooch_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        pooch_logger.setLevel(level)


def _download(file: DataFile, dest: Path) -> None:
    """Download ``file`` to ``dest`` atomically, checking its sha256 before the rename.

    ``dest`` is ``file``'s place under :func:`get_cache_dir`.
    """
    import pooch

    fetch = _Fetch(file)
    logger.info("downloading %s to %s", file.url, dest)
    try:
        with _quiet_pooch():
            pooch.retrieve(file.url, known_hash=f"sha256:{file.sha256}", fname=file.path,
                           path=get_cache_dir(), downloader=fetch, progressbar=False)
    except DatasetError:
        raise
    except ValueError:  # pooch: the sha256 of the download differs; it deleted the file
        raise ChecksumError(
            f"checksum mismatch for the download of {file.url}: expected sha256 "
            f"{file.sha256}, got {fetch.sha256}; the download was discarded. "
            + _offline_hint(file),
            path=file.url,
            expected=file.sha256,
            actual=fetch.sha256,
        ) from None
    except OSError as exc:  # the cache directory cannot be created or written
        raise DownloadError(
            f"cannot write to the dataset cache {dest.parent}: {exc}. Set {CACHE_ENV} to a "
            f"writable directory. {_offline_hint(file)}"
        ) from exc
    stat = dest.stat()
    with _VERIFIED_LOCK:
        _VERIFIED[(str(dest.resolve()), stat.st_size, stat.st_mtime_ns)] = file.sha256


def _locate(file: DataFile, data_home: str | os.PathLike | None, download: bool) -> Path:
    searched = []
    for _, root in _read_only_roots(data_home):
        path = _local_path(root, file)
        searched.append(path)
        if path.is_file():
            _verify(path, file)  # a bad copy in a user's directory is an error, not a miss
            return path
    cached = _local_path(get_cache_dir(), file)
    searched.append(cached)
    if cached.is_file():
        try:
            _verify(cached, file)
            return cached
        except ChecksumError as exc:
            logger.warning("discarding corrupt cached file: %s", exc)
            with contextlib.suppress(OSError):
                cached.unlink()
    if not download:
        # One line: command-line tools print it as it is.
        where = ", ".join(str(p) for p in searched)
        raise DataNotFoundError(
            f"dataset file {file.path!r} was not found (or its cached copy was corrupt); "
            f"looked in: {where}; and download=False. Pass download=True to fetch it from "
            f"{file.url}. {_offline_hint(file)}"
        )
    _download(file, cached)
    return cached


def dataset_paths(
    name: str, *, data_home: str | os.PathLike | None = None, download: bool = True
) -> dict[str, Path]:
    """Locate (downloading if needed) and verify the files of a dataset.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.
    data_home : str or path-like, default=None
        A directory to look in first; see :func:`load_dataset`.
    download : bool, default=True
        Whether to download files found nowhere locally into the cache.

    Returns
    -------
    dict of str to pathlib.Path
        The verified local path of each file, keyed by its relative path
        (:attr:`DataFile.path`), in file order.

    Raises
    ------
    ChecksumError
        If a copy in ``data_home`` or ``SKMATNET_DATA`` does not have the
        published sha256, or a download does not.
    DataNotFoundError
        If a file is missing and ``download=False``.
    DownloadError
        If a download fails.
    """
    info = describe_dataset(name)
    return {file.path: _locate(file, data_home, download) for file in info.files}
