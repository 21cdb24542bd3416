"""A plain dense MLP over feature vectors (sparse parity's ±1 bits, flattened images): input →
ReLU hidden layers (`widths`, e.g. 300,100 for LeNet-300-100; default `width` × `n_layers`) →
logits, every weight with the leading member dimension E.

Initialisation: each weight matrix N(0, 1/fan_in) times the member's init scale α, biases zero
(the embedding MLP's convention; PyTorch's nn.Linear default is uniform with the same fan-in
scaling up to a constant, and random biases).

Active width (a width sweep as one ensemble): a member with active width a > 0 is the net with
min(a, widths[l]) units in hidden layer l, embedded in the first units of this one. Its weights
are drawn exactly as that narrower net's own (same generator, same order, the narrow fan-in in
the scale) and the rest of every tensor is zero; `live_mask` says which entries are the narrow
net's, and the runner keeps everything else at exactly zero through training (KeepMask). The
member then computes the narrow net's function with the narrow net's initial values, so its
curves are a solo width-a run's up to floating-point reassociation (tested), while members of
different widths train in lockstep.
"""

from __future__ import annotations

from itertools import pairwise

import torch

from phenolab.models.init import bmm, zeros


def embedded_normal(
    gens: list[torch.Generator],
    shape: tuple[int, int],
    live: list[tuple[int, int]],
    scales: list[float],
) -> torch.nn.Parameter:
    """[E, rows, cols]: member e's live[e] = (r, c) top-left block drawn from N(0, 1/r) by
    gens[e] times its init scale, zeros elsewhere. With every block the whole shape this is
    init.stacked_normal with std rows^-½ (the same draws, bit for bit)."""
    w = torch.zeros(len(gens), *shape)
    for e, (g, (r, c), a) in enumerate(zip(gens, live, scales, strict=True)):
        w[e, :r, :c] = torch.randn((r, c), generator=g) * (r**-0.5 * a)
    return torch.nn.Parameter(w)


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
        active: list[int] | None = None,
    ) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        e, a = len(seeds), scales
        active = active or [0] * e
        # live units of each hidden layer, per member: [E][layers]
        self.live = [[min(k, w) if k else w for w in widths] for k in active]
        self.W_in = embedded_normal(
            gens, (d_in, widths[0]), [(d_in, u[0]) for u in self.live], a
        )  # [E, d_in, width]
        self.b_in = zeros(e, widths[0])  # [E, width]
        self.W_hidden = torch.nn.ParameterList(
            [
                embedded_normal(gens, (i, o), [(u[k], u[k + 1]) for u in self.live], a)
                for k, (i, o) in enumerate(pairwise(widths))
            ]
        )  # each [E, widths[l], widths[l + 1]]
        self.b_hidden = torch.nn.ParameterList([zeros(e, o) for o in widths[1:]])
        self.W_out = embedded_normal(
            gens, (widths[-1], n_classes), [(u[-1], n_classes) for u in self.live], a
        )  # [E, width, classes]
        self.b_out = zeros(e, n_classes)  # [E, classes]
        self.widths = tuple(widths)

    def live_mask(self) -> dict[str, torch.Tensor] | None:
        """{parameter name: bool [E, ...]}, True where a member's narrow net lives (weights and
        biases); None when every member uses every unit."""
        if all(list(u) == list(self.widths) for u in self.live):
            return None
        units = [  # [E, width of layer l]: which units of each hidden layer are live
            torch.stack([torch.arange(w) < u[k] for u in self.live])
            for k, w in enumerate(self.widths)
        ]
        every_input = torch.ones(len(self.live), self.W_in.shape[1], dtype=torch.bool)
        every_class = torch.ones_like(self.b_out, dtype=torch.bool)
        mask = {
            "W_in": every_input[:, :, None] & units[0][:, None, :],
            "b_in": units[0],
            "W_out": units[-1][:, :, None] & every_class[:, None, :],
            "b_out": every_class,
        }
        for k in range(len(self.widths) - 1):
            mask[f"W_hidden.{k}"] = units[k][:, :, None] & units[k + 1][:, None, :]
            mask[f"b_hidden.{k}"] = units[k + 1]
        return mask

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, d_in] float → logits [E, B, classes]."""
        hidden = torch.relu(bmm(x, self.W_in) + self.b_in[:, None, :])  # [E, B, width]
        for w, b in zip(self.W_hidden, self.b_hidden, strict=True):
            hidden = torch.relu(bmm(hidden, w) + b[:, None, :])  # [E, B, width]
        return bmm(hidden, self.W_out) + self.b_out[:, None, :]  # [E, B, classes]
