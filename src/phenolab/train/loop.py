"""The one training loop. It knows nothing about phenomena or storage: behaviour comes in through
callbacks (`on_train_start`, `after_backward`, `on_step_end`, `on_eval`, `on_train_end`) that
receive the TrainState; only interventions may change training from there."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

import torch

from phenolab.errors import ConfigError
from phenolab.tasks.data import TaskData
from phenolab.train.batches import EpochSampler
from phenolab.train.graphs import graphed
from phenolab.train.losses import Loss
from phenolab.train.optim import MemberOptimizer

Metrics = dict[str, torch.Tensor]  # name → [E]


@dataclass
class TrainState:
    model: torch.nn.Module
    optimizer: MemberOptimizer
    data: TaskData
    step: int = 0
    seconds: float = 0.0  # training wall time so far, across resumes
    loss: torch.Tensor | None = None  # [E] training loss of the last step
    metrics: Metrics = field(default_factory=dict)  # last evaluation
    stop: str | None = None  # set by a callback to end training after this step


class Callback:
    # True when after_backward is only tensor work on the training device, with nothing that
    # changes between steps on the host, so that a CUDA graph of the step may capture it.
    # on_step_end is never captured: it runs eagerly after each (replayed) step, so it needs no
    # flag, but work there that changes the weights must change them in place (p.mul_, not
    # p.data = ...) for the next replay to see it.
    graph_safe: bool = False

    def on_train_start(self, state: TrainState) -> None: ...
    def after_backward(self, state: TrainState) -> None: ...
    def on_step_end(self, state: TrainState) -> None: ...
    def on_eval(self, state: TrainState) -> None: ...
    def on_train_end(self, state: TrainState) -> None: ...


@dataclass
class Plan:
    steps: int
    eval_steps: Sequence[int]
    loss_fn: Loss
    sampler: EpochSampler | None = None  # None: full batch
    measure: Callable[[TrainState], Metrics] = lambda state: {}
    # (model, x, y, mask) → loss [E]; a fast path (see train/fast.py) may replace the default
    forward: Callable | None = None
    # context of every forward pass, training and evaluation (e.g. bf16 autocast)
    precision: Callable[[], AbstractContextManager] = nullcontext
    graph: bool = False  # capture the step as a CUDA graph and replay it (train/graphs.py)


def train(state: TrainState, plan: Plan, callbacks: Sequence[Callback] = ()) -> TrainState:
    """Train from `state.step` to `plan.steps`, evaluating at `plan.eval_steps`."""
    if state.data.regression:
        raise ConfigError(
            "optimizer: the training loop fits class targets; a regression task (real-valued "
            "targets) is solved in closed form (optimizer=lstsq, train/closedform.py)"
        )
    eval_steps = set(plan.eval_steps)
    clock = time.perf_counter()

    def tick() -> None:
        nonlocal clock
        now = time.perf_counter()
        state.seconds += now - clock
        clock = now

    def evaluate() -> None:
        state.model.eval()
        with torch.no_grad(), plan.precision():
            state.metrics = plan.measure(state)
        state.model.train()
        tick()
        for cb in callbacks:
            cb.on_eval(state)

    for cb in callbacks:
        cb.on_train_start(state)
    if state.step == 0 and 0 in eval_steps:
        evaluate()

    def one_step(idx: torch.Tensor | None) -> torch.Tensor:
        """Batch, forward, backward, after_backward callbacks, update; the loss [E]. Only
        tensor work: a CUDA graph may capture it once and replay it (train/graphs.py)."""
        data = state.data
        if idx is None:
            x, y, mask = data.x_train, data.y_train, data.train_mask
        else:
            idx = idx.to(data.x_train.device)  # [E, B]
            x = torch.gather(data.x_train, 1, idx[..., None].expand(-1, -1, data.x_train.shape[2]))
            y = torch.gather(data.y_train, 1, idx)  # [E, B]
            mask = None  # batches hold real examples only
        state.optimizer.zero_grad()
        with plan.precision():
            if plan.forward is not None:
                loss = plan.forward(state.model, x, y, mask)  # [E]
            else:
                loss = plan.loss_fn(state.model(x), y, mask)  # [E]
        loss.sum().backward()  # members are independent: each gets its own gradient
        state.loss = loss.detach()
        for cb in callbacks:
            cb.after_backward(state)
        state.optimizer.step()
        return state.loss

    step_fn = one_step
    if plan.graph:
        host_callbacks = [
            type(cb).__name__
            for cb in callbacks
            if type(cb).after_backward is not Callback.after_backward and not cb.graph_safe
        ]
        step_fn = graphed(one_step, state, host_callbacks)
    while state.step < plan.steps and state.stop is None:
        step = state.step + 1
        state.loss = step_fn(plan.sampler.next() if plan.sampler is not None else None)
        state.step = step
        for cb in callbacks:
            cb.on_step_end(state)
        if step in eval_steps:
            evaluate()
        else:
            tick()

    for cb in callbacks:
        cb.on_train_end(state)
    return state
