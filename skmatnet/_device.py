"""Device, numerical precision and random state of the skmatnet estimators.

A mixin for :class:`skmatnet._base.MatNetBase` (through
:class:`skmatnet._training.TrainingMixin`, which builds on it): the ``device``
parameter keeps ``"auto"`` while skorch's internals see the resolved device;
TF32 and bfloat16 are switched on only while the estimator computes; every fit
runs in a forked random state, so the global torch RNG is never touched.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["DeviceMixin", "resolve_device"]

#: Devices whose fused Adam/AdamW kernel a fit uses unless the user picks a kernel. On a CPU
#: the fused step made the epochs of a fit at the defaults 1.6-1.8x faster at batch 16 and
#: 1.1-1.4x at batch 256: torch's default kernel loops over the parameter tensors in Python
#: (benchmarks/adam_kernel.py, docs/performance.md); other devices keep torch's own choice.
FUSED_ADAM_DEVICES = ("cpu", "cuda")


def resolve_device(device: Any) -> Any:
    """Map ``"auto"`` to ``"cuda"`` when a GPU is usable, else ``"cpu"``."""
    if isinstance(device, str) and device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class _Tf32:
    """Allow TF32 CUDA matmuls inside the block, restoring the previous setting after."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __enter__(self):
        if self.enabled:
            self._saved = (torch.backends.cuda.matmul.allow_tf32,
                           torch.backends.cudnn.allow_tf32)
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        return self

    def __exit__(self, *exc):
        if self.enabled:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self._saved
        return False


class DeviceMixin:
    """``device="auto"``, precision options and a private random state for a skorch net."""

    # -- device: the parameter keeps "auto"; skorch's internals see the resolved one

    @property
    def device(self):
        return resolve_device(self.__dict__.get("device", "cpu"))

    @device.setter
    def device(self, value):
        self.__dict__["device"] = value

    def __setstate__(self, state):
        # A model pickled on a GPU loads on a machine without one.
        requested = state.get("device")
        state = dict(state, device=resolve_device(requested))
        super().__setstate__(state)
        if isinstance(requested, str) and requested == "auto":
            self.__dict__["device"] = "auto"

    def _on_cuda(self) -> bool:
        return str(self.device).startswith("cuda") and torch.cuda.is_available()

    # -- optimizer kernel

    def _with_fused_adam(self, kwargs: dict) -> dict:
        """``kwargs`` for the optimizer, with ``fused=True`` where Adam(W) can run fused.

        Fused Adam is the same algorithm as torch's default kernel, differing by float
        rounding only. An explicit ``optimizer__fused`` or ``optimizer__foreach`` wins.
        """
        optimizer = self.optimizer
        if ("fused" in kwargs or "foreach" in kwargs or kwargs.get("differentiable")
                or not (isinstance(optimizer, type)
                        and issubclass(optimizer, (torch.optim.Adam, torch.optim.AdamW)))
                or torch.device(self.device).type not in FUSED_ADAM_DEVICES):
            return kwargs
        return {**kwargs, "fused": True}

    # -- precision

    def _matmul_precision(self):
        """TF32 for CUDA matmuls while this estimator computes, when asked for."""
        return _Tf32(self.precision == "tf32")

    def infer(self, x, **fit_params):
        if self.precision == "bf16":
            device_type = torch.device(self.device).type
            with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
                return super().infer(x, **fit_params).float()
        return super().infer(x, **fit_params)

    # -- random state

    def _seeded(self):
        """A forked torch random state for the duration of a fit."""
        devices = [torch.device(self.device).index or 0] if self._on_cuda() else []
        return torch.random.fork_rng(devices=devices)

    def _seed_everything(self) -> int:
        """Seed torch from ``random_state`` (fresh entropy when None); return the seed."""
        seed = self.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        torch.manual_seed(int(seed))
        return int(seed) % (2**32)

    def _save_rng(self) -> None:
        # The fit runs in a forked random state; keeping where it ended lets the next
        # partial_fit or warm-started fit continue the sequence instead of replaying it.
        # Kept as numpy bytes: a pickle of the estimator then holds no extra tensors.
        self._rng_state_ = {"torch": torch.get_rng_state().numpy().copy()}
        if self._on_cuda():
            self._rng_state_["cuda"] = torch.cuda.get_rng_state(self.device).numpy().copy()

    def _restore_rng(self) -> None:
        saved = getattr(self, "_rng_state_", None)
        if saved is None:
            return
        torch.set_rng_state(torch.from_numpy(saved["torch"]))
        if "cuda" in saved and self._on_cuda():
            torch.cuda.set_rng_state(torch.from_numpy(saved["cuda"]), self.device)
