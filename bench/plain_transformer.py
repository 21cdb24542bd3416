"""The baseline a researcher would write for Nanda et al. (2023): a plain 1-layer transformer
(nn.Module, all positions, torch.optim.AdamW) on `x y =` mod 113, full batch."""

import torch
import torch.nn as nn
import torch.nn.functional as F


class PlainTransformer(nn.Module):
    def __init__(self, p: int = 113, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512):
        super().__init__()
        self.n_heads = n_heads
        self.embed = nn.Embedding(p + 1, d_model)
        self.pos = nn.Parameter(torch.randn(3, d_model) / d_model**0.5)
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=False)
        self.out = nn.Linear(d_model, d_model, bias=False)
        self.mlp = nn.Sequential(nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model))
        self.unembed = nn.Linear(d_model, p, bias=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens) + self.pos  # [B, 3, d]
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).unbind(2)
        z = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        )
        x = x + self.out(z.transpose(1, 2).reshape(b, t, d))
        x = x + self.mlp(x)
        return self.unembed(x[:, -1])


def nanda_data(p: int = 113, frac: float = 0.3, seed: int = 0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    tokens = torch.cat([pairs, torch.full((len(pairs), 1), p)], dim=1)
    labels = (pairs[:, 0] + pairs[:, 1]) % p
    perm = torch.randperm(len(pairs), generator=g)
    tr = perm[: int(frac * len(pairs))]
    return tokens[tr].to(device), labels[tr].to(device)
