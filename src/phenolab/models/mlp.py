"""Embedding MLP for binary operations (as in Liu et al. 2022, "Towards understanding grokking"):
a shared embedding of both operands, concatenated → ReLU hidden layer → logits over p classes.

The first layer is computed factorised, which is exact: for W_in = [W_a; W_b],
concat(W_E[x], W_E[y]) @ W_in = (W_E @ W_a)[x] + (W_E @ W_b)[y], so the layer costs
O(vocab · d · width) per step instead of O(batch · d · width).
"""

from __future__ import annotations

import torch

from phenolab.models.base import MODELS, ModelKind
from phenolab.models.embedding import TokenEmbedding
from phenolab.models.init import ACTIVATIONS, bmm, gather_rows, stacked_normal, zeros


class EmbedMLP(TokenEmbedding, torch.nn.Module):
    # input and output layers (the embedding table or its factors, the classifier head): Muon
    # leaves them to AdamW and orthogonalises the hidden W_in only (train/muon.py)
    exterior = ("W_E", "W_E_A", "W_E_B", "W_out")

    def __init__(
        self, cfg, vocab: int, n_classes: int, seeds: list[int], scales: list[float]
    ) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        e, d, h, a = len(seeds), cfg.d_embed, cfg.width, scales
        self.init_embedding(gens, vocab, d, a, cfg.embed_rank)  # W_E [E, vocab, d] or A·B
        self.W_in = stacked_normal(gens, (2 * d, h), (2 * d) ** -0.5, a)  # [E, 2d, width]
        self.b_in = zeros(e, h)  # [E, width]
        self.W_out = stacked_normal(gens, (h, n_classes), h**-0.5, a)  # [E, width, classes]
        self.b_out = zeros(e, n_classes)  # [E, classes]
        self.activation = cfg.activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, 2] operand ids → logits [E, B, classes]."""
        table = self.embedding()  # [E, vocab, d]
        d = table.shape[-1]
        left = torch.bmm(table, self.W_in[:, :d])  # [E, vocab, width]
        right = torch.bmm(table, self.W_in[:, d:])  # [E, vocab, width]
        pre = gather_rows(left, x[..., 0]) + gather_rows(right, x[..., 1])  # [E, B, width]
        hidden = ACTIVATIONS[self.activation](pre + self.b_in[:, None, :])
        return bmm(hidden, self.W_out) + self.b_out[:, None, :]  # [E, B, classes]


class MLPKind(ModelKind):
    summary = "embedding MLP over operand pairs (Liu et al. 2022)"
    fields = ("width", "d_embed", "activation", "embed_rank")

    def make(self, cfg, inputs, seeds, scales):
        return EmbedMLP(cfg, inputs.vocab, inputs.n_classes, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        # hidden pre-activations, activations and their gradients; the factored first layer's
        # [vocab, width] tables
        return rows * (3 * cfg.width + 3 * inputs.n_classes) + 2 * inputs.vocab * cfg.width


MODELS.register("mlp", MLPKind("mlp"))
