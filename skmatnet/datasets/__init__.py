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

The package has one module per concern: :mod:`._catalog` (the datasets, their files,
sources, citations and licences), :mod:`._files` (finding, verifying and downloading the
files), :mod:`._loading` (reading them: :func:`load_dataset`) and :mod:`._errors`.
"""

from __future__ import annotations

# "X as X": names outside __all__ that stay importable from here, as when this package was
# one module (tests add a dataset to _REGISTRY, the same dict). The seams that tests replace
# (_urlopen, _sha256, _VERIFIED) are left in ._files: replacing them here would do nothing.
from ._catalog import _REGISTRY as _REGISTRY
from ._catalog import DataFile, DatasetInfo, describe_dataset, list_datasets
from ._errors import ChecksumError, DataNotFoundError, DatasetError, DownloadError
from ._files import CACHE_ENV as CACHE_ENV
from ._files import DATA_ENV as DATA_ENV
from ._files import dataset_paths, get_cache_dir
from ._loading import (
    DEDUPE_MODES,
    composition_codes,
    dedupe_rows,
    load_dataset,
    read_formula_csv,
)

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
