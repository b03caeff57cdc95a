"""The examples run end to end (quick settings) on the real data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize(
    "script, args, expected",
    [
        ("featurize_dataset.py", [], "distinct compositions"),
        ("pipeline_quickstart.py", ["--quick"], "test MAE"),
        ("grid_search.py", ["--quick"], "best:"),
        ("save_and_load.py", ["--quick"], "identical: True"),
        ("classify_metals.py", ["--quick"], "BRNetClassifier: ROC-AUC"),
        ("fine_tune.py", ["--quick"], "95% intervals hold for"),
        ("screen_li_mn_o.py", ["--quick"], "candidates are in Materials Project"),
    ],
)
def test_example_runs(script, args, expected, data_dir):
    env = {**os.environ, "SKMATNET_DATA": str(data_dir), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, str(EXAMPLES / script), *args], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert expected in result.stdout
