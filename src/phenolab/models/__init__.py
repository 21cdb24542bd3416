"""Models with a leading member dimension E: one module holds E independent networks.

Each kind lives in its own module and is registered by name in `MODELS` (models/base.py):
mlp (mlp.py), transformer, twolayer, dense, cnn, rf (features.py). This module holds the model
section of a run config (`ModelConfig`) and `build_model`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import torch

from phenolab import param
from phenolab.errors import ConfigError
from phenolab.models.base import MODELS, Dims, ModelKind, hidden_widths

# Model kinds register on import, in the order `MODELS` lists them.
for _module in ("mlp", "transformer", "twolayer", "dense", "cnn", "features"):
    importlib.import_module(f"phenolab.models.{_module}")

from phenolab.models.features import FEATURE_MAPS  # noqa: E402
from phenolab.models.init import ACTIVATIONS  # noqa: E402

ACTIVATION_NAMES = tuple(ACTIVATIONS)

__all__ = ["MODELS", "Dims", "ModelConfig", "ModelKind", "build_model", "hidden_widths"]


@dataclass(frozen=True)
class ModelConfig:
    """Architecture and initialisation."""

    model: str = param(
        "mlp",
        "architecture: mlp (embedding MLP), transformer, twolayer (one-hot operands, no biases), "
        "dense (MLP over feature vectors), cnn (strided convolutions over images) or rf (random "
        "features and a linear head)",
    )
    width: int = param(128, "mlp, twolayer, dense: hidden width; cnn: channels")
    d_embed: int = param(64, "mlp: embedding dimension of each operand")
    d_model: int = param(128, "transformer: residual stream width")
    n_heads: int = param(4, "transformer: attention heads")
    d_mlp: int = param(512, "transformer: MLP hidden width")
    n_layers: int = param(
        1, "transformer: number of blocks (1 or 2); dense: hidden layers; cnn: conv layers"
    )
    widths: tuple[int, ...] = param(
        (),
        "dense: hidden widths layer by layer (e.g. 300,100: LeNet-300-100); cnn: channels of each"
        " conv layer; default: width × n_layers",
    )
    layernorm: bool = param(
        False,
        "transformer: LayerNorms in each block (two: around the attention and the MLP) and, but"
        " for post-LN, before the unembedding; where exactly: layernorm_at",
    )
    layernorm_at: str = param(
        "pre",
        "transformer with layernorm: pre (x + f(LN(x)), a final LN), post (LN(x + f(x)), no final"
        " LN: Power et al.'s openai/grok code) or normed-residual (x ← LN(x); x + attn(x); then"
        " x + MLP(LN(x)), a final LN: the Grokfast code's block)",
    )
    attn_bias: bool = param(
        False,
        "transformer: biases on the query, key, value and output projections (zero at init, as"
        " torch.nn.MultiheadAttention's)",
    )
    mlp_bias: bool = param(
        True,
        "transformer: biases in the MLP (false: none, as the Nanda et al. reference notebook,"
        " which freezes every bias at zero)",
    )
    init: str = param(
        "normal",
        "transformer: normal (N(0, 1/d_model) weights, N(0, 1/classes) unembedding: Nanda et"
        " al.'s code), torch (PyTorch's module defaults: N(0, 1) embeddings, xavier-uniform"
        " attention in-projection, U(±1/√fan_in) linear weights and MLP biases: the Grokfast"
        " code's) or transformerlens (every weight N(0, (0.8/√d_model)²): TransformerLens's)",
    )
    init_scale: float = param(1.0, "init scale α: every initial weight is multiplied by it")
    activation: str = param(
        "relu",
        "mlp, twolayer: hidden activation, relu, sqr (x²) or gelu; transformer: the MLP's, relu"
        " or gelu (exact erf GELU, torch.nn.GELU's default)",
    )
    feature_map: str = param(
        "relu", "rf: relu (max(0, Wx/√d), W Gaussian) or subset (p of the input coordinates)"
    )
    embed_rank: int = param(
        0,
        "mlp, transformer: factor the token embedding as W_E = A·B, A [vocab, r], B [r, d], both"
        " trained (GrokTransfer's low-rank embedding, Xu et al. 2025); 0: one table",
    )

    def __post_init__(self) -> None:
        kind = MODELS.get(self.model)
        for name in ("width", "d_embed", "d_model", "n_heads", "d_mlp", "n_layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be a positive integer, got {getattr(self, name)}")
        if any(w < 1 for w in self.widths):
            raise ConfigError(f"widths: each must be a positive integer, got {self.widths}")
        if self.d_model % self.n_heads:
            raise ConfigError(f"n_heads: {self.n_heads} does not divide d_model {self.d_model}")
        if self.activation not in ACTIVATION_NAMES:
            raise ConfigError(
                f"activation: unknown {self.activation!r} (valid: {', '.join(ACTIVATION_NAMES)})"
            )
        if self.feature_map not in FEATURE_MAPS:
            raise ConfigError(
                f"feature_map: unknown {self.feature_map!r} (valid: {', '.join(FEATURE_MAPS)})"
            )
        if self.embed_rank < 0:
            raise ConfigError(f"embed_rank: must be non-negative, got {self.embed_rank}")
        if not self.init_scale > 0:
            raise ConfigError(f"init_scale: must be positive, got {self.init_scale}")
        kind.check(self)
        if self.widths and "widths" not in kind.fields:
            users = " or ".join(_readers("widths"))
            raise ConfigError(f"widths: used by model={users} only, not {self.model}")
        for name in _DEFAULTS:
            if getattr(self, name) != _DEFAULTS[name] and name not in kind.fields:
                users = " and ".join(_readers(name))
                raise ConfigError(f"{name}: used by model={users} only, not {self.model}")
        if self.embed_rank and "embed_rank" not in kind.fields:
            users = " and ".join(_readers("embed_rank"))
            raise ConfigError(
                f"embed_rank: model={self.model} has no token embedding to factor ({users} have"
                " one)"
            )


_DEFAULTS = {"layernorm_at": "pre", "attn_bias": False, "mlp_bias": True, "init": "normal"}


def _readers(name: str) -> list[str]:
    return [n for n, kind in MODELS.items() if name in kind.fields]


def build_model(cfg: ModelConfig, *args, **kwargs) -> torch.nn.Module:
    """The module of the kind `cfg.model`: `ModelKind.build(cfg, vocab, n_classes, seq_len,
    seeds, init_scales=None, image_shape=None)` — E = len(seeds) members, member e initialised
    from torch.Generator(seeds[e]) with init scale init_scales[e] (default: cfg.init_scale). A
    dense model reads feature vectors of seq_len = d_in features, as does a random-features
    model (rf); n_classes = 0 (a regression task) gives it one output; a cnn reads images of
    `image_shape`."""
    return MODELS.get(cfg.model).build(cfg, *args, **kwargs)
