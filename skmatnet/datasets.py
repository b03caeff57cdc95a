"""Public materials-property datasets: find, download, verify and load them.

Every dataset is a set of public CSV files pinned to a commit of the GitHub
repository that serves them, with the sha256 and size of each file. A file is
looked up, in order, in

1. the ``data_home`` argument of :func:`load_dataset`,
2. the directory named by the environment variable ``SKMATNET_DATA``,
3. the download cache (``$SKMATNET_CACHE/datasets``, by default
   ``platformdirs.user_cache_dir("skmatnet")/datasets``),

and, when found nowhere, downloaded into the cache. The first two are only
read, never written, so they may be read-only (a shared or mounted data
directory). All three use the same layout, e.g.
``<dir>/jarvis/formation_energy_train.csv``. Every file is checked against its
sha256 before it is used. Downloads go through :mod:`pooch` (a temporary file
in the cache, checked against the sha256, then renamed into place).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import platformdirs

from ._io import file_sha256
from .featurizer import FormulaError, element_fractions

__all__ = [
    "DEDUPE_MODES",
    "ChecksumError",
    "DataFile",
    "DataNotFoundError",
    "DatasetError",
    "DatasetInfo",
    "DownloadError",
    "composition_codes",
    "dataset_paths",
    "dedupe_rows",
    "describe_dataset",
    "get_cache_dir",
    "list_datasets",
    "load_dataset",
    "read_formula_csv",
]

logger = logging.getLogger(__name__)

#: Environment variable naming a (possibly read-only) directory holding the files.
DATA_ENV = "SKMATNET_DATA"
#: Environment variable overriding skmatnet's cache root (datasets go in ``datasets/``).
CACHE_ENV = "SKMATNET_CACHE"
#: How duplicate compositions are merged (``dedupe``): the lowest target or the mean.
DEDUPE_MODES = ("min", "mean")

_DOWNLOAD_TIMEOUT = 60.0  # seconds without data before a download is abandoned
_CHUNK = 1 << 20
_NA_VALUES = ["", "NA", "N/A", "NaN", "nan", "null", "None"]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class DatasetError(Exception):
    """Base class of the errors raised while locating or reading a dataset."""


class ChecksumError(DatasetError, ValueError):
    """A dataset file does not have the published sha256.

    Parameters
    ----------
    message : str
        The error message.
    path, expected, actual : str
        Stored as the attributes of the same names.

    Attributes
    ----------
    path : str
        The file (or URL, for a download) that failed the check.
    expected : str
        The published sha256.
    actual : str
        The sha256 of the bytes found.
    """

    def __init__(self, message: str, path: str, expected: str, actual: str):
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class DataNotFoundError(DatasetError, FileNotFoundError):
    """A dataset file is not available locally and downloading was not allowed."""


class DownloadError(DatasetError, OSError):
    """A dataset file could not be downloaded (offline, HTTP error, unwritable cache)."""


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """One published CSV file of a dataset.

    Parameters
    ----------
    path : str
        Path relative to a data directory, with ``/`` separators, e.g.
        ``"jarvis/formation_energy_train.csv"``.
    url : str
        Download URL, pinned to a commit.
    sha256 : str
        Hex sha256 of the file's bytes.
    size : int
        Size of the file in bytes.
    n_rows : int
        Number of data rows (the header excluded).
    split : str or None, default=None
        The part of the published split this file holds (``"train"``,
        ``"val"`` or ``"test"``), or ``None`` for a dataset without one.
    """

    path: str
    url: str
    sha256: str
    size: int
    n_rows: int
    split: str | None = None


@dataclass(frozen=True)
class DatasetInfo:
    """Everything known about a dataset before loading it.

    Parameters
    ----------
    name : str
        Name to pass to :func:`load_dataset`.
    description : str
        What the data are, and what they are not.
    files : tuple of DataFile
        The files, in the order their rows are concatenated.
    formula_column : str
        Column of the CSV files holding the chemical formulas.
    target_column : str
        Column of the CSV files holding the property.
    target : str
        Meaning of the target.
    units : str
        Units of the target.
    license : str
        Terms under which the files are distributed by the serving repository.
    source : str
        Repository and commit the files are downloaded from.
    citation : str
        References to cite: the upstream database and the serving repository.
    n_compositions : int
        Number of distinct compositions (rows of ``load_dataset(name)`` with the
        default ``dedupe="min"``).
    """

    name: str
    description: str
    files: tuple[DataFile, ...]
    formula_column: str
    target_column: str
    target: str
    units: str
    license: str
    source: str
    citation: str
    n_compositions: int

    @property
    def n_rows(self) -> int:
        """int : Number of rows over all files, before deduplication."""
        return sum(f.n_rows for f in self.files)

    @property
    def has_split(self) -> bool:
        """bool : Whether the files carry a published split."""
        return any(f.split is not None for f in self.files)

    @property
    def splits(self) -> tuple[str, ...]:
        """tuple of str : Names of the published split's parts, in file order."""
        return tuple(f.split for f in self.files if f.split is not None)

    def summary(self) -> str:
        """Describe the dataset in a few lines of text.

        Returns
        -------
        str
        """
        split = (
            "published split: " + " / ".join(f"{f.split} {f.n_rows:,}" for f in self.files)
            if self.has_split
            else "no published split"
        )
        return "\n".join(
            [
                f"{self.name}: {self.target} ({self.units})",
                f"{self.n_rows:,} rows, {self.n_compositions:,} distinct compositions; {split}",
                f"source: {self.source}; license: {self.license}",
            ]
        )


def _github_raw(repo: str, commit: str, path: str) -> str:
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


_CPTL_REPO = "NU-CUCIS/CrossPropertyTL"
_CPTL_COMMIT = "7258427fb5fe3cd8d34ece0fdfbd33f690d494a6"
_CRABNET_REPO = "anthony-wang/CrabNet"
_CRABNET_COMMIT = "457b4d4835737ecbe4dd33e53174bd818bd82143"


def _cptl(path: str, remote: str, sha256: str, size: int, n_rows: int, split: str) -> DataFile:
    return DataFile(
        path, _github_raw(_CPTL_REPO, _CPTL_COMMIT, remote), sha256, size, n_rows, split
    )


def _crabnet(
    path: str, remote: str, sha256: str, size: int, n_rows: int, split: str | None
) -> DataFile:
    url = _github_raw(_CRABNET_REPO, _CRABNET_COMMIT, remote)
    return DataFile(path, url, sha256, size, n_rows, split)


_CITE_JARVIS = (
    "K. Choudhary et al., 'The joint automated repository for various integrated "
    "simulations (JARVIS) for data-driven materials design', npj Computational Materials "
    "6, 173 (2020). Files from V. Gupta et al., 'Cross-property deep transfer learning "
    "framework for enhanced predictive analytics on small materials data', Nature "
    "Communications 12, 6595 (2021), https://github.com/NU-CUCIS/CrossPropertyTL."
)
_CITE_CRABNET = (
    "Files from A. Y.-T. Wang, S. K. Kauwe, R. J. Murdock and T. D. Sparks, "
    "'Compositionally restricted attention-based network for materials property "
    "predictions', npj Computational Materials 7, 77 (2021), "
    "https://github.com/anthony-wang/CrabNet."
)
_CITE_MP = (
    "A. Jain et al., 'Commentary: The Materials Project: A materials genome approach to "
    "accelerating materials innovation', APL Materials 1, 011002 (2013). A. Dunn, Q. Wang, "
    "A. Ganose, D. Dopp and A. Jain, 'Benchmarking materials property prediction methods: "
    "the Matbench test set and Automatminer reference algorithm', npj Computational "
    "Materials 6, 138 (2020) (matbench_mp_e_form). " + _CITE_CRABNET
)
_CITE_OQMD = (
    "J. E. Saal, S. Kirklin, M. Aykol, B. Meredig and C. Wolverton, 'Materials design and "
    "discovery with high-throughput density functional theory: the Open Quantum Materials "
    "Database (OQMD)', JOM 65, 1501-1509 (2013). S. Kirklin et al., 'The Open Quantum "
    "Materials Database (OQMD): assessing the accuracy of DFT formation energies', npj "
    "Computational Materials 1, 15010 (2015). " + _CITE_CRABNET
)
_LICENSE_CPTL = (
    "Northwestern University notice of CrossPropertyTL (use, copy, modify and distribute "
    "with the notice kept; credit Northwestern University)"
)
_LICENSE_CRABNET = "MIT (CrabNet repository)"
_SOURCE_CPTL = f"github.com/{_CPTL_REPO} @ {_CPTL_COMMIT}"
_SOURCE_CRABNET = f"github.com/{_CRABNET_REPO} @ {_CRABNET_COMMIT}"

_REGISTRY: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        DatasetInfo(
            name="jarvis_formation_energy",
            description=(
                "JARVIS-DFT formation energy per atom (OptB88vdW), with the train/test split "
                "published by the Northwestern group (scikit-learn train_test_split, seed "
                "1234567). JARVIS keeps polymorphs, so a composition can appear several times; "
                "the BRNet protocol keeps the lowest value per composition."
            ),
            files=(
                _cptl(
                    "jarvis/formation_energy_train.csv",
                    "data/deltae/deltae_training_set.csv",
                    "d0fb3731aab4db0c4467cd2bc3e857400c96442c3db51920ebd2c4df66fb0823",
                    603_363,
                    25_297,
                    "train",
                ),
                _cptl(
                    "jarvis/formation_energy_test.csv",
                    "data/deltae/deltae_test_set.csv",
                    "1949068253e3cecb5347b272036b946df49a5f1198f7a690c0429546a8481411",
                    64_301,
                    2_811,
                    "test",
                ),
            ),
            formula_column="pretty_comp",
            target_column="formation_energy_peratom",
            target="formation energy per atom (JARVIS-DFT, OptB88vdW)",
            units="eV/atom",
            license=_LICENSE_CPTL,
            source=_SOURCE_CPTL,
            citation=_CITE_JARVIS,
            n_compositions=26_741,
        ),
        DatasetInfo(
            name="jarvis_optb88vdw_bandgap",
            description=(
                "JARVIS-DFT band gap computed with the OptB88vdW functional, with the "
                "published train/test split. A later, larger JARVIS release than the one in "
                "the BRNet paper (17,924 compounds)."
            ),
            files=(
                _cptl(
                    "jarvis/optb88vdw_bandgap_train.csv",
                    "data/optb88vdw_bandgap/optb88vdw_bandgap_training_set.csv",
                    "a8833e050e620fd2b168e30a7ca1f0779e3892fe1833dfdb99bcde240b6676d8",
                    458_137,
                    25_339,
                    "train",
                ),
                _cptl(
                    "jarvis/optb88vdw_bandgap_test.csv",
                    "data/optb88vdw_bandgap/optb88vdw_bandgap_test_set.csv",
                    "6a66c75b1cf28b66a2a5b1f884dd6cce8ff26cb5bbf8e69cbdff6434e73f49ae",
                    48_519,
                    2_816,
                    "test",
                ),
            ),
            formula_column="pretty_comp",
            target_column="optb88vdw_bandgap",
            target="band gap (JARVIS-DFT, OptB88vdW functional)",
            units="eV",
            license=_LICENSE_CPTL,
            source=_SOURCE_CPTL,
            citation=_CITE_JARVIS,
            n_compositions=26_788,
        ),
        DatasetInfo(
            name="mp_formation_energy",
            description=(
                "Materials Project formation energy per atom, the 132,752 entries of "
                "matbench_mp_e_form as one file, without a split. Polymorphs repeat "
                "compositions: 106,250 distinct formula strings, 95,118 distinct compositions "
                "once formulas that are multiples of each other (Fe2O3, Fe4O6) are merged."
            ),
            files=(
                _crabnet(
                    "mp/formation_energy.csv",
                    "data/matbench/mp_e_form.csv",
                    "90e895635c96447c5be4e9070d26f26e1b4d17925102a6597ae3c4d79c32555b",
                    4_022_461,
                    132_752,
                    None,
                ),
            ),
            formula_column="formula",
            target_column="target",
            target="formation energy per atom (Materials Project, via matbench_mp_e_form)",
            units="eV/atom",
            license=_LICENSE_CRABNET,
            source=_SOURCE_CRABNET,
            citation=_CITE_MP,
            n_compositions=95_118,
        ),
        DatasetInfo(
            name="oqmd_formation_enthalpy",
            description=(
                "OQMD formation enthalpy per atom: only the validation and test thirds "
                "(51,255 + 51,255 rows) of CrabNet's 70/15/15 split of 341,700 rows. The "
                "training part (239,190 rows) is not included, so this is not a complete "
                "benchmark. Unfiltered: apply ElemNet's filters (-20 < y < 5 eV/atom, 5-sigma, "
                "more than one element) before comparing with ElemNet-family papers."
            ),
            files=(
                _crabnet(
                    "oqmd/formation_enthalpy_val.csv",
                    "data/benchmark_data/OQMD_Formation_Enthalpy/val.csv",
                    "af138c2bfed3a8eb8fc2e202690fae94190e0e64258625ce1612df45298193d4",
                    1_187_043,
                    51_255,
                    "val",
                ),
                _crabnet(
                    "oqmd/formation_enthalpy_test.csv",
                    "data/benchmark_data/OQMD_Formation_Enthalpy/test.csv",
                    "773275807866c98cef1d36887e2f33cf3a3bb0428fc8faf6912cdcff19961172",
                    1_188_263,
                    51_255,
                    "test",
                ),
            ),
            formula_column="formula",
            target_column="target",
            target="formation enthalpy per atom (OQMD, DFT)",
            units="eV/atom",
            license=_LICENSE_CRABNET,
            source=_SOURCE_CRABNET,
            citation=_CITE_OQMD,
            n_compositions=102_510,
        ),
        DatasetInfo(
            name="oqmd_bandgap",
            description=(
                "OQMD band gap, CrabNet's complete 70/15/15 train/val/test split (239,125 / "
                "51,241 / 51,242 rows, one row per composition): the largest complete "
                "benchmark here."
            ),
            files=(
                _crabnet(
                    "oqmd/bandgap_train.csv",
                    "data/benchmark_data/OQMD_Bandgap/train.csv",
                    "8611a9f1f76ad06d846890d2234e6b37909abd941c156cdc339447bbcce3ada7",
                    3_410_027,
                    239_125,
                    "train",
                ),
                _crabnet(
                    "oqmd/bandgap_val.csv",
                    "data/benchmark_data/OQMD_Bandgap/val.csv",
                    "7838750eb3b5b09ec296b0fbf194271f6588b4bcd4653e392aba6df04c645002",
                    730_170,
                    51_241,
                    "val",
                ),
                _crabnet(
                    "oqmd/bandgap_test.csv",
                    "data/benchmark_data/OQMD_Bandgap/test.csv",
                    "59206d9cf13387a6cbf5a155f5b350043aee2f190663bb9baf97a6ee85e63d55",
                    731_250,
                    51_242,
                    "test",
                ),
            ),
            formula_column="formula",
            target_column="target",
            target="band gap (OQMD, DFT)",
            units="eV",
            license=_LICENSE_CRABNET,
            source=_SOURCE_CRABNET,
            citation=_CITE_OQMD,
            n_compositions=341_608,
        ),
    ]
}


def list_datasets() -> list[str]:
    """Names of the datasets :func:`load_dataset` knows.

    Returns
    -------
    list of str
        Sorted dataset names.

    Examples
    --------
    >>> "jarvis_formation_energy" in list_datasets()
    True
    """
    return sorted(_REGISTRY)


def describe_dataset(name: str) -> DatasetInfo:
    """Files, source, license, citation, units and size of a dataset.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`.

    Returns
    -------
    DatasetInfo

    Raises
    ------
    ValueError
        If ``name`` is not a known dataset.

    Examples
    --------
    >>> info = describe_dataset("jarvis_formation_energy")
    >>> info.units, info.n_rows, info.splits
    ('eV/atom', 28108, ('train', 'test'))
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown dataset {name!r}; available: {', '.join(list_datasets())}"
        ) from None


# ---------------------------------------------------------------------------
# Locating, verifying and downloading files
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def read_formula_csv(
    path: str | os.PathLike, formula_column: str, target_column: str, *,
    target_dtype: str | None = "float64",
) -> pd.DataFrame:
    """Read a formula column and a target column of a CSV file, skmatnet's way.

    Formulas are read as text and never as missing values ("NaN" is sodium
    nitride); only the target may be missing (empty, ``NA``, ``NaN``, ...).

    Parameters
    ----------
    path : path-like
    formula_column, target_column : str
    target_dtype : str or None, default="float64"
        ``None`` keeps the target as pandas reads it (for a caller that checks
        it for non-numbers itself).

    Returns
    -------
    DataFrame
        The two columns under their own names.

    Raises
    ------
    ValueError, pandas.errors.ParserError, OSError
        As :func:`pandas.read_csv` does (e.g. a missing column).
    """
    dtype = {formula_column: str}
    if target_dtype is not None:
        dtype[target_column] = target_dtype
    return pd.read_csv(
        path,
        usecols=[formula_column, target_column],
        dtype=dtype,
        keep_default_na=False,
        na_values={target_column: _NA_VALUES},
    )


def _read_csv(path: Path, info: DatasetInfo) -> pd.DataFrame:
    formula, target = info.formula_column, info.target_column
    try:
        frame = read_formula_csv(path, formula, target)
    except (ValueError, pd.errors.ParserError) as exc:
        detail = " ".join(str(exc).split())  # one line, whatever pandas wrote
        try:
            columns = list(pd.read_csv(path, nrows=0).columns)
        except (ValueError, pd.errors.ParserError, OSError):
            columns = None
        if columns is not None and not {formula, target} <= set(columns):
            detail += f" (expected columns {formula!r} and {target!r}; the file has {columns})"
        raise DatasetError(f"cannot read {path}: {detail}") from exc
    return pd.DataFrame({"formula": frame[formula], "target": frame[target]})


def composition_codes(fractions: np.ndarray) -> np.ndarray:
    """One integer per distinct fraction row (bit-identical float32 rows share a code).

    Parameters
    ----------
    fractions : array-like of shape (n_samples, n_features)
        Element fractions (:func:`skmatnet.element_fractions`), compared as float32.

    Returns
    -------
    ndarray of int of shape (n_samples,)
        Codes numbered from 0 in order of first appearance.
    """
    rows = np.ascontiguousarray(fractions, dtype=np.float32)
    keys = np.fromiter((row.tobytes() for row in rows), dtype=object, count=len(rows))
    codes, _ = pd.factorize(keys)
    return codes


def dedupe_rows(codes: np.ndarray, target: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray]:
    """The rows to keep, one per composition, and their targets.

    Parameters
    ----------
    codes : ndarray of int
        Composition of each row (:func:`composition_codes`).
    target : ndarray of float
    how : {"min", "mean"}
        ``"min"``: per composition the row with the lowest target (NaN last;
        ties keep the first row). ``"mean"``: the composition's first row, with
        the mean target of the composition.

    Returns
    -------
    keep : ndarray of int
        Row indices, in source order.
    target : ndarray of float
        The target of each kept row.
    """
    target = np.asarray(target, dtype=np.float64)
    if how == "min":
        # Sort by composition, then target; take each group's first row.
        order = np.lexsort((target, codes))
        first = np.ones(len(order), dtype=bool)
        first[1:] = codes[order[1:]] != codes[order[:-1]]
        keep = np.sort(order[first])
        return keep, target[keep]
    _, keep = np.unique(codes, return_index=True)
    keep = np.sort(keep)
    means = np.bincount(codes, weights=target) / np.bincount(codes)
    return keep, means[codes[keep]]


def load_dataset(
    name: str,
    *,
    data_home: str | os.PathLike | None = None,
    return_X_y: bool = False,
    dedupe: str | None = "min",
    download: bool = True,
    target: str | None = None,
) -> pd.DataFrame | tuple[pd.Series, np.ndarray]:
    """Load a materials-property dataset as formulas and targets.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`: ``"jarvis_formation_energy"``,
        ``"jarvis_optb88vdw_bandgap"``, ``"mp_formation_energy"``,
        ``"oqmd_formation_enthalpy"`` or ``"oqmd_bandgap"``.
    data_home : str or path-like, default=None
        A directory holding the files in the layout ``<data_home>/<file path>``
        (e.g. ``<data_home>/jarvis/formation_energy_train.csv``). Looked in
        first; only read, never written.
    return_X_y : bool, default=False
        Return ``(formulas, target)`` instead of a DataFrame. The split column
        is then dropped: load the DataFrame to use a published split.
    dedupe : {"min", "mean"} or None, default="min"
        How to treat rows with the same composition. Compositions are compared
        through their 86-element fraction vectors (:func:`element_fractions`),
        so ``Fe2O3``, ``O3Fe2`` and ``Fe4O6`` are one composition.

        - ``"min"``: keep, per composition, the row with the lowest target
          (the most stable structure: the BRNet protocol); ties keep the first
          row. The kept row keeps its own formula string and split.
        - ``"mean"``: one row per composition at its first occurrence (its
          formula string and split), with the mean target of the composition.
        - ``None``: keep every row as published; formulas are then not parsed.
    download : bool, default=True
        Whether to download files found nowhere locally into the cache.
    target : {None, "is_metal"}, default=None
        ``None``: the dataset's property. ``"is_metal"`` (band-gap datasets
        only): a boolean label, ``True`` where the band gap is 0, for
        classification. Deduplication runs on the band gap first, so with
        ``dedupe="min"`` a composition is a metal when any of its structures
        in the dataset is one.

    Returns
    -------
    data : DataFrame
        Columns ``formula`` (str), ``target`` (float64; bool for
        ``target="is_metal"``) and, for datasets with
        a published split, ``split`` (categorical; categories in file order,
        e.g. ``["train", "test"]``). Rows keep the source order (the files'
        rows one after the other, e.g. train then test); the index is a fresh
        ``RangeIndex``. Returned when ``return_X_y=False``.
    (formulas, target) : tuple of Series and ndarray of float64
        Returned when ``return_X_y=True``.

    Raises
    ------
    ValueError
        If ``name`` or ``dedupe`` is not valid, or ``target`` is not one the
        dataset offers.
    ChecksumError
        If a file in ``data_home`` or ``SKMATNET_DATA`` does not have the
        published sha256 (a corrupt copy in the cache is deleted and
        downloaded again instead).
    DataNotFoundError
        If a file is not found locally and ``download=False``.
    DownloadError
        If a download fails (e.g. offline); the message names the URL.
    FormulaError
        If a formula cannot be parsed (only when ``dedupe`` is set); the
        message names the file.

    Notes
    -----
    Each file is looked up in ``data_home``, then in the directory of the
    environment variable ``SKMATNET_DATA``, then in the cache
    (:func:`get_cache_dir`), and downloaded into the cache when found nowhere.
    Every file's sha256 is checked before use; the result is remembered for
    the process, keyed on path, size and modification time.

    Deduplicating a dataset with a published split can move a composition
    across parts: the kept row is in the part its own file belongs to.

    Examples
    --------
    >>> data = load_dataset("jarvis_formation_energy")  # doctest: +SKIP
    >>> len(data), int((data["split"] == "test").sum())  # doctest: +SKIP
    (26741, 2681)
    """
    info = describe_dataset(name)
    if dedupe not in (None, *DEDUPE_MODES):
        raise ValueError(f"dedupe must be 'min', 'mean' or None, got {dedupe!r}")
    if target is not None and (target != "is_metal" or "band gap" not in info.target):
        gaps = [n for n in list_datasets() if "band gap" in describe_dataset(n).target]
        raise ValueError(
            f"target must be None or 'is_metal' (band-gap datasets: {', '.join(gaps)}), got "
            f"{target!r} for {name!r}"
        )
    is_metal = target == "is_metal"  # (the name target is reused below)
    paths = dataset_paths(name, data_home=data_home, download=download)

    frames = []
    for file in info.files:
        path = paths[file.path]
        frame = _read_csv(path, info)
        if dedupe is not None:
            try:
                frame_fractions = element_fractions(frame["formula"])
            except FormulaError as exc:
                raise FormulaError(f"in {path}: {exc}", exc.problems) from exc
            frames.append((frame, frame_fractions, file.split))
        else:
            frames.append((frame, None, file.split))

    data = pd.concat([frame for frame, _, _ in frames], ignore_index=True)
    if info.has_split:
        splits = np.repeat([split for _, _, split in frames], [len(f) for f, _, _ in frames])
        data["split"] = pd.Categorical(splits, categories=list(dict.fromkeys(info.splits)))

    if dedupe is not None:
        codes = composition_codes(np.concatenate([fr for _, fr, _ in frames]))
        keep, target = dedupe_rows(codes, data["target"].to_numpy(), dedupe)
        data = data.iloc[keep].reset_index(drop=True)
        data["target"] = target

    if is_metal:
        data["target"] = data["target"].to_numpy() <= 0
    if return_X_y:
        dtype = bool if is_metal else np.float64
        return data["formula"], data["target"].to_numpy(dtype=dtype)
    return data
