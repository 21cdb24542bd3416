"""The fast path: forward pass and loss compiled with `torch.compile`, falling back to eager.

Compilation fuses the elementwise work around the matmuls (ReLU, bias adds, the softmax and
the loss); the optimizer stays eager. Numerics match the eager path to floating-point
reassociation: tests/test_fast.py bounds the difference of curves by rtol 1e-4 over short runs.
Where compilation is unsupported (no C++ compiler, an old torch, an unsupported op), the first
step falls back to eager with a warning and training goes on.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

from phenolab.train.losses import Loss


class CompiledForward:
    """(model, x, y, mask) → loss [E], compiled on first use; eager if that fails."""

    def __init__(self, loss_fn: Loss) -> None:
        self.loss_fn = loss_fn
        self.compiled: Callable | None = None
        self.failed: str | None = None

    def eager(self, model, x, y, mask):
        return self.loss_fn(model(x), y, mask)

    def __call__(self, model, x, y, mask):
        if self.failed is not None:
            return self.eager(model, x, y, mask)
        try:
            if self.compiled is None:
                self.compiled = torch.compile(self.eager, dynamic=False)
            return self.compiled(model, x, y, mask)
        except Exception as exc:  # unsupported here: train on, eagerly
            self.failed = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            warnings.warn(
                f"torch.compile unavailable, using the eager path ({self.failed})",
                RuntimeWarning,
                stacklevel=2,
            )
            return self.eager(model, x, y, mask)
