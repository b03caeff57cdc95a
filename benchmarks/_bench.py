"""Helpers shared by the training, prediction and memory benchmarks.

Device and thread setup, timing with CUDA synchronisation, the measured matmul
peak, and the real data sets the benchmarks train on (JARVIS formation energy
under the BRNet protocol, all OQMD band-gap formulas).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _common import cpu_model

from skmatnet._registry import NETWORK_SPECS

#: Network name -> estimator class name in skmatnet (all at their published size by default).
ESTIMATORS = {spec.name: spec.regressor for spec in NETWORK_SPECS if spec.regressor}

#: A reduced-width BRNet (same depth and branches, widths / 4: 16x fewer weights) for quick runs.
SMALL_BRNET = {"stage_widths": (256, 128, 64, 32, 16, 8)}

#: Tatis et al. (IEEE Big Data 2021), Table II: prediction of ~34k OQMD test compounds in
#: ~5.4 s on an NVIDIA V100 (IRNet), i.e. about 6.3k compounds/s.
TATIS_V100_COMPOUNDS = 34_000
TATIS_V100_SECONDS = 5.4
TATIS_V100_RATE = TATIS_V100_COMPOUNDS / TATIS_V100_SECONDS


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto",
                        help='"auto" (CUDA when available, else CPU), "cpu", "cuda", "cuda:1"')
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="torch intra-op threads (default: all %(default)s cores)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, for the test suite: checks that the script runs")


def setup(args) -> dict:
    """Resolve the device, set the thread count; return the facts to record."""
    device = args.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    args.device = device
    torch.set_num_threads(args.threads)
    return {
        "device": device,
        "device_name": device_name(device),
        "threads": torch.get_num_threads(),
        "cpu_model": cpu_model(),
        "smoke": bool(args.smoke),
        "command": "python " + " ".join([_relative(sys.argv[0]), *sys.argv[1:]]),
    }


def _relative(path: str) -> str:
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def is_cuda(device) -> bool:
    return torch.device(device).type == "cuda"


def device_name(device) -> str:
    if is_cuda(device):
        return torch.cuda.get_device_name(torch.device(device))
    return f"CPU: {cpu_model()}, {torch.get_num_threads()} threads"


def sync(device) -> None:
    if is_cuda(device):
        torch.cuda.synchronize(torch.device(device))


def timer(device) -> float:
    """``time.perf_counter()`` after the device has finished its queued work."""
    sync(device)
    return time.perf_counter()


def matmul_peak(device, size: int | None = None, repeats: int = 5) -> dict:
    """Measured float32 matmul rate (FLOP/s) of ``torch.mm`` on square matrices.

    TF32 is switched off for the measurement, so on a GPU this is the plain
    float32 peak the training compares against.
    """
    size = size or (8192 if is_cuda(device) else 2048)
    a = torch.rand(size, size, device=device)
    b = torch.rand(size, size, device=device)
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        torch.mm(a, b)
        best = np.inf
        for _ in range(repeats):
            start = timer(device)
            torch.mm(a, b)
            best = min(best, timer(device) - start)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved
    return {"size": size, "seconds": best, "flops": 2 * size**3 / best}


def jarvis_features(rows: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Element fractions and formation energies of JARVIS (deduplicated to the minimum).

    ``rows`` picks a random subset of that many rows (all 26,741 when None).
    """
    from skmatnet import element_fractions
    from skmatnet.datasets import load_dataset

    data = load_dataset("jarvis_formation_energy", dedupe="min")
    return _subset(element_fractions(data["formula"]), data["target"].to_numpy(), rows, seed)


def oqmd_features(rows: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Element fractions and band gaps of all 341,608 OQMD rows (train + val + test)."""
    from skmatnet import element_fractions
    from skmatnet.datasets import load_dataset

    data = load_dataset("oqmd_bandgap", dedupe=None)
    return _subset(element_fractions(data["formula"]), data["target"].to_numpy(), rows, seed)


def _subset(X, y, rows, seed):
    y = y.astype(np.float32)
    if rows is None or rows >= len(X):
        return X, y
    keep = np.sort(np.random.default_rng(seed).choice(len(X), rows, replace=False))
    return X[keep], y[keep]


def brnet_protocol(dataset: str = "jarvis_formation_energy") -> dict:
    """The BRNet protocol on ``dataset`` (default JARVIS formation energy): dedupe to
    the minimum per composition, 81:9:10 split stratified on the element count,
    seed 1234567."""
    from skmatnet import element_fractions, train_val_test_split
    from skmatnet.datasets import load_dataset

    data = load_dataset(dataset, dedupe="min")
    X = element_fractions(data["formula"])
    y = data["target"].to_numpy(dtype=np.float32)
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val,
            "X_test": X_test, "y_test": y_test}


def parse_rows(value: str) -> int | None:
    return None if value == "all" else int(value)


def mean_abs_error(net, X: np.ndarray, y: np.ndarray, batch_size: int = 4096) -> float:
    """MAE of a skorch net on (X, y) computed on the device without touching any
    random state (so it can run inside a fit without changing the training)."""
    module = net.module_
    was_training = module.training
    module.eval()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, len(X), batch_size):
            xb = torch.as_tensor(X[start:start + batch_size]).to(net.device)
            yb = torch.as_tensor(y[start:start + batch_size]).to(net.device).reshape(len(xb), -1)
            out = net.infer(xb)
            total += float((out.float() - yb).abs().sum())
    module.train(was_training)
    return total / len(X)


def fmt(value, digits: int = 3):
    """Round for a table; None stays empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, digits)
    return value
