"""Optimizers whose hyperparameters are per-member tensors [E].

`torch.optim` applies one lr / weight decay to a whole parameter; an ensemble stacks members
along dim 0 of every parameter, so these optimizers take lr and wd of shape [E] and broadcast
them over the rest. With E = 1 they match `torch.optim.AdamW` / `torch.optim.SGD` (tested).
"""

from __future__ import annotations

from typing import Any

import torch


def _per_member(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """[E] → [E, 1, ..., 1] broadcastable against a stacked parameter."""
    return values.to(like.dtype).view(-1, *([1] * (like.dim() - 1)))


LrFactor = float | torch.Tensor  # a multiplier of the learning rate, shared or per member [E]


class MemberOptimizer:
    """Shared plumbing: parameters, per-member lr/wd, zero_grad and state (de)serialisation."""

    def __init__(self, params, lr, wd) -> None:
        self.params: list[torch.Tensor] = list(params)
        device = self.params[0].device
        self.lr = torch.as_tensor(lr, dtype=torch.float64, device=device).reshape(-1)  # [E]
        self.wd = torch.as_tensor(wd, dtype=torch.float64, device=device).reshape(-1)  # [E]
        self.state: dict[str, Any] = {"step": 0}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict[str, Any]:
        return {
            k: ([t.clone() for t in v] if isinstance(v, list) else v) for k, v in self.state.items()
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.state = {
            k: ([t.to(self.params[0].device) for t in v] if isinstance(v, list) else v)
            for k, v in state.items()
        }


class AdamW(MemberOptimizer):
    """Loshchilov & Hutter (2019): p ← p(1 − ηλ) − η m̂ / (√v̂ + ε), per-member η and λ."""

    coupled = False  # weight decay decoupled from the gradient (AdamW)

    def __init__(self, params, lr, wd, betas=(0.9, 0.999), eps=1e-8) -> None:
        super().__init__(params, lr, wd)
        self.betas, self.eps = betas, eps
        self.state["exp_avg"] = [torch.zeros_like(p) for p in self.params]
        self.state["exp_avg_sq"] = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr_factor: LrFactor = 1.0) -> None:
        self.state["step"] += 1
        t = self.state["step"]
        beta1, beta2 = self.betas
        lr = self.lr * lr_factor  # [E] float64
        decay = 1 - lr * self.wd
        step_size = lr / (1 - beta1**t)
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        for p, m, v in zip(
            self.params, self.state["exp_avg"], self.state["exp_avg_sq"], strict=True
        ):
            if p.grad is None:
                continue
            g = p.grad
            if self.coupled:
                g = g + p * _per_member(self.wd, p)  # L2 in the loss (Adam), not decoupled
            else:
                p.mul_(_per_member(decay, p))
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.sub_(m / denom * _per_member(step_size, p))


class Adam(AdamW):
    """Kingma & Ba (2015) with L2 weight decay added to the gradient, as `torch.optim.Adam`'s
    weight_decay: g ← g + λp, then the Adam step (used by Tian 2025's reference code)."""

    coupled = True


class SGD(MemberOptimizer):
    """SGD with momentum and (coupled, L2) weight decay, as `torch.optim.SGD`:
    g ← g + λp; b ← μb + g; p ← p − ηb."""

    def __init__(self, params, lr, wd, momentum=0.0) -> None:
        super().__init__(params, lr, wd)
        self.momentum = momentum
        self.state["momentum_buffer"] = [torch.zeros_like(p) for p in self.params]

    @torch.no_grad()
    def step(self, lr_factor: LrFactor = 1.0) -> None:
        self.state["step"] += 1
        lr = self.lr * lr_factor
        for p, buf in zip(self.params, self.state["momentum_buffer"], strict=True):
            if p.grad is None:
                continue
            g = p.grad + p * _per_member(self.wd, p)
            if self.momentum:
                if self.state["step"] == 1:
                    buf.copy_(g)
                else:
                    buf.mul_(self.momentum).add_(g)
                g = buf
            p.sub_(g * _per_member(lr, p))


def warmup_factor(step: int, warmup: int | torch.Tensor) -> LrFactor:
    """Linear warmup: the lr multiplier at 1-based `step` is min(1, step / warmup) (1 for no
    warmup). `warmup` is one int or a tensor [E] of per-member warmups (float64 result)."""
    if isinstance(warmup, torch.Tensor):
        return (step / warmup.clamp(min=1).double()).clamp(max=1.0)
    return 1.0 if warmup <= 0 else min(1.0, step / warmup)
