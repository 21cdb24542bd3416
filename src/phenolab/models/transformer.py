"""Decoder-only transformer of Nanda et al. (2023), "Progress measures for grokking via
mechanistic interpretability" (arXiv:2301.05217): learned token and position embeddings,
1–2 blocks of causal multi-head attention (no biases) and a ReLU MLP, optional pre-LayerNorm,
unembedding read at the last position. Initial scales follow the paper's code description:
N(0, 1/d_model) for all weights except W_U ~ N(0, 1/classes).

Only the last position's output is used, so the last block computes its query, MLP and
residual at that position alone (keys and values still see every position). This is exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phenolab.models.init import bmm, gather_rows, stacked_normal, zeros


class Transformer(torch.nn.Module):
    def __init__(self, cfg, vocab: int, n_classes: int, seq_len: int, seeds: list[int]) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        e, d, a = len(seeds), cfg.d_model, cfg.init_scale
        std = d**-0.5
        self.n_heads = cfg.n_heads
        self.W_E = stacked_normal(gens, (vocab, d), std, a)  # [E, vocab, d]
        self.W_pos = stacked_normal(gens, (seq_len, d), std, a)  # [E, T, d]
        self.blocks = torch.nn.ModuleList(
            Block(gens, d, cfg.d_mlp, cfg.layernorm, a) for _ in range(cfg.n_layers)
        )
        self.ln_final = LayerNorm(e, d) if cfg.layernorm else None
        self.W_U = stacked_normal(gens, (d, n_classes), n_classes**-0.5, a)  # [E, d, classes]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, T] token ids → logits [E, B, classes] at the last position."""
        resid = gather_rows(self.W_E, x) + self.W_pos[:, None]  # [E, B, T, d]
        for i, block in enumerate(self.blocks):
            resid = block(resid, self.n_heads, last_only=i == len(self.blocks) - 1)
        resid = resid[:, :, -1]  # [E, B, d]
        if self.ln_final is not None:
            resid = self.ln_final(resid)
        return bmm(resid, self.W_U)  # [E, B, classes]


class Block(torch.nn.Module):
    def __init__(self, gens, d: int, d_mlp: int, layernorm: bool, scale: float) -> None:
        super().__init__()
        e, std = len(gens), d**-0.5
        self.W_Q = stacked_normal(gens, (d, d), std, scale)  # [E, d, heads·d_head]
        self.W_K = stacked_normal(gens, (d, d), std, scale)
        self.W_V = stacked_normal(gens, (d, d), std, scale)
        self.W_O = stacked_normal(gens, (d, d), std, scale)  # [E, heads·d_head, d]
        self.W_in = stacked_normal(gens, (d, d_mlp), std, scale)  # [E, d, d_mlp]
        self.b_in = zeros(e, d_mlp)
        self.W_out = stacked_normal(gens, (d_mlp, d), std, scale)  # [E, d_mlp, d]
        self.b_out = zeros(e, d)
        self.ln_attn = LayerNorm(e, d) if layernorm else None
        self.ln_mlp = LayerNorm(e, d) if layernorm else None

    def forward(self, resid: torch.Tensor, n_heads: int, last_only: bool) -> torch.Tensor:
        """resid [E, B, T, d] → [E, B, T', d], T' = 1 if last_only else T."""
        e, b, t, d = resid.shape
        normed = self.ln_attn(resid) if self.ln_attn is not None else resid
        q_in = normed[:, :, -1:] if last_only else normed  # [E, B, Tq, d]
        tq = q_in.shape[2]

        def heads(z: torch.Tensor, length: int) -> torch.Tensor:
            return z.view(e, b, length, n_heads, d // n_heads).transpose(2, 3)  # [E,B,H,len,dh]

        q = heads(bmm(q_in, self.W_Q), tq)
        k = heads(bmm(normed, self.W_K), t)
        v = heads(bmm(normed, self.W_V), t)
        # The last query sees every position, so causality needs no mask in that case.
        z = F.scaled_dot_product_attention(q, k, v, is_causal=not last_only)  # [E,B,H,Tq,dh]
        z = z.transpose(2, 3).reshape(e, b, tq, d)  # [E, B, Tq, heads·d_head]
        resid = (resid[:, :, -1:] if last_only else resid) + bmm(z, self.W_O)
        normed = self.ln_mlp(resid) if self.ln_mlp is not None else resid
        hidden = torch.relu(bmm(normed, self.W_in) + self.b_in[:, None, None])
        return resid + bmm(hidden, self.W_out) + self.b_out[:, None, None]


class LayerNorm(torch.nn.Module):
    """LayerNorm with per-member gain and bias [E, d]."""

    def __init__(self, members: int, d: int) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(members, d))
        self.bias = torch.nn.Parameter(torch.zeros(members, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        normed = F.layer_norm(x, x.shape[-1:])
        return normed * self.weight.view(shape) + self.bias.view(shape)
