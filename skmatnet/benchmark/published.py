"""Published test MAEs to show beside a benchmark's own numbers.

One table, :data:`PUBLISHED`: dataset x model x protocol -> MAE (and training
time where the paper gives it), each with its source. The numbers are those of
the papers as collected in the project's protocol notes; a paper's dataset is
often an older or differently filtered release than the copy a loader gets
today, which each entry's ``note`` says.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PUBLISHED", "SOURCES", "PublishedResult", "published_result"]

#: Citation strings of the sources, by key.
SOURCES = {
    "brnet-t1": (
        "V. Gupta, W.-k. Liao, A. Choudhary, A. Agrawal, 'BRNet: Branched Residual Network for "
        "Fast and Accurate Predictive Modeling of Materials Properties', SDM 2022, Tables 1 and 3"
    ),
    "brnet-t4": (
        "V. Gupta, W.-k. Liao, A. Choudhary, A. Agrawal, 'BRNet: Branched Residual Network for "
        "Fast and Accurate Predictive Modeling of Materials Properties', SDM 2022, Table 4"
    ),
    "tatis": "Tatis et al., IEEE Big Data 2021 (FCMnR, FCUNet), Table I",
    "crabnet": (
        "A. Wang et al., CrabNet repository (anthony-wang/CrabNet), metrics/all_metrics.csv: "
        "test MAE on its 70/15/15 split"
    ),
}


@dataclass(frozen=True)
class PublishedResult:
    """One published test MAE.

    Attributes
    ----------
    dataset : str
        skmatnet dataset name whose property and database the paper used.
    model : str
        Benchmark model name (``automl``, ``tradml``, ``elemnet``, ...).
    mae : float
        Published test MAE, in the dataset's units.
    protocol : str
        The protocol the paper used (``brnet``, ``tatis`` or ``published``).
    source : str
        Key of :data:`SOURCES`.
    train_time_s : float or None
        Published training time in seconds, where given.
    note : str
        How the paper's data or model differs from the benchmark's.
    """

    dataset: str
    model: str
    mae: float
    protocol: str
    source: str
    train_time_s: float | None = None
    note: str = ""

    @property
    def citation(self) -> str:
        """str : The full citation of :attr:`source`."""
        return SOURCES[self.source]


def _brnet_row(dataset, note, values, times=None, source="brnet-t1"):
    models = ("tradml", "automl", "elemnet", "irnet", "bnet", "brnet")
    if len(values) == 5:
        models = models[1:]
    times = times or {}
    return [
        PublishedResult(dataset, m, v, "brnet", source, times.get(m), note)
        for m, v in zip(models, values, strict=True)
        if v is not None
    ]


_JARVIS_NOTE = (
    "paper: JARVIS release with 19,994 compounds after deduplication; the copy loaded here is "
    "a newer release (26,741)"
)
_MP_NOTE = "paper: 89,181 MP compounds; the copy here (matbench_mp_e_form) has 95,118"
_OQMD_NOTE = (
    "paper: ElemNet's filtered OQMD set (341k); the copy here is CrabNet's unfiltered "
    "validation and test thirds only"
)
_TATIS_NOTE = (
    "paper: ElemNet's OQMD 307k/34k split, fold model picked by its test MAE (selection on "
    "test data)"
)

#: Every published number the benchmark knows.
PUBLISHED: tuple[PublishedResult, ...] = tuple(
    _brnet_row(
        "jarvis_formation_energy", _JARVIS_NOTE, (0.135, 0.129, 0.083, 0.094, 0.071, 0.070),
        {"elemnet": 2036, "irnet": 3547, "bnet": 1913, "brnet": 4467},
    )
    + _brnet_row(
        "mp_formation_energy", _MP_NOTE, (0.178, 0.167, 0.118, 0.117, 0.112, 0.106),
        {"elemnet": 5428, "irnet": 25249, "bnet": 8367, "brnet": 15677},
    )
    + _brnet_row(
        "oqmd_formation_enthalpy", _OQMD_NOTE, (0.166, 0.149, 0.049, 0.042, 0.042, 0.041),
        {"elemnet": 70851, "irnet": 258367, "bnet": 97587, "brnet": 106658},
    )
    + _brnet_row(
        "jarvis_optb88vdw_bandgap",
        "paper: JARVIS release with 17,924 compounds; the copy here is newer and larger",
        (0.345, 0.306, 0.301, 0.267, 0.257), source="brnet-t4",
    )
    + _brnet_row(
        "oqmd_bandgap",
        "paper: ElemNet-style OQMD band-gap set; the copy here is CrabNet's 341,608-row set",
        (0.075, 0.143, 0.054, 0.050, 0.048), source="brnet-t4",
    )
    + [
        PublishedResult("oqmd_bandgap", "elemnet", 0.1477, "published", "crabnet",
                        note="ElemNet as trained by the CrabNet authors on this split"),
        PublishedResult("oqmd_formation_enthalpy", "fcmnr", 0.0511, "tatis", "tatis",
                        note=_TATIS_NOTE),
        PublishedResult("oqmd_formation_enthalpy", "fcunet", 0.0397, "tatis", "tatis",
                        note=_TATIS_NOTE),
        PublishedResult("oqmd_formation_enthalpy", "irnet", 0.0338, "tatis", "tatis",
                        note=_TATIS_NOTE + "; 'IRNet with cross-validation'"),
        PublishedResult("oqmd_formation_enthalpy", "elemnet", 0.0437, "tatis", "tatis",
                        note=_TATIS_NOTE + "; ElemNet as quoted there"),
    ]
)


def published_result(dataset: str, model: str, protocol: str) -> PublishedResult | None:
    """The published number for a dataset, model and protocol, if any.

    Parameters
    ----------
    dataset : str
        skmatnet dataset name (a CSV file has none).
    model : str
        Benchmark model name; a suffix such as ``-ensemble`` is ignored.
    protocol : str
        Only numbers measured under this protocol are returned.

    Returns
    -------
    PublishedResult or None

    Examples
    --------
    >>> published_result("jarvis_formation_energy", "brnet", "brnet").mae
    0.07
    """
    base = model.split("-")[0]
    for entry in PUBLISHED:
        if entry.dataset == dataset and entry.model == base and entry.protocol == protocol:
            return entry
    return None
