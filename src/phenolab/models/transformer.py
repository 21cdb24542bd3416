"""Decoder-only transformer of Nanda et al. (2023), "Progress measures for grokking via
mechanistic interpretability" (arXiv:2301.05217): learned token and position embeddings,
1–2 blocks of causal multi-head attention (no biases) and a ReLU MLP, optional pre-LayerNorm,
unembedding read at the last position. Initial scales follow the paper's code description:
N(0, 1/d_model) for all weights except W_U ~ N(0, 1/classes).

Options for the other papers' transformers (each off by default):
- `layernorm_at`: where the LayerNorms sit when `layernorm` is on — "pre" (x + f(LN(x)), a final
  LN before the unembedding), "post" (LN(x + f(x)), Vaswani et al. and Power et al.'s
  openai/grok code; no final LN) or "normed-residual" (the Grokfast code's block, from an
  unofficial Power et al. reimplementation: x ← LN₁(x); x ← x + attn(x); x ← x + MLP(LN₂(x));
  the attention's residual starts from the normalised stream; a final LN);
- `attn_bias`: biases on the query, key, value and output projections (nn.MultiheadAttention's,
  initialised to zero as there);
- `activation`: relu or gelu (the exact erf GELU of nn.GELU) in the MLP;
- `init`: "normal" (above), "torch" (PyTorch's defaults for the modules of the authors' code:
  nn.Embedding N(0, 1) for tokens and positions; nn.MultiheadAttention's xavier-uniform
  in-projection and zero biases; nn.Linear's U(±1/√fan_in) for the output projection, the MLP's
  weights and biases and the unembedding) or "transformerlens" (every weight N(0, (0.8/√d)²),
  TransformerLens's default, used by the maintained reference notebook of Nanda et al.);
- `mlp_bias`: false leaves the MLP's biases out (the reference notebook freezes every bias at
  zero).

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
from phenolab.models.init import (
    ACTIVATIONS,
    bmm,
    gather_rows,
    stacked_normal,
    stacked_uniform,
    zeros,
)

LAYERNORM_AT = ("pre", "post", "normed-residual")
INITS = ("normal", "torch", "transformerlens")
TL_RANGE = 0.8  # TransformerLens's default initializer range, times 1/√d_model


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
        torch_init = cfg.init == "torch"
        tl = TL_RANGE * d**-0.5 if cfg.init == "transformerlens" else None
        self.n_heads = cfg.n_heads
        if torch_init or tl:  # nn.Embedding: N(0, 1)
            self.embed_rank = 0
            self.W_E = stacked_normal(gens, (vocab, d), tl or 1.0, a)  # [E, vocab, d]
            self.W_pos = stacked_normal(gens, (seq_len, d), tl or 1.0, a)  # [E, T, d]
        else:
            self.init_embedding(gens, vocab, d, a, cfg.embed_rank)  # W_E [E, vocab, d] or A·B
            self.W_pos = stacked_normal(gens, (seq_len, d), d**-0.5, a)  # [E, T, d]
        self.blocks = torch.nn.ModuleList(Block(gens, cfg, a) for _ in range(cfg.n_layers))
        final = cfg.layernorm and cfg.layernorm_at != "post"
        self.ln_final = LayerNorm(e, d) if final else None
        if torch_init:  # nn.Linear(d, classes, bias=False)
            self.W_U = stacked_uniform(gens, (d, n_classes), d**-0.5, a)
        elif tl:
            self.W_U = stacked_normal(gens, (d, n_classes), tl, a)
        else:
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
    def __init__(self, gens, cfg, scale: list[float]) -> None:
        super().__init__()
        e, d, d_mlp = len(gens), cfg.d_model, cfg.d_mlp
        self.act = ACTIVATIONS[cfg.activation]
        # where the LayerNorms act (None: no LayerNorm)
        self.place = cfg.layernorm_at if cfg.layernorm else None
        if cfg.init == "torch":
            qkv = (6 / (d + 3 * d)) ** 0.5  # xavier-uniform of the [3d, d] in-projection
            self.W_Q = stacked_uniform(gens, (d, d), qkv, scale)  # [E, d, heads·d_head]
            self.W_K = stacked_uniform(gens, (d, d), qkv, scale)
            self.W_V = stacked_uniform(gens, (d, d), qkv, scale)
            self.W_O = stacked_uniform(gens, (d, d), d**-0.5, scale)  # [E, heads·d_head, d]
            self.W_in = stacked_uniform(gens, (d, d_mlp), d**-0.5, scale)  # [E, d, d_mlp]
            self.b_in = stacked_uniform(gens, (d_mlp,), d**-0.5, scale)
            self.W_out = stacked_uniform(gens, (d_mlp, d), d_mlp**-0.5, scale)  # [E, d_mlp, d]
            self.b_out = stacked_uniform(gens, (d,), d_mlp**-0.5, scale)
        else:
            std = TL_RANGE * d**-0.5 if cfg.init == "transformerlens" else d**-0.5
            self.W_Q = stacked_normal(gens, (d, d), std, scale)  # [E, d, heads·d_head]
            self.W_K = stacked_normal(gens, (d, d), std, scale)
            self.W_V = stacked_normal(gens, (d, d), std, scale)
            self.W_O = stacked_normal(gens, (d, d), std, scale)  # [E, heads·d_head, d]
            self.W_in = stacked_normal(gens, (d, d_mlp), std, scale)  # [E, d, d_mlp]
            self.b_in = zeros(e, d_mlp)
            self.W_out = stacked_normal(gens, (d_mlp, d), std, scale)  # [E, d_mlp, d]
            self.b_out = zeros(e, d)
        if not cfg.mlp_bias:
            self.b_in = self.b_out = None
        if cfg.attn_bias:  # [E, d] each, zero as nn.MultiheadAttention's
            self.b_Q, self.b_K, self.b_V, self.b_O = (zeros(e, d) for _ in range(4))
        else:
            self.b_Q = self.b_K = self.b_V = self.b_O = None
        self.ln_attn = LayerNorm(e, d) if cfg.layernorm else None
        self.ln_mlp = LayerNorm(e, d) if cfg.layernorm else None

    def _project(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        out = bmm(x, w)
        if b is None:
            return out
        return out + b.view(b.shape[0], *([1] * (out.dim() - 2)), b.shape[1])

    def _attention_input(self, resid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(what the attention reads, the residual it is added to) of the block's input."""
        if self.place == "pre":
            return self.ln_attn(resid), resid
        if self.place == "normed-residual":
            normed = self.ln_attn(resid)
            return normed, normed
        return resid, resid  # post-LN normalises after the sum; no LayerNorm at all

    def forward(self, resid: torch.Tensor, n_heads: int, last_only: bool) -> torch.Tensor:
        """resid [E, B, T, d] → [E, B, T', d], T' = 1 if last_only else T."""
        normed, resid = self._attention_input(resid)
        q_in = normed[:, :, -1:] if last_only else normed  # [E, B, Tq, d]
        q = self._project(q_in, self.W_Q, self.b_Q)
        k = self._project(normed, self.W_K, self.b_K)
        v = self._project(normed, self.W_V, self.b_V)
        resid = resid[:, :, -1:] if last_only else resid
        return self._attend_and_mlp(resid, q, k, v, n_heads, last_only)

    def first(
        self, table: torch.Tensor, rows: torch.Tensor, n_heads: int, last_only: bool
    ) -> torch.Tensor:
        """The same block on the embedding: input row (j, token) of `table` [E, T·V, d] at
        rows [E, B, T]; projections are computed on the table and gathered."""
        normed, table = self._attention_input(table)  # [E, T·V, d] each
        q_rows = rows[:, :, -1:] if last_only else rows  # [E, B, Tq]
        q = gather_rows(self._project(normed, self.W_Q, self.b_Q), q_rows)  # [E, B, Tq, d]
        k = gather_rows(self._project(normed, self.W_K, self.b_K), rows)  # [E, B, T, d]
        v = gather_rows(self._project(normed, self.W_V, self.b_V), rows)
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
        resid = resid + self._project(z, self.W_O, self.b_O)
        if self.place == "post":
            resid = self.ln_attn(resid)
        normed = self.ln_mlp(resid) if self.place in ("pre", "normed-residual") else resid
        hidden = bmm(normed, self.W_in)
        if self.b_in is not None:
            hidden = hidden + self.b_in[:, None, None]
        out = resid + bmm(self.act(hidden), self.W_out)
        if self.b_out is not None:
            out = out + self.b_out[:, None, None]
        return self.ln_mlp(out) if self.place == "post" else out


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
    fields = (
        "d_model",
        "n_heads",
        "d_mlp",
        "n_layers",
        "layernorm",
        "layernorm_at",
        "attn_bias",
        "mlp_bias",
        "activation",
        "init",
        "embed_rank",
    )
    reads = "sequence"

    def check(self, cfg) -> None:
        if cfg.n_layers > 2:
            raise ConfigError(f"n_layers: 1 or 2 supported, got {cfg.n_layers}")
        if cfg.activation not in ("relu", "gelu"):
            raise ConfigError(
                f"activation: the transformer's MLP is relu or gelu, got {cfg.activation}; sqr"
                " needs mlp or twolayer"
            )
        if cfg.layernorm_at not in LAYERNORM_AT:
            raise ConfigError(
                f"layernorm_at: unknown {cfg.layernorm_at!r} (valid: {', '.join(LAYERNORM_AT)})"
            )
        if cfg.layernorm_at != "pre" and not cfg.layernorm:
            raise ConfigError("layernorm_at: places the LayerNorms; set layernorm true too")
        if cfg.init not in INITS:
            raise ConfigError(f"init: unknown {cfg.init!r} (valid: {', '.join(INITS)})")
        if cfg.init != "normal" and cfg.embed_rank:
            raise ConfigError(
                f"init: {cfg.init} initialises one embedding table; embed_rank must be 0"
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
