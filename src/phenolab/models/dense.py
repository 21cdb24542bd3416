"""A plain dense MLP over feature vectors (sparse parity's ±1 bits, flattened images): input →
ReLU hidden layers (`widths`, e.g. 300,100 for LeNet-300-100; default `width` × `n_layers`) →
logits, every weight with the leading member dimension E.

Initialisation: each weight matrix N(0, 1/fan_in) times the member's init scale α, biases zero
(the embedding MLP's convention; PyTorch's nn.Linear default is uniform with the same fan-in
scaling up to a constant, and random biases).
"""

from __future__ import annotations

from itertools import pairwise

import torch

from phenolab.models.base import MODELS, ModelKind, hidden_widths
from phenolab.models.init import bmm, stacked_normal, zeros


class DenseMLP(torch.nn.Module):
    # input and output layers (the first layer on raw features, the classifier head): Muon
    # orthogonalises the W_hidden layers only (train/muon.py)
    exterior = ("W_in", "W_out")

    def __init__(
        self,
        widths: tuple[int, ...],
        d_in: int,
        n_classes: int,
        seeds: list[int],
        scales: list[float],
    ) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        e, h, a = len(seeds), widths[0], scales
        self.W_in = stacked_normal(gens, (d_in, h), d_in**-0.5, a)  # [E, d_in, width]
        self.b_in = zeros(e, h)  # [E, width]
        self.W_hidden = torch.nn.ParameterList(
            [stacked_normal(gens, (i, o), i**-0.5, a) for i, o in pairwise(widths)]
        )  # each [E, widths[l], widths[l + 1]]
        self.b_hidden = torch.nn.ParameterList([zeros(e, o) for o in widths[1:]])
        h = widths[-1]
        self.W_out = stacked_normal(gens, (h, n_classes), h**-0.5, a)  # [E, width, classes]
        self.b_out = zeros(e, n_classes)  # [E, classes]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, d_in] float → logits [E, B, classes]."""
        hidden = torch.relu(bmm(x, self.W_in) + self.b_in[:, None, :])  # [E, B, width]
        for w, b in zip(self.W_hidden, self.b_hidden, strict=True):
            hidden = torch.relu(bmm(hidden, w) + b[:, None, :])  # [E, B, width]
        return bmm(hidden, self.W_out) + self.b_out[:, None, :]  # [E, B, classes]


class DenseKind(ModelKind):
    summary = "MLP over feature vectors (e.g. LeNet-300-100 with widths=300,100)"
    fields = ("width", "n_layers", "widths")
    reads = "features"

    def make(self, cfg, inputs, seeds, scales):
        return DenseMLP(hidden_widths(cfg), inputs.seq_len, inputs.n_classes, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        # the inputs, each hidden layer's pre-activation, activation and gradient, the logits
        return rows * (inputs.seq_len + 3 * sum(hidden_widths(cfg)) + 3 * inputs.n_classes)


MODELS.register("dense", DenseKind("dense"))
