"""Trainable-parameter counts of the skmatnet networks (86 inputs, one output).

Run: ``python benchmarks/param_counts.py``. Prints the Markdown table pasted into
``docs/networks/index.md``. Builds each network on the CPU; takes a few seconds.
"""

from __future__ import annotations

from skmatnet.nets import BNet, BRNet, ElemNet, FCMnR, FCUNet, IRNet, count_parameters

#: (network, constructor as shown, class, kwargs, reference count from the papers or "–")
ROWS = [
    ("ElemNet", "`ElemNet()`", ElemNet, {}, "4,631,361"),
    ("IRNet-17", "`IRNet()`", IRNet, {}, "5,433,697 (paper table: 5,461,473)"),
    ("IRNet-24", "`IRNet(depth=24)`", IRNet, {"depth": 24}, "–"),
    ("IRNet-48", "`IRNet(depth=48)`", IRNet, {"depth": 48}, "–"),
    ("IRNet-17, concat (Tatis)", '`IRNet(variant="concat")`', IRNet, {"variant": "concat"}, "–"),
    ("BRNet", "`BRNet()`", BRNet, {}, "4,548,385"),
    ("BNet", "`BNet()`", BNet, {}, "3,670,849"),
    ("FCMnR (default)", "`FCMnR()`", FCMnR, {}, "–"),
    ("FCMnR (published form)", "`FCMnR(stream_width=1)`", FCMnR, {"stream_width": 1}, "–"),
    ("FCUNet", "`FCUNet()`", FCUNet, {}, "–"),
]


def main() -> None:
    print("| network | constructor | trainable parameters | reference count |")
    print("|---|---|---:|---|")
    for name, shown, cls, kwargs, published in ROWS:
        n = count_parameters(cls(86, 1, **kwargs))
        print(f"| {name} | {shown} | {n:,} | {published} |")


if __name__ == "__main__":
    main()
