"""Fourier structure of the number embeddings (Nanda et al. 2023, "Progress measures for
grokking via mechanistic interpretability"): a generalizing network on modular addition
represents each number a by cos(2πka/p), sin(2πka/p) at a few key frequencies k.

For the embedding W_E[a, :] of the p number tokens, the power at frequency k = 1 … ⌊p/2⌋ is
‖F_k‖² + ‖F_{p−k}‖² of the DFT over a (cos and sin together; the constant k = 0 excluded).
- `fourier/gini`: Gini coefficient of the power over frequencies (1: one frequency, 0: flat);
- `fourier/ipr`: inverse participation ratio Σ q_k² of the normalised power q (1: one, 1/K flat);
- `fourier/key`: how many frequencies hold 90 % of the power;
- `fourier/top`: the strongest frequency k.
"""

from __future__ import annotations

import torch

from phenolab.measures import Context, Values, measure, needs_embedding

KEY_SHARE = 0.9


def frequency_power(embedding: torch.Tensor) -> torch.Tensor:
    """[E, p, d] embedding of the numbers 0 … p−1 → power [E, ⌊p/2⌋] at k = 1 … ⌊p/2⌋."""
    p = embedding.shape[1]
    spectrum = torch.fft.fft(embedding.double(), dim=1).abs().pow(2).sum(-1)  # [E, p]
    k = torch.arange(1, p // 2 + 1, device=embedding.device)
    return spectrum[:, k] + spectrum[:, (p - k) % p] * (k != p - k)  # fold ±k; [E, K]


def gini(values: torch.Tensor) -> torch.Tensor:
    """Gini coefficient along the last axis of non-negative values [E, K] → [E]."""
    v, _ = values.sort(dim=-1)
    k = v.shape[-1]
    ranks = torch.arange(1, k + 1, dtype=v.dtype, device=v.device)
    total = v.sum(-1).clamp_min(1e-300)
    return ((2 * ranks - k - 1) * v).sum(-1) / (k * total)


def number_embedding(ctx: Context) -> torch.Tensor:
    """The embedding rows of the number tokens 0 … p−1: [E, p, d]."""
    return ctx.model.embedding().detach()[:, : ctx.data.n_classes]


@measure("fourier", requires=needs_embedding)
def fourier(ctx: Context) -> Values:
    """Fourier structure of the number embeddings: power at the key frequencies (Nanda et al.)."""
    power = frequency_power(number_embedding(ctx))  # [E, K]
    q = power / power.sum(-1, keepdim=True).clamp_min(1e-300)
    sorted_q, order = q.sort(dim=-1, descending=True)
    key = (sorted_q.cumsum(-1) < KEY_SHARE).sum(-1) + 1
    return {
        "fourier/gini": gini(power).float(),
        "fourier/ipr": q.pow(2).sum(-1).float(),
        "fourier/key": key.float(),
        "fourier/top": (order[:, 0] + 1).float(),
    }
