"""⊥Grad (Prieto et al. 2025, "Grokking at the Edge of Numerical Stability", Sec. 5): the part
of the gradient that only scales the weights up (the naïve loss-minimisation direction that
leads to softmax collapse) is removed before the optimizer step, around any optimizer."""

from __future__ import annotations

import torch

from phenolab.interventions.base import Intervention, member_dot
from phenolab.train.members import per_member

EPS = 1e-30  # as in the authors' code: guards 0/0 for an all-zero weight or gradient


class OrthoGrad(Intervention):
    """For each member and each parameter tensor w with gradient g:
    g⊥ = g − (w·g / w·w) w, then g ← g⊥ · ‖g‖ / ‖g⊥‖ (orthogonal to w, of g's norm).
    With AdamW this is the paper's ⊥AdamW. Pure tensor work: capturable in a CUDA graph."""

    id = "orthograd"
    summary = "⊥Grad: gradient minus its component along the weights, rescaled (Prieto 2025)"
    graph_safe = True

    @torch.no_grad()
    def after_backward(self, state) -> None:
        for w in self.parameters:
            g = w.grad
            if g is None:
                continue
            along = member_dot(w, g) / (member_dot(w, w) + EPS)  # [E]
            g_orth = g - per_member(along, w) * w
            scale = g.flatten(1).norm(dim=1) / (g_orth.flatten(1).norm(dim=1) + EPS)  # [E]
            g.copy_(g_orth * per_member(scale, w))
