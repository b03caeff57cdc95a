"""The bundled models' manifest and the checks of their files, without any estimator.

``models/manifest.json`` lists each bundled model: its name, its file in
``models/``, the file's sha256 and size, and what it predicts. A file is
checked against its entry before anything reads it, so a truncated download, a
damaged installation or a replaced file fails with the model's name and what
differs, never with a confusing error deep in the loader.

This module imports no estimator: ``init_from="name"`` resolves names here
from :mod:`skmatnet._pretrained`, below the estimators, while
:func:`skmatnet.pretrained.load_pretrained` (which loads estimators) is above
them. Nothing here runs at ``import skmatnet``.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

from .._io import atomic_write, file_sha256

__all__ = ["MANIFEST", "describe_file", "model_entries", "model_entry", "model_names", "model_path",
           "resolve_model"]

#: The manifest's file name in the models folder, and the schema version it is written in.
MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
#: The keys every manifest entry has (the rest describe the model and are optional).
_REQUIRED = {"name": str, "file": str, "sha256": str, "bytes": int}
_REINSTALL = "reinstall skmatnet (pip install --force-reinstall --no-deps skmatnet)"


def _models_dir() -> Path:
    """The folder of the bundled models and their manifest.

    The test suite's hook: tests point the zoo at a temporary folder by
    monkeypatching this function (there is deliberately no public setting).
    """
    # importlib.resources finds the package's data where it is installed (a wheel, an
    # editable checkout); the folder is a real directory in both.
    return Path(str(resources.files("skmatnet.pretrained").joinpath("models")))


def _manifest_problem(problem: str) -> ValueError:
    return ValueError(f"the pretrained models' manifest {_models_dir() / MANIFEST} is "
                      f"invalid: {problem}; {_REINSTALL}")


def model_entries() -> dict[str, dict[str, Any]]:
    """Model name -> its manifest entry, in the manifest's order (read on every call: small)."""
    path = _models_dir() / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"the pretrained models' manifest {path} is missing; "
                                f"{_REINSTALL}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _manifest_problem(f"not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise _manifest_problem(f"expected an object with format {MANIFEST_FORMAT}")
    models = manifest.get("models")
    if not isinstance(models, list):
        raise _manifest_problem("'models' is not a list")
    entries = {}
    for i, entry in enumerate(models):
        wrong = [key for key, kind in _REQUIRED.items()
                 if not isinstance(entry, dict) or not isinstance(entry.get(key), kind)]
        if wrong:
            raise _manifest_problem(f"model {i} lacks {', '.join(wrong)}")
        if Path(entry["file"]).name != entry["file"]:  # never a path out of the folder
            raise _manifest_problem(f"model {entry['name']!r}: file must be a plain file name")
        entries[entry["name"]] = entry
    return entries


def model_names() -> list[str]:
    """The names of the bundled models, in the manifest's order."""
    return list(model_entries())


def _unknown(name: str, names: list[str],
             lead: str = "no pretrained model is named {name!r}") -> str:
    """``lead``, then a close match and the bundled names (or that there are none)."""
    lead = lead.format(name=name)
    if not names:
        return f"{lead}: this installation of skmatnet bundles no pretrained models"
    # difflib misses a short part of a long name ("mp" for "mp_formation_energy")
    close = difflib.get_close_matches(name, names, n=1) or [n for n in names if name in n][:1]
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"{lead}{hint} (bundled: {', '.join(names)}; see "
            "skmatnet.pretrained.list_models())")


def model_entry(name: str) -> dict[str, Any]:
    """The manifest entry of model ``name``; ``ValueError`` listing the names if unknown."""
    entries = model_entries()
    if name not in entries:
        raise ValueError(_unknown(name, list(entries)))
    return entries[name]


@functools.lru_cache(maxsize=64)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    # Keyed by the modification time and size as well: a file replaced in place is hashed
    # again, an unchanged one only once per process (loading stays fast).
    return file_sha256(path)


def model_path(name: str) -> Path:
    """The file of bundled model ``name``, once its size and sha256 match the manifest.

    Parameters
    ----------
    name : str
        A name from :func:`skmatnet.pretrained.list_models`.

    Returns
    -------
    pathlib.Path
        The verified model file (for :func:`skmatnet.load_model`, ``init_from`` or
        ``skmatnet predict``).

    Raises
    ------
    ValueError
        If no bundled model has that name; the message lists those that do.
    FileNotFoundError
        If the manifest lists the model but its file is missing.
    skmatnet.ModelFileError
        If the file's size or sha256 differ from the manifest's (truncated,
        damaged or replaced); the message gives both.
    """
    entry = model_entry(name)
    path = _models_dir() / entry["file"]
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"the pretrained model {name!r} has no file: {path} is "
                                f"missing; {_REINSTALL}") from None
    if stat.st_size != entry["bytes"]:
        raise _damaged(path, name, f"the manifest gives {entry['bytes']} bytes, the file has "
                                   f"{stat.st_size} (truncated or replaced)")
    actual = _sha256(os.fspath(path), stat.st_mtime_ns, stat.st_size)
    if actual != entry["sha256"]:
        raise _damaged(path, name, f"sha256 mismatch: the manifest gives {entry['sha256']}, "
                                   f"the file has {actual} (damaged or modified)")
    return path


def _damaged(path: Path, name: str, problem: str) -> Exception:
    from .._persistence.codec import ModelFileError  # loads torch: only when a file is bad

    return ModelFileError(path, f"pretrained model {name!r}: {problem}; {_REINSTALL}")


def resolve_model(source: str | os.PathLike) -> Path:
    """A model file: ``source`` itself where it is a path, else the bundled model it names.

    A string that names no existing file is a bundled model's name unless it looks
    like a path (a directory part or the ``.skmatnet`` suffix), which is then a
    missing file.

    Raises
    ------
    FileNotFoundError
        A path that does not exist (or a bundled model's missing file).
    ValueError
        Neither a file nor a bundled model's name; the message lists the names.
    skmatnet.ModelFileError
        A bundled model's file does not match the manifest.
    """
    path = Path(source)
    if path.exists() or not isinstance(source, str):
        return path
    looks_like_path = os.sep in source or "/" in source or path.suffix == ".skmatnet"
    names = [] if looks_like_path else model_names()
    if source in names:
        return model_path(source)
    if looks_like_path:
        raise FileNotFoundError(f"{source}: no such model file")
    raise ValueError(_unknown(source, names, "{name!r} is neither a model file nor the name "
                                             "of a bundled pretrained model"))


# ---------------------------------------------------------------------------
# Writing the manifest (the test suite, and the script that bundles the models)
# ---------------------------------------------------------------------------


def describe_file(path: Path) -> dict[str, Any]:
    """``estimator``, ``kind`` and ``members`` of a model file, read from its JSON alone."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "ensemble.json" in names:
            ensemble = json.loads(archive.read("ensemble.json"))
            members = ensemble["members"]
            with zipfile.ZipFile(archive.open(members[0]["file"])) as member:
                config = json.loads(member.read("config.json"))
        else:
            members, config = [None], json.loads(archive.read("config.json"))
    estimator = config["estimator"]["class"].removeprefix("skmatnet.")
    kind = "classifier" if estimator.endswith("Classifier") else "regressor"
    return {"estimator": estimator, "kind": kind, "members": len(members)}


def _manifest_entry(path: str | os.PathLike, **fields: Any) -> dict[str, Any]:
    """The manifest entry of the model file ``path``: what the file is, then ``fields``.

    ``name`` defaults to the file's stem; ``file``, ``sha256`` and ``bytes`` are
    measured, and ``estimator``, ``kind`` and ``members`` read from the file,
    unless ``fields`` gives them. The other keys of the schema (``target``,
    ``units``, ``dataset``, ``split``, ``test_metrics``, ``description``) come
    from ``fields``.
    """
    path = Path(path)
    entry = {"name": path.stem, "file": path.name, "sha256": file_sha256(path),
             "bytes": path.stat().st_size, **describe_file(path)}
    entry.update(fields)
    return entry


def _write_manifest(entries: list[dict[str, Any]], folder: str | os.PathLike | None = None,
                    ) -> Path:
    """Write ``{"format": 1, "models": entries}`` as the manifest of ``folder`` (default:
    the models folder)."""
    folder = _models_dir() if folder is None else Path(folder)
    text = json.dumps({"format": MANIFEST_FORMAT, "models": entries}, indent=2) + "\n"
    return atomic_write(folder / MANIFEST, text, parents=False)
