"""Dataset loaders: registry, real files, dedupe, checksums, cache, downloads, errors.

No test touches the network: downloads go through a fake ``_urlopen`` that serves
the bytes of the real files in the shared data directory.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import urllib.error
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_data import SHARED, needs_data

from skmatnet import FormulaError, element_fractions
from skmatnet.datasets import (
    ChecksumError,
    DataFile,
    DataNotFoundError,
    DatasetInfo,
    DownloadError,
    _catalog,
    _files,
    dataset_paths,
    describe_dataset,
    get_cache_dir,
    list_datasets,
    load_dataset,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NAMES = [
    "jarvis_formation_energy",
    "jarvis_optb88vdw_bandgap",
    "mp_formation_energy",
    "oqmd_bandgap",
    "oqmd_formation_enthalpy",
]




class NetworkUsed(AssertionError):
    pass


def _no_network(url, timeout):
    raise NetworkUsed(f"test tried to download {url}")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Fresh cache, no SKMATNET_DATA, no network, no remembered verifications."""
    monkeypatch.setenv("SKMATNET_CACHE", str(tmp_path / "cache-root"))
    monkeypatch.delenv("SKMATNET_DATA", raising=False)
    monkeypatch.setattr(_files, "_urlopen", _no_network)
    monkeypatch.setattr(_files, "_VERIFIED", {})


class FakeServer:
    """Stands in for ``urlopen``: serves each registered file's bytes by URL."""

    def __init__(self, payloads: dict[str, bytes]):
        self.payloads = payloads
        self.calls: list[str] = []

    def __call__(self, url, timeout):
        self.calls.append(url)
        return io.BytesIO(self.payloads[url])


def _serve_shared(monkeypatch, name: str) -> FakeServer:
    info = describe_dataset(name)
    server = FakeServer({f.url: (SHARED / f.path).read_bytes() for f in info.files})
    monkeypatch.setattr(_files, "_urlopen", server)
    return server


def _register_toy(monkeypatch, root: Path, files: dict[str, tuple[str, str | None]], **kw):
    """Write CSV texts under ``root`` and register them as dataset ``"toy"``."""
    entries = []
    for rel, (text, split) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode()
        path.write_bytes(data)
        entries.append(
            DataFile(
                path=rel,
                url=f"https://example.invalid/{rel}",
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                n_rows=text.count("\n") - 1,
                split=split,
            )
        )
    info = DatasetInfo(
        name="toy",
        description="toy",
        files=tuple(entries),
        formula_column=kw.get("formula_column", "formula"),
        target_column=kw.get("target_column", "target"),
        target="toy",
        units="eV",
        license="none",
        source="none",
        citation="none",
        n_compositions=0,
    )
    monkeypatch.setitem(_catalog._REGISTRY, "toy", info)
    return info


def _cache_files() -> list[Path]:
    root = get_cache_dir()
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def test_list_datasets():
    assert list_datasets() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_describe_dataset(name):
    info = describe_dataset(name)
    assert info.name == name
    assert info.units in ("eV", "eV/atom")
    assert info.license and info.citation and info.description and info.target
    for file in info.files:
        assert len(file.sha256) == 64 and int(file.sha256, 16) >= 0
        assert file.size > 0 and file.n_rows > 0
        assert file.url.startswith("https://raw.githubusercontent.com/")
        assert file.url.split("/")[5] in info.source  # pinned commit
        assert file.path.split("/")[0] in ("jarvis", "mp", "oqmd")
    assert info.n_compositions <= info.n_rows
    assert info.has_split == (name != "mp_formation_energy")
    assert name in info.summary()


def test_describe_dataset_facts():
    jarvis = describe_dataset("jarvis_formation_energy")
    assert jarvis.splits == ("train", "test")
    assert [f.n_rows for f in jarvis.files] == [25_297, 2_811]
    assert jarvis.files[0].url == (
        "https://raw.githubusercontent.com/NU-CUCIS/CrossPropertyTL/"
        "7258427fb5fe3cd8d34ece0fdfbd33f690d494a6/data/deltae/deltae_training_set.csv"
    )
    assert "JARVIS" in jarvis.citation and "CrossPropertyTL" in jarvis.citation
    oqmd = describe_dataset("oqmd_formation_enthalpy")
    assert oqmd.splits == ("val", "test")
    assert "not included" in oqmd.description
    assert describe_dataset("oqmd_bandgap").n_rows == 341_608
    mp = describe_dataset("mp_formation_energy")
    assert "Materials Project" in mp.citation and "matbench" in mp.citation.lower()
    assert mp.splits == ()
    assert "OQMD" in describe_dataset("oqmd_bandgap").citation


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"unknown dataset 'nope'.*jarvis_formation_energy"):
        describe_dataset("nope")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("nope")


@needs_data
def test_registry_matches_shared_files():
    for name in NAMES:
        for file in describe_dataset(name).files:
            path = SHARED / file.path
            assert path.stat().st_size == file.size, file.path
            assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256, file.path


def test_cache_dir_env(monkeypatch, tmp_path):
    assert get_cache_dir() == tmp_path / "cache-root" / "datasets"
    monkeypatch.delenv("SKMATNET_CACHE")
    assert get_cache_dir().name == "datasets"
    assert "skmatnet" in str(get_cache_dir())


# ---------------------------------------------------------------------------
# The real files
# ---------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize("name", NAMES)
def test_load_every_dataset(name):
    info = describe_dataset(name)
    raw = load_dataset(name, data_home=SHARED, dedupe=None, download=False)
    assert len(raw) == info.n_rows
    assert raw["target"].dtype == np.float64
    assert pd.api.types.infer_dtype(raw["formula"], skipna=False) == "string"
    assert np.isfinite(raw["target"]).all()
    if info.has_split:
        assert list(raw.columns) == ["formula", "target", "split"]
        assert isinstance(raw["split"].dtype, pd.CategoricalDtype)
        assert list(raw["split"].cat.categories) == list(info.splits)
        # Source order: each file's rows, one file after the other.
        expected = np.repeat(info.splits, [f.n_rows for f in info.files])
        assert (raw["split"].astype(str).to_numpy() == expected).all()
    else:
        assert list(raw.columns) == ["formula", "target"]
    assert raw.index.equals(pd.RangeIndex(len(raw)))

    deduped = load_dataset(name, data_home=SHARED, download=False)
    assert len(deduped) == info.n_compositions
    fractions = element_fractions(deduped["formula"])
    assert len({row.tobytes() for row in fractions}) == len(deduped)


@needs_data
def test_first_rows_match_csv():
    data = load_dataset("jarvis_formation_energy", data_home=SHARED, dedupe=None)
    assert data.iloc[0].tolist() == ["YBe2Se", 0.01023, "train"]
    assert data.iloc[25_297].tolist() == ["SrIn4Ir", -0.377, "test"]
    mp = load_dataset("mp_formation_energy", data_home=SHARED, dedupe=None)
    assert mp.iloc[0].tolist() == ["C1Pt1", 1.9953836506249996]


@needs_data
def test_jarvis_brnet_protocol_count():
    raw = load_dataset("jarvis_formation_energy", data_home=SHARED, dedupe=None)
    assert raw.loc[raw["split"] == "train", "formula"].nunique() == 24_163
    assert raw.loc[raw["split"] == "test", "formula"].nunique() == 2_798
    data = load_dataset("jarvis_formation_energy", data_home=SHARED)
    assert len(data) == 26_741  # PROTOCOLS.md: dedupe to the minimum -> 26,741 compounds
    # JARVIS formulas are reduced (pretty) formulas: strings and compositions agree.
    assert data["formula"].nunique() == 26_741
    # Every kept value is its composition's minimum, kept in source order.
    minima = raw.groupby("formula")["target"].min()
    assert (data["target"].to_numpy() == minima[data["formula"]].to_numpy()).all()
    kept = raw.reset_index().merge(data, on=["formula", "target", "split"])
    assert kept["index"].is_monotonic_increasing
    # The kept row keeps its own split; 220 compositions are in both published parts.
    assert data["split"].value_counts().to_dict() == {"train": 24_060, "test": 2_681}


@needs_data
def test_mp_unique_formulas_and_compositions():
    raw = load_dataset("mp_formation_energy", data_home=SHARED, dedupe=None)
    assert len(raw) == 132_752
    assert raw["formula"].nunique() == 106_250  # the README's count, by string
    data = load_dataset("mp_formation_energy", data_home=SHARED)
    # MP formulas are not reduced: Fe2O3 and Fe4O6 are different strings but one
    # composition, so there are fewer compositions than formula strings.
    assert len(data) == 95_118
    assert data["formula"].nunique() == 95_118
    mean = load_dataset("mp_formation_energy", data_home=SHARED, dedupe="mean")
    assert len(mean) == 95_118

    # Mean and min of each composition, matched by composition (rows differ in order).
    def by_composition(frame):
        keys = [row.tobytes() for row in element_fractions(frame["formula"])]
        return pd.Series(frame["target"].to_numpy(), index=keys)

    mean_t, min_t = by_composition(mean), by_composition(data)
    assert (mean_t >= min_t.reindex(mean_t.index) - 1e-12).all()
    assert (mean_t > min_t.reindex(mean_t.index) + 1e-6).sum() > 10_000


@needs_data
def test_return_X_y():
    formulas, target = load_dataset(
        "jarvis_formation_energy", data_home=SHARED, return_X_y=True, download=False
    )
    frame = load_dataset("jarvis_formation_energy", data_home=SHARED)
    assert isinstance(formulas, pd.Series) and formulas.name == "formula"
    assert isinstance(target, np.ndarray) and target.dtype == np.float64
    assert formulas.tolist() == frame["formula"].tolist()
    np.testing.assert_array_equal(target, frame["target"].to_numpy())


@needs_data
def test_is_metal_labels_band_gap_datasets():
    gap = load_dataset("jarvis_optb88vdw_bandgap", data_home=SHARED)
    metal = load_dataset("jarvis_optb88vdw_bandgap", data_home=SHARED, target="is_metal")
    assert metal["target"].dtype == bool and metal["formula"].equals(gap["formula"])
    np.testing.assert_array_equal(metal["target"], gap["target"].to_numpy() == 0)
    assert abs(metal["target"].mean() - 0.713) < 0.001  # 71% of the compositions
    _, y = load_dataset("oqmd_bandgap", data_home=SHARED, target="is_metal",
                        return_X_y=True)
    assert y.dtype == bool and len(y) == 341_608 and 0.9 < y.mean() < 0.95
    with pytest.raises(ValueError, match=r"target must be None or 'is_metal' \(band-gap "
                                         r"datasets: jarvis_optb88vdw_bandgap, oqmd_bandgap\)"):
        load_dataset("mp_formation_energy", data_home=SHARED, target="is_metal")
    with pytest.raises(ValueError, match="got 'gap'"):
        load_dataset("oqmd_bandgap", data_home=SHARED, target="gap")


# ---------------------------------------------------------------------------
# Resolution order, read-only directories
# ---------------------------------------------------------------------------


@needs_data
def test_env_var_is_used(monkeypatch):
    monkeypatch.setenv("SKMATNET_DATA", str(SHARED))
    data = load_dataset("jarvis_optb88vdw_bandgap", download=False)
    assert len(data) == 26_788
    assert _cache_files() == []


def test_resolution_order(monkeypatch, tmp_path):
    text = "formula,target\nNaCl,1.0\n"
    info = _register_toy(monkeypatch, tmp_path / "home", {"toy/a.csv": (text, None)})
    for folder in ("env", "cache-root/datasets"):
        target = tmp_path / folder / "toy" / "a.csv"
        target.parent.mkdir(parents=True)
        target.write_text(text)
    monkeypatch.setenv("SKMATNET_DATA", str(tmp_path / "env"))
    home = tmp_path / "home"

    assert dataset_paths("toy", data_home=home)["toy/a.csv"] == home / "toy" / "a.csv"
    assert dataset_paths("toy")["toy/a.csv"] == tmp_path / "env" / "toy" / "a.csv"
    # A data_home without the file falls through to the next place.
    assert dataset_paths("toy", data_home=tmp_path / "empty")["toy/a.csv"].parent.parent == (
        tmp_path / "env"
    )
    monkeypatch.delenv("SKMATNET_DATA")
    cached = get_cache_dir() / "toy" / "a.csv"
    assert dataset_paths("toy")["toy/a.csv"] == cached
    cached.unlink()
    server = FakeServer({info.files[0].url: text.encode()})
    monkeypatch.setattr(_files, "_urlopen", server)
    assert dataset_paths("toy")["toy/a.csv"] == cached
    assert server.calls == [info.files[0].url]
    assert cached.read_text() == text


@needs_data
def test_read_only_data_home_is_never_written(tmp_path):
    home = tmp_path / "ro"
    shutil.copytree(SHARED / "jarvis", home / "jarvis")
    before = {p: p.stat().st_mtime_ns for p in home.rglob("*")}
    for p in before:
        p.chmod(0o555 if p.is_dir() else 0o444)
    home.chmod(0o555)
    try:
        for dedupe in ("min", None, "mean"):
            load_dataset("jarvis_formation_energy", data_home=home, dedupe=dedupe)
        after = {p: p.stat().st_mtime_ns for p in home.rglob("*")}
    finally:
        home.chmod(0o755)
        for p in home.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert after == before
    assert _cache_files() == []


# ---------------------------------------------------------------------------
# Checksums
# ---------------------------------------------------------------------------


def _corrupt_copy(src: Path, dest: Path) -> None:
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0x01
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(bytes(data))


@needs_data
def test_corrupt_file_in_data_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(SHARED / "jarvis", home / "jarvis")
    bad = home / "jarvis" / "formation_energy_test.csv"
    _corrupt_copy(SHARED / "jarvis" / "formation_energy_test.csv", bad)
    actual = hashlib.sha256(bad.read_bytes()).hexdigest()
    expected = describe_dataset("jarvis_formation_energy").files[1].sha256
    # Even with a good copy in SKMATNET_DATA, a bad one in data_home is an error.
    monkeypatch.setenv("SKMATNET_DATA", str(SHARED))
    with pytest.raises(ChecksumError) as info:
        load_dataset("jarvis_formation_energy", data_home=home)
    message = str(info.value)
    assert str(bad) in message and expected in message and actual in message
    assert isinstance(info.value, ValueError)
    assert (info.value.expected, info.value.actual) == (expected, actual)
    assert _cache_files() == []


@needs_data
def test_corrupt_file_in_env_dir(tmp_path, monkeypatch):
    env = tmp_path / "env"
    _corrupt_copy(SHARED / "mp" / "formation_energy.csv", env / "mp" / "formation_energy.csv")
    monkeypatch.setenv("SKMATNET_DATA", str(env))
    with pytest.raises(ChecksumError, match=r"formation_energy\.csv"):
        load_dataset("mp_formation_energy")


@needs_data
def test_verification_is_remembered(tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(SHARED / "jarvis", home / "jarvis")
    hashed = []
    real_sha256 = _files._sha256
    monkeypatch.setattr(_files, "_sha256", lambda path: hashed.append(path) or real_sha256(path))
    load_dataset("jarvis_formation_energy", data_home=home)
    assert len(hashed) == 2
    load_dataset("jarvis_formation_energy", data_home=home, dedupe=None)
    assert len(hashed) == 2
    # A modified file (new mtime) is hashed again, and caught.
    target = home / "jarvis" / "formation_energy_train.csv"
    _corrupt_copy(target, target)
    with pytest.raises(ChecksumError):
        load_dataset("jarvis_formation_energy", data_home=home)
    assert len(hashed) == 3


# ---------------------------------------------------------------------------
# Cache and downloads (fake server, no network)
# ---------------------------------------------------------------------------


@needs_data
def test_download_into_cache(monkeypatch):
    server = _serve_shared(monkeypatch, "jarvis_formation_energy")
    data = load_dataset("jarvis_formation_energy")
    assert len(data) == 26_741
    assert len(server.calls) == 2
    cache = get_cache_dir()
    assert _cache_files() == [
        cache / "jarvis" / "formation_energy_test.csv",
        cache / "jarvis" / "formation_energy_train.csv",
    ]
    for file in describe_dataset("jarvis_formation_energy").files:
        assert (cache / file.path).read_bytes() == (SHARED / file.path).read_bytes()
    # Served from the cache afterwards, also in a fresh process (verification forgotten).
    monkeypatch.setattr(_files, "_VERIFIED", {})
    assert len(load_dataset("jarvis_formation_energy", download=False)) == 26_741
    assert len(server.calls) == 2


@needs_data
def test_corrupt_cache_is_redownloaded(monkeypatch):
    name = "jarvis_optb88vdw_bandgap"
    cache = get_cache_dir()
    shutil.copytree(SHARED / "jarvis", cache / "jarvis")
    bad = cache / "jarvis" / "optb88vdw_bandgap_test.csv"
    _corrupt_copy(SHARED / "jarvis" / "optb88vdw_bandgap_test.csv", bad)
    server = _serve_shared(monkeypatch, name)
    data = load_dataset(name, dedupe=None)
    assert server.calls == [describe_dataset(name).files[1].url]
    assert bad.read_bytes() == (SHARED / "jarvis" / "optb88vdw_bandgap_test.csv").read_bytes()
    assert len(data) == 28_155


@needs_data
def test_corrupt_cache_without_download(monkeypatch):
    bad = get_cache_dir() / "mp" / "formation_energy.csv"
    _corrupt_copy(SHARED / "mp" / "formation_energy.csv", bad)
    with pytest.raises(DataNotFoundError, match="download=False"):
        load_dataset("mp_formation_energy", download=False)
    assert not bad.exists()  # the corrupt copy is never used, and removed


class _BrokenResponse(io.BytesIO):
    """Sends the first bytes of a file, then the connection drops."""

    def read(self, size=-1):
        if self.tell() > 0:
            raise ConnectionResetError(104, "Connection reset by peer")
        return super().read(1000)


def test_interrupted_download_leaves_nothing(monkeypatch, tmp_path):
    info = _register_toy(
        monkeypatch,
        tmp_path / "src",
        {"toy/a.csv": ("formula,target\n" + "NaCl,1.0\n" * 500, None)},
    )
    payload = (tmp_path / "src" / "toy" / "a.csv").read_bytes()
    monkeypatch.setattr(_files, "_urlopen", lambda url, timeout: _BrokenResponse(payload))
    with pytest.raises(DownloadError, match="Connection reset") as err:
        load_dataset("toy")
    assert info.files[0].url in str(err.value)
    assert _cache_files() == []  # no partial file, no temporary file


def test_download_with_wrong_checksum_is_discarded(monkeypatch, tmp_path):
    info = _register_toy(
        monkeypatch, tmp_path / "src", {"toy/a.csv": ("formula,target\nNaCl,1\n", None)}
    )
    server = FakeServer({info.files[0].url: b"formula,target\nNaCl,2\n"})
    monkeypatch.setattr(_files, "_urlopen", server)
    with pytest.raises(ChecksumError, match="discarded"):
        load_dataset("toy")
    assert _cache_files() == []


@pytest.mark.parametrize(
    "failure",
    [
        urllib.error.URLError(OSError(-3, "Temporary failure in name resolution")),
        urllib.error.HTTPError("https://x", 404, "Not Found", {}, None),
        TimeoutError("timed out"),
    ],
)
def test_offline_error_message(monkeypatch, failure):
    def offline(url, timeout):
        raise failure

    monkeypatch.setattr(_files, "_urlopen", offline)
    with pytest.raises(DownloadError) as err:
        load_dataset("oqmd_formation_enthalpy")
    message = str(err.value)
    url = describe_dataset("oqmd_formation_enthalpy").files[0].url
    assert url in message
    assert "SKMATNET_DATA" in message and "data_home" in message
    assert "oqmd/formation_enthalpy_val.csv" in message
    assert isinstance(err.value, OSError)
    assert _cache_files() == []


def test_download_false_not_found(tmp_path):
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("jarvis_formation_energy", data_home=tmp_path / "nothing", download=False)
    message = str(err.value)
    assert "jarvis/formation_energy_train.csv" in message
    assert str(tmp_path / "nothing") in message and str(get_cache_dir()) in message
    assert "SKMATNET_DATA" in message and "download=True" in message
    assert isinstance(err.value, FileNotFoundError)


def test_unwritable_cache(monkeypatch, tmp_path):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    monkeypatch.setenv("SKMATNET_CACHE", str(blocker))
    with pytest.raises(DownloadError, match="SKMATNET_CACHE"):
        load_dataset("mp_formation_energy")


# ---------------------------------------------------------------------------
# Dedupe semantics and parsing on synthetic files
# ---------------------------------------------------------------------------

TRAIN = """,pretty_comp,y
0,Fe2O3,1.0
1,NaCl,2.0
2,Fe4O6,0.7
3,NaN,5.0
4,Cu,0.0
"""
TEST = """,pretty_comp,y
0,O3Fe2,0.5
1,Cl1Na1,3.0
2,Cu,0.0
"""


@pytest.fixture
def toy(monkeypatch, tmp_path):
    _register_toy(
        monkeypatch,
        tmp_path / "toy-home",
        {"toy/train.csv": (TRAIN, "train"), "toy/test.csv": (TEST, "test")},
        formula_column="pretty_comp",
        target_column="y",
    )
    return tmp_path / "toy-home"


def test_dedupe_none(toy):
    data = load_dataset("toy", data_home=toy, dedupe=None)
    assert data["formula"].tolist() == [
        "Fe2O3",
        "NaCl",
        "Fe4O6",
        "NaN",
        "Cu",
        "O3Fe2",
        "Cl1Na1",
        "Cu",
    ]
    assert data["split"].tolist() == ["train"] * 5 + ["test"] * 3
    assert data["target"].tolist() == [1.0, 2.0, 0.7, 5.0, 0.0, 0.5, 3.0, 0.0]


def test_dedupe_min(toy):
    data = load_dataset("toy", data_home=toy)
    # Fe2O3 = Fe4O6 = O3Fe2: the lowest (O3Fe2, a test row) stays, with its split;
    # NaCl = Cl1Na1: the train row is lower; Cu ties: the first row stays.
    # "NaN" is sodium nitride, not a missing value. Source order is kept.
    assert data.to_dict("list") == {
        "formula": ["NaCl", "NaN", "Cu", "O3Fe2"],
        "target": [2.0, 5.0, 0.0, 0.5],
        "split": ["train", "train", "train", "test"],
    }
    assert list(data["split"].cat.categories) == ["train", "test"]
    assert data.index.equals(pd.RangeIndex(4))


def test_dedupe_mean(toy):
    data = load_dataset("toy", data_home=toy, dedupe="mean")
    assert data["formula"].tolist() == ["Fe2O3", "NaCl", "NaN", "Cu"]
    np.testing.assert_allclose(data["target"], [(1.0 + 0.7 + 0.5) / 3, 2.5, 5.0, 0.0])
    assert data["split"].tolist() == ["train"] * 4


def test_bad_dedupe(toy):
    with pytest.raises(ValueError, match="dedupe"):
        load_dataset("toy", data_home=toy, dedupe="max")


def test_invalid_formula_names_the_file(monkeypatch, tmp_path):
    home = tmp_path / "home"
    _register_toy(monkeypatch, home, {"toy/a.csv": ("formula,target\nNaCl,1\nXx2,2\n", None)})
    with pytest.raises(FormulaError, match=r"a\.csv") as err:
        load_dataset("toy", data_home=home)
    assert "Xx2" in str(err.value)
    assert err.value.problems[0][:2] == (1, "Xx2")
    # Without dedupe, formulas are not parsed.
    assert len(load_dataset("toy", data_home=home, dedupe=None)) == 2
