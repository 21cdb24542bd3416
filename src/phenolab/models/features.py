"""Random-features models: a fixed random map of the inputs to p features, then a trained linear
head — the models of the double-descent papers, whose head is solved in closed form
(`train/closedform.py`: min-norm least squares, ridge) or trained by the loop.

Feature maps (`feature_map`), seeded by the member's seed:
- `relu`: φ(x) = max(0, Wᵀx / √d) with W [d, p] ~ N(0, 1) — random ReLU features, as in Belkin,
  Hsu, Ma & Mandal (2019), "Reconciling modern machine-learning practice and the classical
  bias–variance trade-off", PNAS (Fig. 2–3 use random Fourier and random ReLU features);
- `subset`: φ(x) = x_S for a random subset S of p of the d input coordinates (p ≤ d) — the
  "weak features" model of Belkin, Hsu & Xu (2020), "Two models of double descent for weak
  features", SIAM J. Math. Data Sci., and the misspecified model of Hastie et al. (2022).

The width p is `width`. The head has no bias: a min-norm solution then depends only on the
features. A regression task (no classes) gets one output; a classification task one output per
class (least squares on one-hot targets).
"""

from __future__ import annotations

import torch

from phenolab.errors import ConfigError
from phenolab.models.base import MODELS, ModelKind
from phenolab.models.init import bmm, stacked_normal

FEATURE_MAPS = ("relu", "subset")


class RandomFeatures(torch.nn.Module):
    exterior = ("W_out",)  # the head is the only trained matrix: Muon leaves it to AdamW

    def __init__(self, cfg, d_in: int, n_out: int, seeds: list[int], scales: list[float]) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        p, self.d_in, self.feature_map = cfg.width, d_in, cfg.feature_map
        # buffers, not parameters: the map is fixed, saved with the weights, never trained
        if cfg.feature_map == "relu":
            w = torch.stack([torch.randn(d_in, p, generator=g) for g in gens])  # [E, d, p]
            self.register_buffer("W_feat", w)
        else:  # feature j is input coordinate S_j
            chosen = torch.stack([torch.randperm(d_in, generator=g)[:p] for g in gens])  # [E, p]
            self.register_buffer("S_feat", chosen)
        self.W_out = stacked_normal(gens, (p, max(n_out, 1)), p**-0.5, scales)  # [E, p, out]

    def features(self, x: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """x [E, B, d] float → features φ(x) [E, B, p], computed in `dtype` (default: the
        maps' float32; the closed-form solver asks for float64)."""
        x = x.to(dtype or torch.float32)
        if self.feature_map == "subset":
            idx = self.S_feat[:, None, :].expand(-1, x.shape[1], -1)  # [E, B, p]
            return torch.gather(x, 2, idx)
        z = bmm(x, self.W_feat.to(x.dtype))  # [E, B, p]
        return torch.relu(z * self.d_in**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, d] → outputs [E, B, out] (out = classes, or 1 for regression)."""
        return bmm(self.features(x), self.W_out)


class RandomFeaturesKind(ModelKind):
    summary = "random features and a trained linear head (double descent; lstsq solves it)"
    fields = ("width", "feature_map")
    reads = "features"

    def check_dims(self, cfg, dims) -> None:
        if cfg.feature_map == "subset" and cfg.width > dims().seq_len:
            d = dims().seq_len
            raise ConfigError(
                f"width: feature_map=subset picks p = width of the {d} input coordinates; got "
                f"width {cfg.width}"
            )

    def make(self, cfg, inputs, seeds, scales):
        return RandomFeatures(cfg, inputs.seq_len, inputs.n_classes, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        # the closed-form solve: features of every split and a thin SVD, in float64 (2 floats)
        w = cfg.width
        return 2 * (rows * w + 2 * rows * w + 2 * min(rows, w) * w)


MODELS.register("rf", RandomFeaturesKind("rf"))
