"""Build the documentation site and read what it links to (shared by the docs tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


@dataclass
class BuiltDocs:
    html: Path
    returncode: int
    stderr: str


def build_docs(folder: Path, data_dir: Path) -> BuiltDocs:
    for module in ("sphinx", "myst_parser", "pydata_sphinx_theme", "sphinx_gallery", "numpydoc",
                   "sphinx_design", "matplotlib"):
        pytest.importorskip(module)
    html = folder / "html"
    env = {**os.environ, "SKMATNET_DATA": str(data_dir), "SKMATNET_DOCS_OFFLINE": "1",
           "SKMATNET_DOCS_RERUN": "1",
           "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(folder / "doctrees"), str(DOCS), str(html)],
        capture_output=True, text=True, timeout=1800, env=env, cwd=REPO,
    )
    return BuiltDocs(html, result.returncode, result.stderr)


@dataclass
class Page:
    """The ids a built page defines and the addresses its links and images point to."""

    ids: set[str]
    links: list[str]
    images: list[str]


# Sphinx writes its attributes double-quoted; regular expressions read its pages several
# times faster than an HTML parser, which matters over the few hundred pages of the site.
_ID = re.compile(r'<[a-zA-Z][^>]*?\s(?:id|name)="([^"]+)"')
_HREF = re.compile(r'<a\s[^>]*?href="([^"]+)"')
_SRC = re.compile(r'<img\s[^>]*?src="([^"]+)"')


def read_page(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    return Page({unescape(i) for i in _ID.findall(text)},
                [unescape(a) for a in _HREF.findall(text)],
                [unescape(a) for a in _SRC.findall(text)])


def is_local(address: str) -> bool:
    parts = urlsplit(address)
    return not parts.scheme and not parts.netloc and not address.startswith("mailto:")


def broken_local_references(root: Path, page_path: Path, cache: dict) -> list[str]:
    """Local links and images of one built page whose file or anchor does not exist."""
    page = cache.setdefault(page_path, read_page(page_path))
    broken = []
    for kind, addresses in (("link", page.links), ("image", page.images)):
        for address in addresses:
            if not is_local(address):
                continue
            parts = urlsplit(address)
            target = (page_path.parent / unquote(parts.path)).resolve() if parts.path \
                else page_path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or root.resolve() not in target.parents:
                broken.append(f"{kind} {address!r}: no file {target}")
            elif kind == "link" and parts.fragment and target.suffix == ".html":
                ids = cache.setdefault(target, read_page(target)).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"link {address!r}: no id {parts.fragment!r} in {target.name}")
    return broken
