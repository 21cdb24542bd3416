"""Grokfast (Lee et al. 2024, "Grokfast: Accelerated Grokking by Amplifying Slow Gradients"):
low-pass filter each parameter's gradient over the steps and add the filtered (slow) part back,
amplified by λ, before the optimizer step. Per member: each member's filter sees only its own
gradients, and α, λ are per-member tensors [E].
"""

from __future__ import annotations

import torch

from phenolab.interventions.base import Control, Intervention, Param
from phenolab.train.members import per_member


class _SlowGradientFilter(Intervention):
    """What both Grokfast filters share: the matched control of their learning-rate effect."""

    @classmethod
    def matched_controls(cls, values, config):
        """Where the gradient is slow (μ ≈ g) the filter returns g + λμ ≈ (1 + λ) g: for SGD an
        effective learning rate (1 + λ) times the nominal one, which the control matches by
        dividing the learning rate by (1 + λ), keeping the filter and the arm's weight decay: a
        speed-up that survives it is not a larger step in disguise.

        Under Adam(W) (and Muon, whose orthogonalisation and AdamW part both normalise) a
        uniform gradient scale is undone by the normalisation: the filter's gain does not
        enlarge the step, and the same control is a *smaller* step than the arm's, not a
        matched one. It is still run — a useful "same filter, lower learning rate" arm — but
        labelled for what it is."""
        label = "lr/(1+λ)"
        if config["optimizer"] != "sgd":
            label += f": smaller step under {config['optimizer']}"
        return (Control(label, {"lr": config["lr"] / (1 + values["lamb"])}),)


class GrokfastEMA(_SlowGradientFilter):
    """Grokfast-EMA (Lee et al. 2024, Algorithm 2): μ ← αμ + (1−α)g; g ← g + λμ.

    μ starts at the first gradient (μ₁ = g₁, as in the authors' `gradfilter_ema`), so
    μ_t = α^(t−1) g₁ + Σ_{k=2..t} (1−α) α^(t−k) g_k. Published defaults α 0.98, λ 2.
    Pure tensor work on the device: capturable in the CUDA graph of the step."""

    id = "grokfast-ema"
    summary = "Grokfast EMA gradient filter: μ ← αμ + (1−α)g; g ← g + λμ (Lee et al. 2024)"
    params = (
        Param("alpha", 0.98, "EMA momentum α", lambda v: 0 <= v < 1, "in [0, 1)"),
        Param("lamb", 2.0, "amplification λ of the slow gradient", lambda v: v >= 0, "≥ 0"),
    )
    graph_safe = True

    def __init__(self, values, model, optimizer) -> None:
        super().__init__(values, model, optimizer)
        self.alpha, self.lamb = values["alpha"], values["lamb"]  # [E] each
        self.mu = [torch.zeros_like(p) for p in self.parameters]  # [E, ...] each
        self.count = torch.zeros_like(self.alpha)  # [E] gradients filtered so far

    @torch.no_grad()
    def after_backward(self, state) -> None:
        alpha = self.alpha * (self.count > 0)  # [E]: 0 at the first step, so μ₁ = g₁
        for p, mu in zip(self.parameters, self.mu, strict=True):
            if p.grad is None:
                continue
            a = per_member(alpha, p)
            mu.mul_(a).add_(p.grad * (1 - a))
            p.grad.add_(mu * per_member(self.lamb, p))
        self.count.add_(1)

    def state_dict(self):
        return {"mu": [m.clone() for m in self.mu], "count": self.count.clone()}

    def load_state_dict(self, state) -> None:
        for mu, saved in zip(self.mu, state["mu"], strict=True):
            mu.copy_(saved)
        self.count.copy_(state["count"])


class GrokfastMA(_SlowGradientFilter):
    """Grokfast-MA (Lee et al. 2024, Algorithm 1): g ← g + λ · mean of the last w gradients
    (the current one included). As in the authors' `gradfilter_ma` with warmup, nothing is added
    until w gradients have been seen. Published defaults w 100, λ 5.

    A ring buffer [E, w, ...] per parameter, written at a device-side index: capturable in the
    CUDA graph of the step. Memory: w copies of the model's gradients."""

    id = "grokfast-ma"
    summary = "Grokfast MA gradient filter: g ← g + λ · mean of the last w gradients (Lee et al.)"
    params = (
        Param("window", 100, "window w (gradients averaged)", lambda v: v >= 1, "≥ 1", True),
        Param("lamb", 5.0, "amplification λ of the mean gradient", lambda v: v >= 0, "≥ 0"),
    )
    graph_safe = True

    def __init__(self, values, model, optimizer) -> None:
        super().__init__(values, model, optimizer)
        self.window, self.lamb = values["window"], values["lamb"]
        # [E, w, ...] each: slot k holds gradient number k mod w
        self.history = [
            torch.zeros(p.shape[0], self.window, *p.shape[1:], dtype=p.dtype, device=p.device)
            for p in self.parameters
        ]
        self.count = torch.zeros_like(self.lamb)  # [E] gradients seen (the same for all members)

    @torch.no_grad()
    def after_backward(self, state) -> None:
        slot = (self.count[:1] % self.window).long()  # [1]: members step in lockstep
        full = (self.count + 1 >= self.window) * self.lamb / self.window  # [E]
        for p, history in zip(self.parameters, self.history, strict=True):
            if p.grad is None:
                continue
            history.index_copy_(1, slot, p.grad.unsqueeze(1))
            p.grad.add_(history.sum(1) * per_member(full, p))
        self.count.add_(1)

    def state_dict(self):
        return {"history": [h.clone() for h in self.history], "count": self.count.clone()}

    def load_state_dict(self, state) -> None:
        for history, saved in zip(self.history, state["history"], strict=True):
            history.copy_(saved)
        self.count.copy_(state["count"])
