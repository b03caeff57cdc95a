"""The package as a package index serves it: the sdist and the wheel are built from a clean copy
of the checkout, checked (licence text, ``py.typed``, version, metadata, README links, ``twine
check``), and the wheel is installed into a fresh virtual environment, where a subprocess that
cannot see the source tree fits and predicts with it on real JARVIS rows.

Nothing is downloaded: the build runs without isolation (on the installed setuptools), the wheel
is installed with ``--no-deps --no-index``, and the new environment reads torch and the other
dependencies from this one.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import venv
import zipfile
from email.parser import Parser
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
from shared_data import SHARED, needs_data

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The version the checkout declares (read from the file: the skmatnet this process imported
#: may be another checkout's).
VERSION = re.search(r'^__version__ = "([^"]+)"$',
                    (REPO_ROOT / "skmatnet" / "__init__.py").read_text(), re.MULTILINE).group(1)
#: What a build must not copy from the checkout: build output, caches, environments.
_NOT_SOURCE = (".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", "_build",
               "auto_examples", "generated", ".pytest_cache", ".ruff_cache", "skmatnet-results")


def _missing_tool() -> str | None:
    """Why the packaging tools cannot run here, or None. CI installs the dev extra, which has
    them; a bare environment skips with the install command."""
    for module in ("build", "twine"):
        try:
            found = importlib.util.find_spec(f"{module}.__main__") is not None
        except ImportError:
            found = False
        if not found:
            return f"{module} is not installed: pip install -e '.[dev]'"
    from packaging.version import Version

    if Version(installed_version("setuptools")) < Version("77"):
        return "the build backend needs setuptools>=77: pip install -e '.[dev]'"
    return None


pytestmark = pytest.mark.skipif(_missing_tool() is not None, reason=str(_missing_tool()))


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}")
    return result


def _copy_source(destination: Path) -> Path:
    """The files a fresh clone holds (tracked ones and new ones git does not ignore), so that
    the build neither writes into the checkout nor picks up its stale build output."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        shutil.copytree(REPO_ROOT, destination, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
        return destination
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():  # a tracked file deleted in the work tree is not copied
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist and, built from it, the wheel."""
    root = tmp_path_factory.mktemp("packaging")
    source = _copy_source(root / "source")
    out = root / "dist"
    # Without flags, build makes the sdist and then the wheel from the unpacked sdist: the
    # wheel proves that the sdist holds everything a build needs.
    _run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
         cwd=root)
    sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    assert [p.name for p in sdists] == [f"skmatnet-{VERSION}.tar.gz"]
    assert [p.name for p in wheels] == [f"skmatnet-{VERSION}-py3-none-any.whl"]
    return {"sdist": sdists[0], "wheel": wheels[0]}


def _metadata(text: str):
    return Parser().parsestr(text)


def test_the_version_has_a_changelog_entry_and_a_citation():
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## \[{re.escape(VERSION)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog,
                     re.MULTILINE), f"CHANGELOG.md has no dated section for {VERSION}"
    citation = (REPO_ROOT / "CITATION.cff").read_text()
    assert re.search(rf"^version: {re.escape(VERSION)}$", citation, re.MULTILINE), (
        f"CITATION.cff does not cite version {VERSION}")


def test_sdist_holds_the_licence_the_marker_and_the_tests(dist):
    prefix = f"skmatnet-{VERSION}/"
    with tarfile.open(dist["sdist"]) as archive:
        names = set(archive.getnames())
        licence = archive.extractfile(prefix + "LICENSE").read().decode()
        metadata = _metadata(archive.extractfile(prefix + "PKG-INFO").read().decode())
    assert licence == (REPO_ROOT / "LICENSE").read_text()
    assert "BSD 3-Clause License" in licence
    for name in ("skmatnet/py.typed", "skmatnet/__init__.py", "pyproject.toml", "README.md",
                 "CHANGELOG.md", "CITATION.cff", "tests/conftest.py", "tests/shared_data.py",
                 "tests/data/format1_brnet_pipeline.skmatnet"):
        assert prefix + name in names, name
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_wheel_holds_the_licence_the_marker_and_the_metadata(dist):
    info = f"skmatnet-{VERSION}.dist-info/"
    with zipfile.ZipFile(dist["wheel"]) as archive:
        names = set(archive.namelist())
        licence = archive.read(info + "licenses/LICENSE").decode()
        metadata = _metadata(archive.read(info + "METADATA").decode())
        entry_points = archive.read(info + "entry_points.txt").decode()
    assert licence == (REPO_ROOT / "LICENSE").read_text()
    assert "skmatnet/py.typed" in names
    assert {n.split("/", 1)[0] for n in names} == {"skmatnet", info.rstrip("/")}  # no tests/
    assert metadata["Version"] == VERSION
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata["Requires-Python"] == ">=3.10"
    assert "skmatnet = skmatnet.cli:main" in entry_points
    classifiers = set(metadata.get_all("Classifier"))
    assert {"Typing :: Typed", "Programming Language :: Python :: 3 :: Only",
            "Development Status :: 3 - Alpha", "Operating System :: OS Independent",
            "Topic :: Scientific/Engineering :: Chemistry",
            "Topic :: Scientific/Engineering :: Physics"} <= classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX field says it
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert set(urls) == {"Homepage", "Documentation", "Source", "Issues", "Changelog"}
    assert all(url.startswith("https://") for url in urls.values())


def test_wheel_holds_the_pretrained_models_and_their_manifest(dist):
    models = "skmatnet/pretrained/models/"
    manifest = json.loads((REPO_ROOT / models / "manifest.json").read_text())
    with zipfile.ZipFile(dist["wheel"]) as archive:
        names = set(archive.namelist())
        assert json.loads(archive.read(models + "manifest.json")) == manifest
        for entry in manifest["models"]:
            assert models + entry["file"] in names, entry["file"]
            assert archive.getinfo(models + entry["file"]).file_size == entry["bytes"]


def test_readme_links_work_on_a_package_index(dist):
    """The long description is the README: on a package index a relative link leads nowhere."""
    with zipfile.ZipFile(dist["wheel"]) as archive:
        description = _metadata(
            archive.read(f"skmatnet-{VERSION}.dist-info/METADATA").decode()).get_payload()
    links = re.findall(r"\]\(([^)\s]+)\)", description)
    assert links
    relative = [link for link in links if not link.startswith(("https://", "http://", "#"))]
    assert not relative, f"relative links in README.md: {relative}"


def test_twine_check_passes(dist):
    result = _run([sys.executable, "-m", "twine", "check", "--strict",
                   str(dist["sdist"]), str(dist["wheel"])])
    assert result.stdout.count("PASSED") == 2, result.stdout


def _site_directories() -> list[str]:
    """Where this interpreter finds its packages (a virtual environment's own site-packages are
    not the base interpreter's, which is all ``--system-site-packages`` would add)."""
    paths = [*sys.path, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    return list(dict.fromkeys(
        p for p in paths if p and Path(p).is_dir() and Path(p).name in ("site-packages",
                                                                       "dist-packages")))


_SMOKE = textwrap.dedent("""
    import json
    from importlib.metadata import distribution

    import numpy as np
    import torch

    torch.set_num_threads(1)

    import skmatnet
    from sklearn.pipeline import Pipeline
    from skmatnet import BRNetRegressor, ElementFractionTransformer, load_dataset

    formulas, y = load_dataset("jarvis_formation_energy", return_X_y=True)
    rows = np.random.default_rng(0).choice(len(y), size=200, replace=False)
    formulas, y = formulas.to_numpy(dtype=object)[rows], np.asarray(y)[rows]
    model = Pipeline([
        ("ef", ElementFractionTransformer()),
        ("net", BRNetRegressor(max_epochs=2, random_state=0, device="cpu")),
    ]).fit(formulas, y)
    predictions = model.predict(formulas[:50])
    files = {str(f) for f in distribution("skmatnet").files}
    from skmatnet.pretrained import _zoo, list_models, load_pretrained, model_path

    zoo = list_models()
    verified = [model_path(name).is_file() for name in zoo["name"]]  # sizes and sha256s
    # every bundled model predicts from the installed files, by name
    bundled = {name: float(np.ravel(load_pretrained(name).predict(["NaCl"]))[0])
               for name in zoo["name"]}
    print(json.dumps({
        "file": skmatnet.__file__,
        "version": skmatnet.__version__,
        "metadata_version": distribution("skmatnet").version,
        "py_typed": "skmatnet/py.typed" in files,
        "n_epochs": int(model[-1].n_epochs_),
        "predictions": predictions.tolist(),
        "pretrained": {"dir": str(_zoo._models_dir()), "names": zoo["name"].tolist(),
                       "columns": list(zoo.columns), "verified": verified,
                       "NaCl": bundled},
    }))
""")


@needs_data
def test_wheel_installs_and_fits_in_a_fresh_environment(dist, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False, symlinks=os.name != "nt").create(
        env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env_site = Path(_run([str(python), "-c", "import sysconfig; "
                          "print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # torch, scikit-learn, skorch, pip, ... come from this environment: its site directories
    # go after the new environment's own (a path in a .pth file is appended; the .pth files
    # inside it, such as an editable install of skmatnet, are not run).
    (env_site / "_skmatnet_test_deps.pth").write_text("\n".join(_site_directories()) + "\n")

    run_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    run_env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONNOUSERSITE="1",
                   PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                   SKMATNET_DATA=str(SHARED or os.environ.get("SKMATNET_DATA", "")))
    outside = tmp_path / "elsewhere"  # not the checkout: `import skmatnet` cannot find it
    outside.mkdir()
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
          str(dist["wheel"])], cwd=outside, env=run_env)
    script = outside / "smoke.py"
    script.write_text(_SMOKE)
    result = json.loads(
        _run([str(python), str(script)], cwd=outside, env=run_env).stdout.strip().splitlines()[-1])

    installed_at = Path(result["file"]).resolve()
    assert installed_at.is_relative_to(env_site.resolve()), installed_at
    assert not installed_at.is_relative_to(REPO_ROOT)
    assert result["version"] == result["metadata_version"] == VERSION
    assert result["py_typed"]
    assert result["n_epochs"] == 2
    predictions = result["predictions"]
    assert len(predictions) == 50
    assert all(isinstance(p, float) and p == p and abs(p) != float("inf") for p in predictions)
    # the bundled models' manifest is read from the installed package
    zoo = result["pretrained"]
    assert Path(zoo["dir"]).resolve().is_relative_to(env_site.resolve()), zoo["dir"]
    shipped = json.loads((REPO_ROOT / "skmatnet/pretrained/models/manifest.json").read_text())
    assert zoo["names"] == [entry["name"] for entry in shipped["models"]]
    assert zoo["columns"][:3] == ["name", "target", "units"]
    assert all(zoo["verified"])
    assert sorted(zoo["NaCl"]) == sorted(zoo["names"])  # each bundled model predicted
    assert all(v == v for v in zoo["NaCl"].values())
