"""The dataset catalog: what each dataset is, where its files are published, and
their sha256s, sizes, row counts, citations and licences. Nothing here touches a file."""

from __future__ import annotations

from dataclasses import dataclass


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
