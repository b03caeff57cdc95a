"""Trainable-parameter counts of the skmatnet networks (86 inputs, one output).

Run: ``python benchmarks/param_counts.py``. Prints the Markdown table pasted into
``docs/networks/index.md``. Builds each network on the CPU; takes a few seconds.
"""

from __future__ import annotations

from skmatnet._registry import get_spec
from skmatnet.nets import count_parameters, get_network


def _published(name: str) -> str:
    """The registry's published count of network ``name``, as the table shows it."""
    spec = get_spec(name)
    if spec.n_parameters is None:
        return "–"
    return f"{spec.n_parameters:,}" + (f" ({spec.parameter_note})" if spec.parameter_note else "")


#: (row label, constructor as shown, network name, kwargs, reference count or "–")
ROWS = [
    ("ElemNet", "`ElemNet()`", "elemnet", {}, _published("elemnet")),
    ("IRNet-17", "`IRNet()`", "irnet", {}, _published("irnet")),
    ("IRNet-24", "`IRNet(depth=24)`", "irnet", {"depth": 24}, "–"),
    ("IRNet-48", "`IRNet(depth=48)`", "irnet", {"depth": 48}, "–"),
    ("IRNet-17, concat (Tatis)", '`IRNet(variant="concat")`', "irnet", {"variant": "concat"},
     "–"),
    ("BRNet", "`BRNet()`", "brnet", {}, _published("brnet")),
    ("BNet", "`BNet()`", "bnet", {}, _published("bnet")),
    ("FCMnR (default)", "`FCMnR()`", "fcmnr", {}, _published("fcmnr")),
    ("FCMnR (published form)", "`FCMnR(stream_width=1)`", "fcmnr", {"stream_width": 1}, "–"),
    ("FCUNet", "`FCUNet()`", "fcunet", {}, _published("fcunet")),
]


def main() -> None:
    print("| network | constructor | trainable parameters | reference count |")
    print("|---|---|---:|---|")
    for label, shown, network, kwargs, published in ROWS:
        n = count_parameters(get_network(network)(86, 1, **kwargs))
        print(f"| {label} | {shown} | {n:,} | {published} |")


if __name__ == "__main__":
    main()
