"""Writing a screen's kept rows to Parquet or CSV, chunk by chunk."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["check_output"]

def check_output(path: str | os.PathLike) -> str:
    """Check an output file name before any work; return ``"parquet"`` or ``"csv"``.

    Parameters
    ----------
    path : str or path-like
        The file to write: its suffix (``.parquet``, ``.pq`` or ``.csv``, any case)
        picks the format.

    Returns
    -------
    str
        ``"parquet"`` or ``"csv"``.

    Raises
    ------
    ValueError
        Another suffix.
    FileNotFoundError
        Its folder does not exist.
    ImportError
        Parquet without pyarrow.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError("writing Parquet needs pyarrow: pip install 'skmatnet[dask]' "
                              "(or pyarrow), or write a .csv file") from None
        kind = "parquet"
    elif suffix == ".csv":
        kind = "csv"
    else:
        raise ValueError(f"output {str(path)!r}: the file name must end in .parquet, .pq or "
                         ".csv")
    if not path.parent.exists():
        raise FileNotFoundError(f"output {str(path)!r}: the folder {str(path.parent)!r} does "
                                "not exist")
    return kind


class _Writer:
    """Rows appended to an open Parquet or CSV file (a handle of :func:`~skmatnet._io.
    atomic_open`, so that the file appears only once the screen has finished)."""

    def __init__(self, handle: Any, kind: str):
        self.handle, self.kind = handle, kind
        self._parquet = None  # the pyarrow writer, made with the first rows' schema
        self.rows = 0
        self.started = False

    def write(self, frame: pd.DataFrame) -> None:
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            # One schema for every chunk: pandas' string columns may convert to string or
            # large_string, and an empty frame's to null.
            table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata()
            if self._parquet is None:
                schema = pa.schema([pa.field(f.name, pa.string()) if pa.types.is_large_string(
                    f.type) or pa.types.is_null(f.type) else f for f in table.schema])
                self._parquet = pq.ParquetWriter(self.handle, schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        else:
            self.handle.write(frame.to_csv(index=False, header=not self.started).encode())
        self.started = True
        self.rows += len(frame)

    def finish(self, columns: Sequence[str]) -> None:
        if not self.started:  # nothing kept: an empty file with the columns
            self.write(pd.DataFrame({c: [] for c in columns}))
        self.close()

    def close(self) -> None:
        """Close the Parquet writer (idempotent; before the handle closes, also on errors)."""
        parquet, self._parquet = self._parquet, None
        if parquet is not None:
            parquet.close()
