"""The CUDA fast path: the whole training step (batch gather, forward, loss, backward,
after_backward callbacks, optimizer update) captured once as a CUDA graph and replayed.

A tiny model's step is hundreds of kernel launches of a few microseconds each, so on a GPU the
host's launch overhead, not the arithmetic, sets the speed. A replayed graph launches them all
at once. Replay runs the very kernels the eager step runs, in the same order, on the same
memory, so curves are the eager path's (tests/test_fast.py compares them on CUDA).

What makes capture possible: every per-step quantity lives on the device (the optimizer's step
count, warmup and bias corrections: train/optim.py), the minibatch indices are copied into one
static buffer before each replay, and gradients are allocated inside the graph's memory pool
at capture. The first steps run eagerly on a side stream (cuBLAS and the allocator set
themselves up there, as capture requires); where capture fails, training goes on eagerly with
a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import torch

EAGER_STEPS = 3  # eager steps before capture

Step = Callable[[torch.Tensor | None], torch.Tensor]  # minibatch indices or None → loss [E]


def graphed(step: Step, state, host_callbacks: Sequence[str] = ()) -> Step:
    """`step` replayed from a CUDA graph where that is possible, else `step` itself.
    `host_callbacks` names callbacks whose after_backward a graph cannot capture."""
    if host_callbacks:
        warnings.warn(
            f"CUDA graph off: {', '.join(host_callbacks)} change(s) the step from the host",
            RuntimeWarning,
            stacklevel=3,
        )
        return step
    device = next(state.model.parameters()).device
    return _GraphedStep(step, state, device) if device.type == "cuda" else step


class _GraphedStep:
    def __init__(self, step: Step, state, device: torch.device) -> None:
        self.step, self.state, self.device = step, state, device
        self.eager_steps = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.static_idx: torch.Tensor | None = None
        self.static_loss: torch.Tensor | None = None
        self.failed = False

    def __call__(self, idx: torch.Tensor | None) -> torch.Tensor:
        if self.failed:
            return self.step(idx)
        if self.graph is None:
            if self.eager_steps < EAGER_STEPS:
                self.eager_steps += 1
                return self._on_side_stream(idx)
            try:
                self._capture(idx)
            except Exception as exc:  # unsupported op, driver, ...: train on, eagerly
                self.failed = True
                self.state.optimizer.zero_grad()
                reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                warnings.warn(
                    f"CUDA graph capture failed, using the eager step ({reason})",
                    RuntimeWarning,
                    stacklevel=2,
                )
                return self.step(idx)
        if idx is not None:
            self.static_idx.copy_(idx)
        self.graph.replay()
        return self.static_loss

    def _on_side_stream(self, idx):
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            loss = self.step(idx)
        torch.cuda.current_stream(self.device).wait_stream(side)
        return loss

    def _capture(self, idx) -> None:
        """Record one step (nothing runs during capture: the first replay performs it)."""
        if idx is not None:
            self.static_idx = idx.to(self.device, copy=True)
        torch.cuda.synchronize(self.device)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.static_loss = self.step(self.static_idx)
        self.graph = graph
