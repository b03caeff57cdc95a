"""Where the tests find the real datasets (a copy of shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_shared_data() -> Path | None:
    candidates = []
    if os.environ.get("SKMATNET_DATA"):
        candidates.append(Path(os.environ["SKMATNET_DATA"]))
    candidates.append(REPO_ROOT.parent / "shared" / "data")
    for path in candidates:
        if (path / "jarvis" / "formation_energy_train.csv").is_file():
            return path.resolve()
    return None


SHARED = find_shared_data()
# Outside CI a contributor without the data gets a clear skip; in CI the data must be
# there, so these tests run (and fail loudly) rather than skip.
needs_data = pytest.mark.skipif(
    SHARED is None and not os.environ.get("CI"),
    reason="real data not found: set SKMATNET_DATA to a copy of shared/data "
    "(or place it at ../shared/data relative to the repository)",
)
