"""The order of the example gallery: sections as a user meets the tasks, then examples."""

from __future__ import annotations

from pathlib import Path

#: Gallery sections (folders of ``examples/``), in reading order.
SECTIONS = ["basics", "training", "uncertainty", "classification", "benchmark", "screening"]

#: Examples per section, in reading order; an example not listed comes last, by name.
EXAMPLES = {
    "basics": ["first_model.py", "tutorial.py", "featurize_dataset.py", "validation_set.py",
               "save_and_load.py", "command_line.py"],
    "training": ["fine_tune_pretrained.py", "time_to_accuracy.py", "grid_search.py",
                 "dask_tuning.py", "fine_tune.py",
                 "extra_inputs.py"],
    "uncertainty": ["ensemble_calibration.py"],
    "classification": ["classify_metals.py"],
    "benchmark": ["compare_models.py"],
    "screening": ["screen_li_mn_o.py", "discovery_loop.py"],
}


def SUBSECTIONS(path: str) -> tuple[int, str]:
    """Sort key of the gallery's sections (sphinx-gallery's ``subsection_order``)."""
    name = Path(path).name
    return (SECTIONS.index(name) if name in SECTIONS else len(SECTIONS), name)


class ExampleOrder:
    """Sort key of the examples of one section (sphinx-gallery's ``within_subsection_order``)."""

    def __init__(self, src_dir: str) -> None:
        self.order = EXAMPLES.get(Path(src_dir).name, [])

    def __call__(self, filename: str) -> tuple[int, str]:
        rank = self.order.index(filename) if filename in self.order else len(self.order)
        return (rank, filename)
