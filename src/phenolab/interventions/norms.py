"""Interventions on the weights after each optimizer step: Omnigrok's norm constraint and weight
decay toward the initialisation. They run in `on_step_end`, which the loop always runs eagerly
after the (possibly CUDA-graph-replayed) step; they change the parameters in place, so the next
replay sees the new values."""

from __future__ import annotations

import torch

from phenolab.interventions.base import Intervention, Param, member_dot
from phenolab.train.members import per_member


def total_norm(parameters) -> torch.Tensor:
    """‖θ‖ of each member over all its parameters: [E] float64."""
    return sum(member_dot(p, p).double() for p in parameters).sqrt()


class WeightNormConstraint(Intervention):
    """Omnigrok (Liu, Michaud & Tegmark 2023, "Omnigrok: Grokking Beyond Algorithmic Data",
    the constrained-norm experiments): after every step, θ ← θ · c / ‖θ‖ for each member, with
    ‖θ‖ the norm of all its weights together and c = `norm` if given, else `scale` × the norm
    at initialisation (or at the start weights of a continuation)."""

    id = "norm-constraint"
    summary = "Omnigrok: rescale each member's weights to a fixed total norm after every step"
    params = (
        Param("norm", 0.0, "target norm c; 0: scale × the norm at init", lambda v: v >= 0, "≥ 0"),
        Param("scale", 1.0, "with norm=0: c = scale × the norm at init", lambda v: v > 0, "> 0"),
    )

    def __init__(self, values, model, optimizer) -> None:
        super().__init__(values, model, optimizer)
        with torch.no_grad():
            at_init = total_norm(self.parameters)  # [E]
        self.target = torch.where(values["norm"] > 0, values["norm"], values["scale"] * at_init)

    @torch.no_grad()
    def on_step_end(self, state) -> None:
        factor = self.target / total_norm(self.parameters)  # [E]
        for p in self.parameters:
            p.mul_(per_member(factor, p))


class DecayToInit(Intervention):
    """Weight decay toward the initialisation instead of toward zero: after the optimizer step,
    θ ← θ − η λ (θ − θ₀), with η the member's learning rate of that step (after warmup) and θ₀
    the weights at initialisation (or the start weights of a continuation). The optimizer's own
    weight decay (`wd`, toward zero) still applies: set `--wd 0` for decay toward θ₀ alone.
    (The same pull toward the start point as the L2-SP penalty of Li et al. 2018.)"""

    id = "decay-to-init"
    summary = "weight decay toward the initial weights: θ ← θ − ηλ(θ − θ₀) after each step"
    params = (Param("wd", 1.0, "decay rate λ (per unit learning rate)", lambda v: v >= 0, "≥ 0"),)

    def __init__(self, values, model, optimizer) -> None:
        super().__init__(values, model, optimizer)
        self.wd = values["wd"]  # [E]
        self.init = [p.detach().clone() for p in self.parameters]  # θ₀, [E, ...] each

    @torch.no_grad()
    def on_step_end(self, state) -> None:
        rate = self.optimizer.learning_rate() * self.wd  # [E]
        for p, p0 in zip(self.parameters, self.init, strict=True):
            p.sub_((p - p0) * per_member(rate, p))
