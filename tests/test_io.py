"""The atomic-write helper: a file is replaced whole or not at all."""

from __future__ import annotations

import pytest

from skmatnet._io import atomic_open, atomic_write, file_sha256


def test_writes_text_and_bytes_creating_parents(tmp_path):
    path = atomic_write(tmp_path / "a" / "b.txt", "héllo")
    assert path.read_bytes() == "héllo".encode()
    atomic_write(path, b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in path.parent.iterdir()) == ["b.txt"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "results.csv", "old")
    with pytest.raises(KeyboardInterrupt), atomic_open(path) as handle:
        handle.write(b"half of the new")
        raise KeyboardInterrupt
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_without_parents_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "m.skmatnet", b"x", parents=False)
    assert not (tmp_path / "missing").exists()


def test_file_sha256(tmp_path):
    path = atomic_write(tmp_path / "x", b"abc")
    assert file_sha256(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
