"""The errors raised while locating, verifying or reading a dataset."""

from __future__ import annotations


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
