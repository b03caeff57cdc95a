"""The documentation site: built without a warning, every example rendered with its output
and figures, one page per public class and function, and no broken local link or image.

The site is built once per session (``built_docs`` in conftest.py); the gallery build is
also what runs the examples.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from docs_site import DOCS, REPO, broken_local_references, read_page

import skmatnet

EXAMPLES = REPO / "examples"

#: What each example prints (its rendered output must hold it), and whether it draws.
EXPECTED = {
    "basics/first_model": ("trained on 26,741 compositions", False),
    "basics/tutorial": ("identical: True", True),
    "basics/featurize_dataset": ("featurized 26,741 x 86 float32", True),
    "basics/validation_set": ("validation MAE of the fitted model", True),
    "basics/save_and_load": ("identical predictions: True", False),
    "basics/command_line": ("4 predictions written to predicted.csv", False),
    "training/time_to_accuracy": ("test MAE", True),
    "training/grid_search": ("best:", True),
    "training/dask_tuning": ("best:", True),
    "training/fine_tune": ("95% intervals hold for", True),
    "training/fine_tune_pretrained": ("fine-tuned from mp_formation_energy: test MAE", True),
    "training/extra_inputs": ("inputs: 86 and 87", True),
    "uncertainty/ensemble_calibration": ("calibrated", True),
    "classification/classify_metals": ("BRNetClassifier: ROC-AUC", True),
    "benchmark/compare_models": ("brnet", True),
    "screening/screen_li_mn_o": ("candidates are in Materials Project", True),
    "screening/discovery_loop": ("times random", True),
}


def test_docs_build_without_warnings(built_docs):
    assert built_docs.returncode == 0, built_docs.stderr[-6000:]
    for page in ("index", "getting_started", "user_guide", "api", "benchmarks", "performance",
                 "architecture", "auto_examples/index"):
        assert (built_docs.html / f"{page}.html").is_file(), page


def test_every_example_is_in_the_gallery_with_its_output_and_figures(built_docs):
    scripts = {str(p.relative_to(EXAMPLES).with_suffix("")) for p in EXAMPLES.rglob("*.py")}
    assert scripts == set(EXPECTED), "list each example in EXPECTED (and its gallery_order)"
    gallery = (built_docs.html / "auto_examples" / "index.html").read_text()
    for name, (printed, draws) in EXPECTED.items():
        page = built_docs.html / "auto_examples" / f"{name}.html"
        assert page.is_file(), name
        assert f"{name}.html" in gallery, f"{name} is missing from the gallery index"
        text = page.read_text()
        assert "sphx-glr-script-out" in text, f"{name}: no printed output rendered"
        assert printed in text, f"{name}: {printed!r} not in its rendered output"
        assert "Traceback" not in text, name
        stem = Path(name).name
        figures = sorted((built_docs.html / "_images").glob(f"sphx_glr_{stem}_0*.png"))
        if draws:
            assert figures, f"{name}: no figure rendered"
            assert all(f"_images/{f.name}" in text for f in figures), name
            assert all(f.stat().st_size > 5000 for f in figures), name


def test_gallery_examples_state_their_full_settings():
    for path in EXAMPLES.rglob("*.py"):
        source = path.read_text()
        assert source.startswith('"""\n'), path  # sphinx-gallery's title block
        assert re.search(r"^# Settings: ", source, re.M), path


def _api_names():
    """Every name listed in the API page's autosummary tables, fully qualified."""
    names, module = [], None
    for line in (DOCS / "api.md").read_text().splitlines():
        if line.startswith(".. currentmodule::"):
            module = line.split("::")[1].strip()
        elif re.fullmatch(r"   [A-Za-z_][\w.]*", line):
            names.append(f"{module}.{line.strip()}")
    return names


def test_every_public_name_has_an_api_page(built_docs):
    names = _api_names()
    assert len(names) > 80
    exported = {f"skmatnet.{name}" for name in skmatnet.__all__} - {"skmatnet.__version__",
                                                                    "skmatnet.ELEMENTS"}
    missing = exported - set(names)
    assert not missing, f"public names without an API page: {sorted(missing)}"
    for name in names:
        page = built_docs.html / "generated" / f"{name}.html"
        assert page.is_file(), name
        assert f'id="{name}"' in page.read_text(), name


def test_api_pages_render_numpydoc_sections_and_link_to_other_projects(built_docs):
    page = (built_docs.html / "generated" / "skmatnet.BRNetRegressor.html").read_text()
    for section in ("Parameters", "Attributes", "Examples"):
        assert f">{section}<" in page, section
    assert "Examples using" in page  # the mini-gallery of the examples that use it
    assert "auto_examples/basics/first_model.html" in page
    transformer = (built_docs.html / "generated" /
                   "skmatnet.ElementFractionTransformer.html").read_text()
    external = set(re.findall(r'href="(https://[^"#]+)', page + transformer))
    for site in ("https://numpy.org/doc/stable/", "https://docs.pytorch.org/docs/stable/",
                 "https://scikit-learn.org/stable/"):
        assert any(link.startswith(site) for link in external), (site, sorted(external))


def test_offline_inventories_hold_the_names_the_docs_use():
    from sphinx.util.inventory import InventoryFile

    expected = {
        "sklearn": ["sklearn.pipeline.Pipeline", "sklearn.model_selection.GridSearchCV",
                    "sklearn.base.BaseEstimator"],
        "skorch": ["skorch.net.NeuralNet", "skorch.NeuralNetRegressor"],
        "torch": ["torch.nn.Module", "torch.optim.AdamW", "torch.device"],
        "numpy": ["numpy.ndarray", "numpy.random.Generator"],
        "pandas": ["pandas.DataFrame", "pandas.read_csv"],
        "python": ["os.PathLike", "pathlib.Path", "int"],
    }
    for name, objects in expected.items():
        raw = (DOCS / "_inventories" / f"{name}.inv").read_bytes()
        header, _, body = raw.partition(b"compressed using zlib.\n")
        assert header.startswith(b"# Sphinx inventory version 2"), name
        assert zlib.decompress(body)  # not truncated
        with (DOCS / "_inventories" / f"{name}.inv").open("rb") as stream:
            inventory = InventoryFile.load(stream, "https://example.org/", lambda a, b: a + b)
        listed = {key for entries in inventory.values() for key in entries}
        for obj in objects:
            assert obj in listed, (name, obj)


def test_the_version_is_shown(built_docs):
    assert f"v{skmatnet.__version__}" in (built_docs.html / "index.html").read_text()


def test_no_page_has_a_broken_local_link_or_image(built_docs):
    root = built_docs.html
    cache: dict = {}
    broken = []
    pages = [p for p in root.rglob("*.html") if "_modules" not in p.parts]
    assert len(pages) > 100
    for page in pages:
        broken += [f"{page.relative_to(root)}: {b}" for b in
                   broken_local_references(root, page, cache)]
    assert not broken, "\n".join(broken[:40])


def test_pages_use_the_theme_and_its_sections(built_docs):
    index = read_page(built_docs.html / "index.html")
    text = (built_docs.html / "index.html").read_text()
    assert "pydata-sphinx-theme" in text or "pst-" in text
    for section in ("Getting started", "User guide", "Examples", "API reference",
                    "Benchmarks and results", "Performance", "Architecture"):
        assert section in text, section
    assert any(link.endswith("auto_examples/index.html") for link in index.links)


def test_the_command_line_reference_lists_every_command_and_option(built_docs):
    """docs/cli.md is generated from the parsers (docs/_ext/cli_reference.py): the built page
    has a section per command and every option (tests/test_cli_reference.py checks the
    directive itself against argparse)."""
    import sys
    from html import unescape

    sys.path.insert(0, str(DOCS / "_ext"))
    from cli_reference import commands

    html = (built_docs.html / "cli.html").read_text()
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    for command in commands():
        assert f'id="{command.prog.replace(" ", "-")}"' in html, command.prog
        for option in command.options:
            assert option.flags in text, (command.prog, option.flags)
    assert any(link.endswith("faq.html") for link in
               read_page(built_docs.html / "getting_started.html").links)
