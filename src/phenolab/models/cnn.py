"""A small CNN over images (MNIST-1D sequences or 2-D digit images), every weight with the
leading member dimension E: conv layers of kernel 3, stride 2, padding 1, ReLU, then a linear
classifier on the flattened feature map. The shape follows the MNIST-1D paper's small CNN
(Greydanus & Kobak 2024: strided convolutions, then one linear layer); the channel counts are
`widths` (default `width` × `n_layers`).

The E members run as one grouped convolution (groups = E): member e's channels are the e-th
block of the channel dimension, so no member sees another's. Initialisation: N(0, 1/fan_in)
times the member's init scale α, biases zero (the project's convention, models/dense.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from phenolab.errors import ConfigError
from phenolab.models.base import MODELS, ModelKind, hidden_widths
from phenolab.models.init import bmm, stacked_normal, zeros

KERNEL, STRIDE, PADDING = 3, 2, 1


def conv_output(size: int) -> int:
    return (size + 2 * PADDING - KERNEL) // STRIDE + 1


class ConvNet(torch.nn.Module):
    exterior = ("W_out",)  # Muon: conv kernels are not matrices; the head is the output layer

    def __init__(
        self,
        channels: tuple[int, ...],
        shape: tuple[int, ...],
        n_classes: int,
        seeds: list[int],
        scales: list[float],
    ) -> None:
        super().__init__()
        if len(shape) not in (1, 2):
            raise ValueError(f"ConvNet reads 1-D or 2-D images, got shape {shape}")
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        e, a = len(seeds), scales
        self.shape = tuple(shape)
        kernel = (KERNEL,) * len(shape)
        self.W_conv = torch.nn.ParameterList()
        self.b_conv = torch.nn.ParameterList()
        c_in, size = 1, list(shape)
        for c_out in channels:
            fan_in = c_in * KERNEL ** len(shape)
            self.W_conv.append(stacked_normal(gens, (c_out, c_in, *kernel), fan_in**-0.5, a))
            self.b_conv.append(zeros(e, c_out))
            c_in, size = c_out, [conv_output(s) for s in size]
        features = c_in * math.prod(size)
        self.W_out = stacked_normal(gens, (features, n_classes), features**-0.5, a)
        self.b_out = zeros(e, n_classes)  # [E, classes]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, d] flattened images → logits [E, B, classes]."""
        e, b = x.shape[:2]
        conv = F.conv1d if len(self.shape) == 1 else F.conv2d
        h = x.transpose(0, 1).reshape(b, e, *self.shape)  # [B, E·1, *shape]
        for w, bias in zip(self.W_conv, self.b_conv, strict=True):
            h = conv(
                h,
                w.reshape(-1, *w.shape[2:]),  # [E·C_out, C_in, k…]
                bias.reshape(-1),
                stride=STRIDE,
                padding=PADDING,
                groups=e,
            )
            h = torch.relu(h)  # [B, E·C_out, *size]
        h = h.reshape(b, e, -1).transpose(0, 1)  # [E, B, features]
        return bmm(h, self.W_out) + self.b_out[:, None, :]


class ConvKind(ModelKind):
    summary = "strided convolutions over images, then a linear head (Greydanus & Kobak 2024)"
    fields = ("width", "n_layers", "widths")
    reads = "images"

    def make(self, cfg, inputs, seeds, scales):
        if inputs.image_shape is None:
            raise ConfigError("model: cnn reads images (op: digits, mnist1d, idx)")
        return ConvNet(hidden_widths(cfg), inputs.image_shape, inputs.n_classes, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        # each layer's feature maps (at most C × d / 2 with stride 2) and their gradients
        d, maps = inputs.seq_len, sum(hidden_widths(cfg))
        per_row = d + 3 * (d // 2) * maps + 3 * inputs.n_classes
        return rows * per_row


MODELS.register("cnn", ConvKind("cnn"))
