"""Sphinx configuration for the skmatnet documentation.

The site is built with ``make docs`` (warnings are errors). The example gallery runs every
script of ``examples/`` at its quick settings; ``SKMATNET_DOCS_OFFLINE=1`` (set by the test
suite) reads the cross-reference inventories from ``docs/_inventories`` only, without trying
the network first; ``SKMATNET_DOCS_RERUN=1`` (also set by the suite) reruns every example,
not only those changed since the last build.
"""

import os
import sys
from pathlib import Path

import skmatnet

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "skmatnet"
author = "skmatnet developers"
copyright = "2026, skmatnet developers"
release = version = skmatnet.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_design",
    "sphinx_gallery.gen_gallery",
    "cli_reference",  # docs/_ext: the command-line reference, generated from the parsers
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_inventories", "_ext", "_templates"]
templates_path = ["_templates"]
suppress_warnings = ["myst.header"]
myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3

# -- API reference: one page per public class and function -----------------------------
autosummary_generate = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
# Types in parameter lists link to their pages; the words that name no type stay plain text.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {
    "of", "or", "and", "default", "optional", "shape", "class", "classes", "instance", "the",
    "a", "an", "one", "each", "per", "any", "same", "as", "with", "length", "like", "if",
    "in", "to", "from", "name", "names", "value", "values", "n_samples", "n_features",
    "n_outputs", "n_classes", "n_components", "n_rows", "n_candidates", "object", "type",
    "subclass", "sequence", "mapping", "iterable", "number", "numbers", "positive", "keyword",
    "arguments", "fitted", "estimator", "model", "models", "file", "path", "string", "torch",
    "optimizer", "loss", "matplotlib", "numeric", "n", "label", "ints", "floats", "arrays",
    "formulas", "indexables", "seconds", "sequences", "score", "splitter", "regressor",
    "regressors", "mae", "s", "n_levels", "n_formulas", "y_true_positive", "DataFile",
}
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
    "Pipeline": "sklearn.pipeline.Pipeline",
    "Module": "torch.nn.Module",
    "nn.Module": "torch.nn.Module",
    "Generator": "numpy.random.Generator",
    "RandomState": "numpy.random.RandomState",
    "Client": "distributed.Client",
    "Axes": "matplotlib.axes.Axes",
    "path-like": "os.PathLike",
    "callable": "collections.abc.Callable",
    "skorch.History": "skorch.history.History",
    "float64": "numpy.float64",
    "float32": "numpy.float32",
    "int64": "numpy.int64",
    "dtype": "numpy.dtype",
    "Task": "skmatnet.benchmark.Task",
    "FormulaError": "skmatnet.FormulaError",
    "BenchmarkError": "skmatnet.benchmark.BenchmarkError",
    "DownloadError": "skmatnet.datasets.DownloadError",
    "DataNotFoundError": "skmatnet.datasets.DataNotFoundError",
    "ChecksumError": "skmatnet.datasets.ChecksumError",
    "MatNetRegressor": "skmatnet.MatNetRegressor",
    "MatNetClassifier": "skmatnet.MatNetClassifier",
    "ElementFractionTransformer": "skmatnet.ElementFractionTransformer",
    "CompositionSpace": "skmatnet.screening.CompositionSpace",
    "ScreeningResult": "skmatnet.screening.ScreeningResult",
    "BenchmarkConfig": "skmatnet.benchmark.BenchmarkConfig",
    "BenchmarkResult": "skmatnet.benchmark.BenchmarkResult",
    "BenchmarkData": "skmatnet.benchmark.BenchmarkData",
    "Split": "skmatnet.benchmark.Split",
}

# -- Cross-links to the libraries skmatnet builds on ------------------------------------
# Each inventory is fetched from its site, or, offline (CI has no internet but the package
# registries), read from the copy in docs/_inventories (see its README).
_INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "sklearn": "https://scikit-learn.org/stable/",
    "skorch": "https://skorch.readthedocs.io/en/stable/",
    "torch": "https://docs.pytorch.org/docs/stable/",
    "matplotlib": "https://matplotlib.org/stable/",
    "joblib": "https://joblib.readthedocs.io/en/stable/",
    "distributed": "https://distributed.dask.org/en/stable/",
}
_OFFLINE = os.environ.get("SKMATNET_DOCS_OFFLINE", "") not in ("", "0")


def _inventory_sources(name):
    local = str(HERE / "_inventories" / f"{name}.inv")
    return (local,) if _OFFLINE else (None, local)


intersphinx_mapping = {name: (url, _inventory_sources(name)) for name, url in _INVENTORIES.items()}
intersphinx_timeout = 5

# -- Example gallery --------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",  # run every example, not only plot_*.py
    "subsection_order": "gallery_order.SUBSECTIONS",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "doc_module": ("skmatnet",),
    "backreferences_dir": "generated/backreferences",
    "show_memory": False,
    "min_reported_time": 1,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "download_all_examples": False,
    "image_srcset": [],
    "capture_repr": (),
    # The test suite runs every example on each build, changed or not (it is their test).
    "run_stale_examples": os.environ.get("SKMATNET_DOCS_RERUN", "") not in ("", "0"),
}

# -- HTML -------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "skmatnet"  # the release is shown beside it (_templates/version.html)
html_static_path = ["_static"]
html_css_files = ["skmatnet.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_start": ["navbar-logo", "version"],
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "secondary_sidebar_items": ["page-toc"],
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
    "navigation_with_keys": False,
    "show_prev_next": True,
}
html_sidebars = {"index": [], "getting_started": []}
html_context = {"default_mode": "light"}
