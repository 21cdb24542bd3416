"""Muon: momentum orthogonalised by Newton–Schulz, for the hidden matrices of each member.

Jordan et al. (2024), "Muon: MomentUm Orthogonalized by Newton-Schulz"
(kellerjordan.github.io/posts/muon); used on grokking tasks by Tveit et al. (2025), "Muon optimizer
accelerates grokking" (arXiv:2504.16041), who report a mean grokking epoch of 103 vs 153 for AdamW.

Which parameters Muon updates (the reference practice: "Muon is for the hidden weights; embeddings,
classifier heads and gains/biases use AdamW"): a parameter is a *hidden matrix* when it is one
matrix per member ([E, m, n], dim 3) and its name is not among the model's `exterior` names — the
layers that touch the inputs or the outputs (embedding tables W_E and W_pos, a first layer applied
to one-hot or raw inputs, the unembedding / classifier head). Each model lists its own
(`models/*.py`, attribute `exterior`). Everything else — exterior matrices, biases, LayerNorm
gains — is updated by this project's per-member AdamW with the same lr, weight decay, warmup,
betas and eps.

Learning rates: by default one `lr` serves both parts. The reference code gives Muon its own,
larger lr (0.02 against AdamW's 3e-4), and at equal lr Muon's update is far smaller per entry than
Adam's (an orthogonal [m, n] update has entries of size ≈ 1/√max(m, n), Adam's ≈ 1): `muon_lr`
sets the hidden matrices' lr on its own (the warmup applies to both). The accounts of Tveit et
al.'s setup we could read (the paper: AdamW betas (0.9, 0.98), "equivalent weight decay
strengths") name no learning rate for either part.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import torch

from phenolab.errors import ConfigError
from phenolab.train.members import per_member
from phenolab.train.optim import (
    OPTIMIZERS,
    AdamW,
    MemberOptimizer,
    OptimizerKind,
    per_member_hyperparameters,
)

# quintic Newton–Schulz coefficients (a, b, c) of the reference: in 5 steps they push the singular
# values of a matrix with ‖X‖_F ≤ 1 (all but the tiniest) into roughly [0.68, 1.2], not exactly to
# 1: speed over precision, which the reference found does not hurt training
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5
NS_EPS = 1e-7


def newton_schulz(g: torch.Tensor, steps: int = NS_STEPS, eps: float = NS_EPS) -> torch.Tensor:
    """An approximately orthogonal matrix U Vᵀ from G = U S Vᵀ, per member: [E, m, n] → [E, m, n].

    X₀ = G / (‖G‖_F + ε) (so every singular value is ≤ 1), then `steps` times
    X ← aX + (bA + cA²)X with A = XXᵀ, which maps each singular value σ to aσ + bσ³ + cσ⁵.
    A tall matrix is iterated transposed, so that A is the smaller Gram matrix."""
    a, b, c = NS_COEFFICIENTS
    x = g / (torch.linalg.matrix_norm(g, keepdim=True) + eps)  # [E, m, n], ‖x_e‖_F ≤ 1
    tall = g.shape[-2] > g.shape[-1]
    if tall:
        x = x.mT  # [E, n, m]
    for _ in range(steps):
        gram = x @ x.mT  # [E, rows, rows]
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.mT if tall else x


def is_hidden_matrix(name: str, p: torch.Tensor, exterior: Collection[str]) -> bool:
    """Whether Muon updates parameter `name`: one matrix per member ([E, m, n]) and not an
    input or output layer (`exterior`)."""
    return p.dim() == 3 and name not in exterior


class Muon(MemberOptimizer):
    """Muon on the hidden matrices, AdamW on the rest (see the module docstring).

    For a hidden matrix W [E, fan_in, fan_out] (used as x @ W) with gradient G, per member e
    with learning rate η_e (after warmup) and weight decay λ_e:

        B ← μB + G;  U = G + μB (Nesterov) or U = B;  O = NewtonSchulz(U)
        W ← W(1 − η_e λ_e) − η_e · √max(1, fan_out / fan_in) · O

    η_e is `muon_lr` where given, else the member's lr (both with the warmup's factor).
    The factor √max(1, fan_out/fan_in) is the reference's √max(1, rows/cols) for its
    torch.nn.Linear weights [out, in]; ours are stored [in, out]. An orthogonal O has spectral
    norm ≈ 1, so a widening layer (fan_out > fan_in) gets the larger step √(fan_out/fan_in) that
    the spectral condition for feature learning asks for (Yang, Simon & Bernstein 2023); the
    reference caps it below at 1. The decay is decoupled, as in AdamW.
    """

    def __init__(
        self,
        named_params: Iterable[tuple[str, torch.Tensor]],
        lr,
        wd,
        warmup=0,
        momentum: float = 0.95,
        muon_lr: float | None = None,
        nesterov: bool = True,
        exterior: Collection[str] = (),
        betas: tuple[float, float] = (0.9, 0.98),
        eps: float = 1e-8,
        ns_steps: int = NS_STEPS,
    ) -> None:
        named = list(named_params)
        super().__init__([p for _, p in named], lr, wd, warmup)
        hidden = [is_hidden_matrix(name, p, exterior) for name, p in named]
        if not any(hidden):
            raise ConfigError(
                "optimizer: muon needs a hidden matrix to orthogonalise, and this model has none"
                f" outside its input and output layers ({', '.join(exterior) or 'none named'});"
                " use adamw, or a model with hidden layers"
            )
        self.hidden = [p for (_, p), h in zip(named, hidden, strict=True) if h]
        rest = [p for (_, p), h in zip(named, hidden, strict=True) if not h]
        self.momentum, self.nesterov, self.ns_steps = momentum, nesterov, ns_steps
        # the hidden matrices' lr over the member's lr, [E] (1 without a muon_lr of its own)
        self.hidden_lr_factor = muon_lr / self.lr if muon_lr else torch.ones_like(self.lr)
        self.state["momentum_buffer"] = [torch.zeros_like(p) for p in self.hidden]
        self.adamw = (
            AdamW(rest, self.lr, self.wd, self.warmup, betas=betas, eps=eps) if rest else None
        )

    @torch.no_grad()
    def step(self) -> None:
        lr = self.next_learning_rate() * self.hidden_lr_factor  # [E] float64
        decay = 1 - lr * self.wd  # [E]
        for p, buf in zip(self.hidden, self.state["momentum_buffer"], strict=True):
            if p.grad is None:
                continue
            g = p.grad  # [E, fan_in, fan_out]
            buf.mul_(self.momentum).add_(g)
            update = g.add(buf, alpha=self.momentum) if self.nesterov else buf
            ortho = newton_schulz(update, self.ns_steps)  # [E, fan_in, fan_out]
            fan_in, fan_out = p.shape[-2:]
            scale = max(1.0, fan_out / fan_in) ** 0.5
            p.mul_(per_member(decay, p))
            p.sub_(ortho * per_member(lr * scale, p))
        if self.adamw is not None:
            self.adamw.step()

    def state_dict(self) -> dict[str, Any]:
        own = super().state_dict()
        return own | ({"adamw": self.adamw.state_dict()} if self.adamw is not None else {})

    def load_state_dict(self, state: dict[str, Any]) -> None:
        own = {k: v for k, v in state.items() if k != "adamw"}
        super().load_state_dict(own)
        if self.adamw is not None:
            self.adamw.load_state_dict(state["adamw"])


class MuonKind(OptimizerKind):
    summary = "orthogonalised momentum on hidden matrices, AdamW on the rest (Jordan et al. 2024)"
    fields = ("muon_momentum", "muon_lr", "betas", "eps")
    buffers = 4  # weight, gradient, momentum (hidden matrices) or AdamW's two moments

    def build(self, configs: list, model: torch.nn.Module) -> MemberOptimizer:
        t = configs[0].train
        return Muon(  # by name: the model's input and output layers stay with AdamW
            model.named_parameters(),
            **per_member_hyperparameters(configs),
            momentum=t.muon_momentum,
            muon_lr=t.muon_lr or None,
            exterior=model.exterior,
            betas=t.betas,
            eps=t.eps,
        )


OPTIMIZERS.register("muon", MuonKind())
