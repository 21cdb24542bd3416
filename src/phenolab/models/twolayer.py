"""Two-layer network on one-hot operands, the model of Gromov (2023), "Grokking modular
arithmetic", and Tian (2025), "Provable scaling laws of feature emergence from learning dynamics
of grokking" (Li²): no learned embedding and no biases,

    f(x, y) = W_out^T σ(W_in^T [e_x; e_y]),  e_x the one-hot vector of x,

with σ = x² (their choice) or ReLU. The first layer is computed as two row lookups, which is
exact: [e_x; e_y] @ W_in = W_in[x] + W_in[p + y].

Initialisation matches `torch.nn.Linear`'s variance, 1 / (3 · fan_in), times the init scale α.
"""

from __future__ import annotations

import torch

from phenolab.models.base import MODELS, ModelKind
from phenolab.models.init import ACTIVATIONS, bmm, gather_rows, stacked_normal


class TwoLayer(torch.nn.Module):
    # input and output layers (W_in acts on one-hot operands: an embedding table): the model
    # has no hidden matrix for Muon (train/muon.py)
    exterior = ("W_in", "W_out")

    def __init__(
        self, cfg, vocab: int, n_classes: int, seeds: list[int], scales: list[float]
    ) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        h, a = cfg.width, scales
        self.vocab = vocab
        self.W_in = stacked_normal(gens, (2 * vocab, h), (3 * 2 * vocab) ** -0.5, a)  # [E, 2p, h]
        self.W_out = stacked_normal(gens, (h, n_classes), (3 * h) ** -0.5, a)  # [E, h, classes]
        self.act = ACTIVATIONS[cfg.activation]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, 2] operand ids → logits [E, B, classes]."""
        pre = gather_rows(self.W_in, x[..., 0]) + gather_rows(self.W_in, x[..., 1] + self.vocab)
        return bmm(self.act(pre), self.W_out)  # [E, B, classes]


class TwoLayerKind(ModelKind):
    summary = "two-layer network on one-hot operands, no biases (Gromov 2023)"
    fields = ("width", "activation")

    def make(self, cfg, inputs, seeds, scales):
        return TwoLayer(cfg, inputs.vocab, inputs.n_classes, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        return rows * (3 * cfg.width + 3 * inputs.n_classes) + 2 * inputs.vocab * cfg.width


MODELS.register("twolayer", TwoLayerKind("twolayer"))
