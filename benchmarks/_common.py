"""Helpers shared by the benchmark scripts: machine facts, tables, result files."""

from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    import numpy
    import torch

    import skmatnet

    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "skmatnet": skmatnet.__version__,
    }


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` of unrounded measurements; NaN where the denominator is not
    positive (a smoke-sized step can take less time than the clock resolves), never an error.
    """
    return numerator / denominator if denominator > 0 else float("nan")


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def save(name: str, rows: list[dict], extra: dict | None = None) -> tuple[Path, Path]:
    RESULTS.mkdir(exist_ok=True)
    json_path = RESULTS / f"{name}.json"
    csv_path = RESULTS / f"{name}.csv"
    json_path.write_text(json.dumps({"machine": machine(), **(extra or {}), "rows": rows},
                                    indent=2))
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path


def print_and_save(name: str, rows: list[dict], info: dict, args) -> tuple[Path, Path]:
    """The usual end of a script: the rows as a table, then saved with the setup, the
    machine and the arguments (``name`` gets ``_smoke`` under ``--smoke``)."""
    print(markdown_table(rows, list(rows[0])))
    info.update(machine())
    paths = save(name + ("_smoke" if args.smoke else ""), rows,
                 {"setup": info, "args": vars(args)})
    print("saved", *paths)
    return paths
