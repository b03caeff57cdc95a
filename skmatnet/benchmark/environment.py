"""The record of where a benchmark ran (``environment.json``): versions, machine, device."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

__all__ = ["environment_record"]

def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _git_state() -> dict:
    root = Path(__file__).resolve().parents[2]
    state: dict[str, Any] = {"commit": None, "dirty": None}
    if not (root / ".git").exists():
        return state
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                                capture_output=True, text=True, timeout=10)
        if commit.returncode == 0:
            state["commit"] = commit.stdout.strip()
            status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                                    capture_output=True, text=True, timeout=10)
            if status.returncode == 0:
                state["dirty"] = bool(status.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return state


def environment_record(*, uses_torch: bool, device: str) -> dict:
    """Versions, machine and device, for reproducing a run.

    Parameters
    ----------
    uses_torch : bool
        Whether networks ran (then torch is imported to describe the device).
    device : str
        The requested device (``"auto"``, ``"cpu"``, ``"cuda"``...).

    Returns
    -------
    dict
    """
    import skmatnet

    record: dict[str, Any] = {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "versions": {
            "skmatnet": skmatnet.__version__,
            **{name: _version(dist) for name, dist in [
                ("numpy", "numpy"), ("scipy", "scipy"), ("pandas", "pandas"),
                ("scikit-learn", "scikit-learn"), ("torch", "torch"), ("skorch", "skorch"),
                ("hyperopt", "hyperopt"), ("hyperopt-sklearn", "hyperopt-sklearn"),
                ("matplotlib", "matplotlib"), ("joblib", "joblib"),
            ]},
        },
        "requested_device": device,
        "git": _git_state(),
        "argv": list(sys.argv),
    }
    if uses_torch:
        import torch

        from .._device import resolve_device

        resolved = str(resolve_device(device))
        record["device"] = resolved
        record["torch_threads"] = torch.get_num_threads()
        record["cuda_available"] = bool(torch.cuda.is_available())
        record["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    else:
        record["device"] = "cpu"
    return record
