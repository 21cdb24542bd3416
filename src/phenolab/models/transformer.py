"""Decoder-only transformer of Nanda et al. (2023), "Progress measures for grokking via
mechanistic interpretability" (arXiv:2301.05217): learned token and position embeddings,
1–2 blocks of causal multi-head attention (no biases) and a ReLU MLP, optional pre-LayerNorm,
unembedding read at the last position. Initial scales follow the paper's code description:
N(0, 1/d_model) for all weights except W_U ~ N(0, 1/classes).

Two exact shortcuts make full-batch training cheap:
- only the last position's output is used, so the last block computes its query, MLP and
  residual at that position alone (keys and values still see every position);
- the first block's input at position j is W_E[token] + W_pos[j], a function of (j, token)
  only, so its queries, keys and values are rows of small [T·vocab, d] tables computed once per
  step and gathered, instead of matmuls over every [batch, T] position.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from phenolab.errors import ConfigError
from phenolab.models.base import MODELS, ModelKind
from phenolab.models.embedding import TokenEmbedding
from phenolab.models.init import bmm, gather_rows, stacked_normal, zeros


class Transformer(TokenEmbedding, torch.nn.Module):
    # input and output layers (token embedding or its factors, position embedding, unembedding):
    # Muon leaves them to AdamW and orthogonalises the blocks' matrices (train/muon.py)
    exterior = ("W_E", "W_E_A", "W_E_B", "W_pos", "W_U")

    def __init__(
        self,
        cfg,
        vocab: int,
        n_classes: int,
        seq_len: int,
        seeds: list[int],
        scales: list[float],
    ) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        e, d, a = len(seeds), cfg.d_model, scales
        std = d**-0.5
        self.n_heads = cfg.n_heads
        self.init_embedding(gens, vocab, d, a, cfg.embed_rank)  # W_E [E, vocab, d] or A·B
        self.W_pos = stacked_normal(gens, (seq_len, d), std, a)  # [E, T, d]
        self.blocks = torch.nn.ModuleList(
            Block(gens, d, cfg.d_mlp, cfg.layernorm, a) for _ in range(cfg.n_layers)
        )
        self.ln_final = LayerNorm(e, d) if cfg.layernorm else None
        self.W_U = stacked_normal(gens, (d, n_classes), n_classes**-0.5, a)  # [E, d, classes]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [E, B, T] token ids → logits [E, B, classes] at the last position."""
        e, b, t = x.shape
        embedding = self.embedding()  # [E, vocab, d]
        vocab, d = embedding.shape[1], embedding.shape[2]
        table = (self.W_pos[:, :, None] + embedding[:, None]).reshape(e, t * vocab, d)  # [E,T·V,d]
        rows = x + torch.arange(t, device=x.device) * vocab  # [E, B, T] row of (j, token)
        resid = None
        for i, block in enumerate(self.blocks):
            last_only = i == len(self.blocks) - 1
            if i == 0:
                resid = block.first(table, rows, self.n_heads, last_only)
            else:
                resid = block(resid, self.n_heads, last_only)
        resid = resid[:, :, -1]  # [E, B, d]
        if self.ln_final is not None:
            resid = self.ln_final(resid)
        return bmm(resid, self.W_U)  # [E, B, classes]


class Block(torch.nn.Module):
    def __init__(self, gens, d: int, d_mlp: int, layernorm: bool, scale: list[float]) -> None:
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
        normed = self.ln_attn(resid) if self.ln_attn is not None else resid
        q_in = normed[:, :, -1:] if last_only else normed  # [E, B, Tq, d]
        q, k, v = bmm(q_in, self.W_Q), bmm(normed, self.W_K), bmm(normed, self.W_V)
        resid = resid[:, :, -1:] if last_only else resid
        return self._attend_and_mlp(resid, q, k, v, n_heads, last_only)

    def first(
        self, table: torch.Tensor, rows: torch.Tensor, n_heads: int, last_only: bool
    ) -> torch.Tensor:
        """The same block on the embedding: input row (j, token) of `table` [E, T·V, d] at
        rows [E, B, T]; projections are computed on the table and gathered."""
        normed = self.ln_attn(table) if self.ln_attn is not None else table  # [E, T·V, d]
        q_rows = rows[:, :, -1:] if last_only else rows  # [E, B, Tq]
        q = gather_rows(bmm(normed, self.W_Q), q_rows)  # [E, B, Tq, d]
        k = gather_rows(bmm(normed, self.W_K), rows)  # [E, B, T, d]
        v = gather_rows(bmm(normed, self.W_V), rows)
        resid = gather_rows(table, q_rows)  # [E, B, Tq, d]
        return self._attend_and_mlp(resid, q, k, v, n_heads, last_only)

    def _attend_and_mlp(self, resid, q, k, v, n_heads: int, last_only: bool) -> torch.Tensor:
        e, b, tq, d = q.shape
        t = k.shape[2]

        def heads(z: torch.Tensor, length: int) -> torch.Tensor:
            return z.view(e, b, length, n_heads, d // n_heads).transpose(2, 3)  # [E,B,H,len,dh]

        if last_only:
            z = _last_query_attention(q, k, v, n_heads)  # [E, B, 1, heads·d_head]
        else:
            z = F.scaled_dot_product_attention(
                heads(q, tq), heads(k, t), heads(v, t), is_causal=True
            )  # [E, B, H, Tq, d_head]
            z = z.transpose(2, 3).reshape(e, b, tq, d)  # [E, B, Tq, heads·d_head]
        resid = resid + bmm(z, self.W_O)
        normed = self.ln_mlp(resid) if self.ln_mlp is not None else resid
        hidden = torch.relu(bmm(normed, self.W_in) + self.b_in[:, None, None])
        return resid + bmm(hidden, self.W_out) + self.b_out[:, None, None]


def _last_query_attention(q, k, v, n_heads: int) -> torch.Tensor:
    """Attention of the last position's query q [E, B, 1, d] over keys and values [E, B, T, d]
    (it sees every position: no mask). With T a handful of tokens this is a few elementwise
    products and sums; a fused attention kernel would pad each (example, head) to a tile of
    64+ positions and a batched matmul would launch millions of 1×T products."""
    e, b, t, d = k.shape
    dh = d // n_heads
    q = q.view(e, b, 1, n_heads, dh)
    k, v = k.view(e, b, t, n_heads, dh), v.view(e, b, t, n_heads, dh)
    scores = (q * k).sum(-1) * dh**-0.5  # [E, B, T, H]
    weights = scores.softmax(dim=2)
    return (weights[..., None] * v).sum(2).reshape(e, b, 1, d)  # [E, B, 1, H·d_head]


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


class TransformerKind(ModelKind):
    summary = "decoder-only transformer over `x op y =` (Nanda et al. 2023)"
    fields = ("d_model", "n_heads", "d_mlp", "n_layers", "layernorm", "embed_rank")
    reads = "sequence"

    def check(self, cfg) -> None:
        if cfg.n_layers > 2:
            raise ConfigError(f"n_layers: 1 or 2 supported, got {cfg.n_layers}")
        if cfg.activation != "relu":
            raise ConfigError(
                "activation: the transformer's MLP is ReLU only; sqr needs mlp or twolayer"
            )

    def make(self, cfg, inputs, seeds, scales):
        vocab, n_classes, seq_len = inputs.vocab, inputs.n_classes, inputs.seq_len
        return Transformer(cfg, vocab, n_classes, seq_len, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        # the residual stream, attention and MLP per position; the first block's [T·vocab, d]
        # query, key and value tables
        vocab, seq_len = inputs.vocab, inputs.seq_len
        per_row = 10 * seq_len * cfg.d_model + 3 * cfg.d_mlp + 3 * inputs.n_classes
        return rows * per_row + 4 * seq_len * vocab * cfg.d_model


MODELS.register("transformer", TransformerKind("transformer"))
