"""Optimizers whose hyperparameters are per-member tensors [E].

`torch.optim` applies one lr / weight decay to a whole parameter; an ensemble stacks members
along dim 0 of every parameter, so these optimizers take lr and wd of shape [E] and broadcast
them over the rest. With E = 1 they match `torch.optim.AdamW` / `torch.optim.SGD` (tested).

Each kind a config can name is registered in `OPTIMIZERS` (adamw, adam, sgd, muon in
train/muon.py, and lstsq, the closed-form solve that is no optimizer); `make_optimizer` builds
the one an ensemble's configs name.
"""

from __future__ import annotations

from typing import Any

import torch

from phenolab import Registry
from phenolab.errors import ConfigError
from phenolab.train.members import per_member

OPTIMIZERS = Registry("optimizer")


class MemberOptimizer:
    """Shared plumbing: parameters, per-member lr/wd/warmup, zero_grad and state
    (de)serialisation.

    The step count is a per-member tensor [E] on the parameters' device, and every quantity of
    an update is computed from it on that device: a step is a fixed sequence of tensor operations
    with no host values that change between steps, so it can be captured once as a CUDA graph
    and replayed (train/graphs.py).
    """

    def __init__(self, params, lr, wd, warmup=0) -> None:
        self.params: list[torch.Tensor] = list(params)
        device = self.params[0].device
        self.lr = _per_member_values(lr, device)
        self.wd = _per_member_values(wd, device)
        self.warmup = _per_member_values(warmup, device).expand_as(self.lr)
        self.state: dict[str, Any] = {"step": torch.zeros_like(self.lr)}
        # per-parameter buffers are views of one [E, P] tensor each (`_zero_buffers`), so that
        # a step can update the whole model at once (`_update_groups`)
        self._flat: dict[str, torch.Tensor] = {}
        self._sizes = [p[0].numel() for p in self.params]
        same = {(p.dtype, p.device) for p in self.params}
        self._flattens = len(same) == 1 and all(p.is_contiguous() for p in self.params)

    def next_learning_rate(self) -> torch.Tensor:
        """Count one more step; the learning rate of that step, with linear warmup
        min(1, step / warmup) (1 for warmup 0), per member [E] float64."""
        self.state["step"].add_(1)
        return self.learning_rate()

    # steps the linear warmup is delayed by (TrainConfig.warmup_offset; set by make_optimizer)
    warmup_offset = 0.0

    def learning_rate(self) -> torch.Tensor:
        """The learning rate of the last counted step, per member [E] float64:
        lr · min(1, (step − warmup_offset) / warmup), never negative."""
        progress = self.state["step"] - self.warmup_offset
        return self.lr * (progress / self.warmup.clamp(min=1)).clamp(min=0.0, max=1.0)

    def _zero_buffers(self, name: str) -> list[torch.Tensor]:
        """A zero buffer like each parameter, for state `name`: views into one [E, P] tensor
        when the parameters can be flattened together."""
        if not self._flattens:
            return [torch.zeros_like(p) for p in self.params]
        first = self.params[0]
        flat = first.new_zeros(first.shape[0], sum(self._sizes))
        self._flat[name] = flat
        return self._views(flat)

    def _views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """[E, P] → one view [E, ...] per parameter."""
        chunks = flat.split(self._sizes, dim=1)
        return [c.view(p.shape) for c, p in zip(chunks, self.params, strict=True)]

    def _update_groups(self, *names: str):
        """What a step updates: a list of (parameter, gradient, *state buffers `names`) and the
        flat parameter tensor to write back with `_write_back` (None if there is none).

        When every parameter has a gradient this is one group of [E, P] tensors covering the
        whole model: each operation of the update is one kernel for all parameters instead of
        one per parameter (a small model's GPU step is bound by kernel launches), with the same
        arithmetic per element, so the result is bit-identical. Otherwise, as `torch.optim`,
        each parameter with a gradient is its own group and the others are left untouched."""
        grads = [p.grad for p in self.params]
        if self._flattens and all(g is not None for g in grads):
            e = self.params[0].shape[0]
            flat_p = torch.cat([p.reshape(e, -1) for p in self.params], dim=1)
            flat_g = torch.cat([g.reshape(e, -1) for g in grads], dim=1)
            return [(flat_p, flat_g, *(self._flat[n] for n in names))], flat_p
        groups = [
            (p, p.grad, *(self.state[n][i] for n in names))
            for i, p in enumerate(self.params)
            if p.grad is not None
        ]
        return groups, None

    def _write_back(self, flat_p: torch.Tensor | None) -> None:
        if flat_p is not None:
            torch._foreach_copy_(self.params, self._views(flat_p))

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict[str, Any]:
        return {
            k: ([t.clone() for t in v] if isinstance(v, list) else v.clone())
            for k, v in self.state.items()
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = self.params[0].device
        for k, v in state.items():
            if isinstance(v, list):  # copied into the buffers: they may be views of a flat one
                for buffer, saved in zip(self.state[k], v, strict=True):
                    buffer.copy_(saved)
            else:
                self.state[k] = v
        # checkpoints before run format 2 kept the shared step count as an int
        step = torch.as_tensor(self.state["step"], dtype=torch.float64, device=device)
        self.state["step"] = step.expand_as(self.lr).clone()


def _per_member_values(values, device) -> torch.Tensor:
    return torch.as_tensor(values, dtype=torch.float64, device=device).reshape(-1)  # [E]


class AdamW(MemberOptimizer):
    """Loshchilov & Hutter (2019): p ← p(1 − ηλ) − η m̂ / (√v̂ + ε), per-member η and λ."""

    coupled = False  # weight decay decoupled from the gradient (AdamW)

    def __init__(self, params, lr, wd, warmup=0, betas=(0.9, 0.999), eps=1e-8) -> None:
        super().__init__(params, lr, wd, warmup)
        self.betas, self.eps = betas, eps
        self.state["exp_avg"] = self._zero_buffers("exp_avg")
        self.state["exp_avg_sq"] = self._zero_buffers("exp_avg_sq")

    @torch.no_grad()
    def step(self) -> None:
        lr = self.next_learning_rate()  # [E] float64
        t = self.state["step"]
        beta1, beta2 = self.betas
        decay = 1 - lr * self.wd
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t).sqrt()
        groups, flat_p = self._update_groups("exp_avg", "exp_avg_sq")
        broadcast = {}  # (dtype, ndim) → the per-member factors, cast and shaped once
        for p, g, m, v in groups:
            key = (p.dtype, p.dim())
            if key not in broadcast:
                factors = (decay, bias_correction2_sqrt, step_size, self.wd)
                broadcast[key] = [per_member(x, p) for x in factors]
            p_decay, p_bias_correction2_sqrt, p_step_size, p_wd = broadcast[key]
            if self.coupled:
                g = g + p * p_wd  # L2 in the loss (Adam), not decoupled
            else:
                p.mul_(p_decay)
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / p_bias_correction2_sqrt).add_(self.eps)
            p.sub_(m / denom * p_step_size)
        self._write_back(flat_p)


class Adam(AdamW):
    """Kingma & Ba (2015) with L2 weight decay added to the gradient, as `torch.optim.Adam`'s
    weight_decay: g ← g + λp, then the Adam step (used by Tian 2025's reference code)."""

    coupled = True


class SGD(MemberOptimizer):
    """SGD with momentum and (coupled, L2) weight decay, as `torch.optim.SGD`:
    g ← g + λp; b ← μb + g; p ← p − ηb (b ← g at the first step)."""

    def __init__(self, params, lr, wd, warmup=0, momentum=0.0) -> None:
        super().__init__(params, lr, wd, warmup)
        self.momentum = momentum
        self.state["momentum_buffer"] = self._zero_buffers("momentum_buffer")

    @torch.no_grad()
    def step(self) -> None:
        lr = self.next_learning_rate()
        # b ← μb + g from a zero buffer equals b ← g at the first step except for the factor μ
        # on zeros, so one expression serves every step
        groups, flat_p = self._update_groups("momentum_buffer")
        for p, g, buf in groups:
            g = g + p * per_member(self.wd, p)
            if self.momentum:
                g = buf.mul_(self.momentum).add_(g)
            p.sub_(g * per_member(lr, p))
        self._write_back(flat_p)


class OptimizerKind:
    """An optimizer a config can name: builds the ensemble's MemberOptimizer from the members'
    configs (the shared kind, each member's lr, weight decay and warmup)."""

    summary = ""  # one line, for listings and help
    fields: tuple[str, ...] = ()  # TrainConfig fields it reads besides lr, wd and warmup
    buffers = 3  # floats kept per weight: the weight, its gradient and the optimizer's state
    closed_form = False  # True: no optimizer, the run is solved in closed form

    def build(self, configs: list, model: torch.nn.Module) -> MemberOptimizer:
        raise NotImplementedError


def per_member_hyperparameters(configs: list) -> dict[str, list]:
    """{lr, wd, warmup: one value per member}: what members of one ensemble may differ in."""
    return {
        "lr": [c.train.lr for c in configs],
        "wd": [c.train.wd for c in configs],
        "warmup": [c.train.warmup for c in configs],
    }


class AdamKind(OptimizerKind):
    fields = ("betas", "eps")
    buffers = 4  # weight, gradient, first and second moment

    def __init__(self, cls: type[AdamW], summary: str) -> None:
        self.cls, self.summary = cls, summary

    def build(self, configs: list, model: torch.nn.Module) -> MemberOptimizer:
        t = configs[0].train
        return self.cls(
            model.parameters(), **per_member_hyperparameters(configs), betas=t.betas, eps=t.eps
        )


class SGDKind(OptimizerKind):
    summary = "SGD with momentum and L2 weight decay"
    fields = ("momentum",)

    def build(self, configs: list, model: torch.nn.Module) -> MemberOptimizer:
        momentum = configs[0].train.momentum
        return SGD(model.parameters(), **per_member_hyperparameters(configs), momentum=momentum)


class ClosedFormKind(OptimizerKind):
    summary = "model=rf: the head solved in closed form (min-norm least squares, ridge λ = wd)"
    closed_form = True

    def build(self, configs: list, model: torch.nn.Module) -> MemberOptimizer:
        raise ConfigError("optimizer: lstsq is a closed-form solve, not a training loop")


OPTIMIZERS.register("adamw", AdamKind(AdamW, "AdamW, decoupled weight decay"))
OPTIMIZERS.register("sgd", SGDKind())
OPTIMIZERS.register("adam", AdamKind(Adam, "Adam with L2 weight decay in the gradient"))


def make_optimizer(configs: list, model: torch.nn.Module) -> MemberOptimizer:
    """The ensemble's optimizer: the kind its configs share (RunConfig.train.optimizer), with
    each member's lr, weight decay and warmup."""
    optimizer = OPTIMIZERS.get(configs[0].train.optimizer).build(configs, model)
    offset = float(configs[0].train.warmup_offset)  # shared by the ensemble
    optimizer.warmup_offset = offset
    if getattr(optimizer, "adamw", None) is not None:  # muon's AdamW part
        optimizer.adamw.warmup_offset = offset
    return optimizer


# Optimizers in their own modules register on import (after the names they build on).
from phenolab.train import muon  # noqa: E402, F401

OPTIMIZERS.register("lstsq", ClosedFormKind())
