"""The transformer options the papers' own code needs (issue 15): LayerNorm placement (pre, post,
the Grokfast code's normed residual), GELU, attention biases and PyTorch-default initialisation.
Each is checked against a plain PyTorch model of the same architecture with the same weights."""

import math

import pytest
import torch
import torch.nn.functional as F

from phenolab.errors import ConfigError
from phenolab.models import ModelConfig, build_model

D, HEADS, MLP, VOCAB, CLASSES, T = 32, 4, 128, 13, 11, 4


def tokens(batch: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, CLASSES, (1, batch, 2), generator=g)
    op, eq = torch.full((1, batch, 1), CLASSES), torch.full((1, batch, 1), CLASSES + 1)
    return torch.cat([x[..., :1], op, x[..., 1:], eq], dim=-1)  # [1, B, 4]


def perturb(model: torch.nn.Module) -> None:
    """Make zero biases and unit LayerNorm gains non-trivial, so that every path is exercised."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, prm in model.named_parameters():
            if name.split(".")[-1].startswith(("b_", "weight", "bias")):
                prm.add_(0.1 * torch.randn(prm.shape, generator=g))


class ReferenceBlock(torch.nn.Module):
    """The Grokfast code's block in plain PyTorch: x ← LN₁(x); x ← x + MHA(x); x ← x +
    MLP(LN₂(x)), causal mask, a GELU MLP with biases; inputs [T, B, d]."""

    def __init__(self) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = torch.nn.LayerNorm(D), torch.nn.LayerNorm(D)
        self.attn = torch.nn.MultiheadAttention(D, HEADS)
        self.mlp = torch.nn.Sequential(
            torch.nn.Linear(D, MLP), torch.nn.GELU(), torch.nn.Linear(MLP, D)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.triu(torch.full((len(x), len(x)), -float("inf")), diagonal=1)
        x = self.ln_1(x)
        x = x + self.attn(x, x, x, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


def copy_into_reference(m, e: int = 0):
    """A plain PyTorch model holding member e's weights of phenolab's transformer `m`."""
    blocks = torch.nn.ModuleList(ReferenceBlock() for _ in m.blocks)
    with torch.no_grad():
        for ref, blk in zip(blocks, m.blocks, strict=True):
            ref.ln_1.weight.copy_(blk.ln_attn.weight[e])
            ref.ln_1.bias.copy_(blk.ln_attn.bias[e])
            ref.ln_2.weight.copy_(blk.ln_mlp.weight[e])
            ref.ln_2.bias.copy_(blk.ln_mlp.bias[e])
            w = torch.cat([blk.W_Q[e].T, blk.W_K[e].T, blk.W_V[e].T])  # [3d, d], x @ Wᵀ
            ref.attn.in_proj_weight.copy_(w)
            ref.attn.in_proj_bias.copy_(torch.cat([blk.b_Q[e], blk.b_K[e], blk.b_V[e]]))
            ref.attn.out_proj.weight.copy_(blk.W_O[e].T)
            ref.attn.out_proj.bias.copy_(blk.b_O[e])
            ref.mlp[0].weight.copy_(blk.W_in[e].T)
            ref.mlp[0].bias.copy_(blk.b_in[e])
            ref.mlp[2].weight.copy_(blk.W_out[e].T)
            ref.mlp[2].bias.copy_(blk.b_out[e])

    def forward(x: torch.Tensor) -> torch.Tensor:  # x [B, T] → logits [B, classes]
        h = (m.W_E[e][x] + m.W_pos[e]).transpose(0, 1)  # [T, B, d]
        for ref in blocks:
            h = ref(h)
        last = F.layer_norm(h[-1], (D,), m.ln_final.weight[e], m.ln_final.bias[e])
        return last @ m.W_U[e]

    return forward


GROKFAST = dict(
    model="transformer",
    d_model=D,
    n_heads=HEADS,
    d_mlp=MLP,
    layernorm=True,
    layernorm_at="normed-residual",
    attn_bias=True,
    activation="gelu",
    init="torch",
)


@pytest.mark.parametrize("n_layers", [1, 2])
def test_grokfast_block_equals_plain_pytorch_modules(n_layers):
    m = build_model(ModelConfig(**GROKFAST, n_layers=n_layers), VOCAB, CLASSES, T, seeds=[3])
    perturb(m)
    x = tokens(40)
    out = m(x)
    assert out.shape == (1, 40, CLASSES)
    torch.testing.assert_close(out[0], copy_into_reference(m)(x[0]), rtol=1e-4, atol=1e-5)


def naive_post_ln(m, x: torch.Tensor, e: int = 0) -> torch.Tensor:
    """LN(x + attn(x)), LN(x + MLP(x)) per block, all positions, no final LN (openai/grok)."""
    resid = m.W_E[e][x] + m.W_pos[e]  # [B, T, d]
    b, t, d = resid.shape
    h = m.n_heads
    for blk in m.blocks:
        q = (resid @ blk.W_Q[e]).view(b, t, h, d // h).transpose(1, 2)
        k = (resid @ blk.W_K[e]).view(b, t, h, d // h).transpose(1, 2)
        v = (resid @ blk.W_V[e]).view(b, t, h, d // h).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        z = (scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v).transpose(1, 2)
        resid = resid + z.reshape(b, t, d) @ blk.W_O[e]
        resid = F.layer_norm(resid, (d,), blk.ln_attn.weight[e], blk.ln_attn.bias[e])
        resid = resid + torch.relu(resid @ blk.W_in[e] + blk.b_in[e]) @ blk.W_out[e] + blk.b_out[e]
        resid = F.layer_norm(resid, (d,), blk.ln_mlp.weight[e], blk.ln_mlp.bias[e])
    return resid[:, -1] @ m.W_U[e]


@pytest.mark.parametrize("n_layers", [1, 2])
def test_post_layernorm_equals_the_textbook_formula(n_layers):
    cfg = ModelConfig(
        model="transformer",
        d_model=D,
        n_heads=HEADS,
        d_mlp=MLP,
        n_layers=n_layers,
        layernorm=True,
        layernorm_at="post",
    )
    m = build_model(cfg, VOCAB, CLASSES, T, seeds=[0, 4])
    assert m.ln_final is None
    perturb(m)
    x = tokens(30)
    out = m(x.expand(2, -1, -1))
    for e in range(2):
        torch.testing.assert_close(out[e], naive_post_ln(m, x[0], e), rtol=1e-4, atol=1e-5)


def test_torch_init_follows_the_module_defaults():
    d, mlp = 128, 512
    cfg = ModelConfig(**{**GROKFAST, "d_model": d, "d_mlp": mlp, "n_layers": 2})
    m = build_model(cfg, 99, 97, 4, seeds=[0])
    # nn.Embedding N(0, 1); uniform U(±b) has std b/√3
    assert abs(m.W_E.std().item() - 1.0) < 0.02
    blk = m.blocks[0]
    bounds = {
        "W_Q": math.sqrt(6 / (4 * d)),  # xavier-uniform of the [3d, d] in-projection
        "W_O": d**-0.5,
        "W_in": d**-0.5,
        "b_in": d**-0.5,
        "W_out": mlp**-0.5,
    }
    for name, bound in bounds.items():
        w = getattr(blk, name)
        assert w.abs().max().item() <= bound
        assert w.abs().max().item() > 0.95 * bound, name  # fills its range
        assert abs(w.std().item() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3), name
    assert m.W_U.abs().max().item() <= d**-0.5
    assert torch.equal(blk.b_Q, torch.zeros_like(blk.b_Q))  # MHA's biases start at zero
    assert torch.equal(blk.b_O, torch.zeros_like(blk.b_O))


def test_options_keep_members_independent_and_init_scale_multiplies():
    cfg = ModelConfig(**GROKFAST, n_layers=2)
    ens = build_model(cfg, VOCAB, CLASSES, T, seeds=[5, 7])
    solo = build_model(cfg, VOCAB, CLASSES, T, seeds=[7])
    for (name, a), (_, b) in zip(ens.named_parameters(), solo.named_parameters(), strict=True):
        assert torch.equal(a[1:2], b), name
    big = build_model(ModelConfig(**GROKFAST, n_layers=2, init_scale=2.0), VOCAB, CLASSES, T, [7])
    for (name, a), (_, b) in zip(solo.named_parameters(), big.named_parameters(), strict=True):
        if name.split(".")[-1].startswith(("W", "b_in", "b_out")):
            torch.testing.assert_close(b, 2.0 * a, msg=name)


def test_gelu_in_the_mlp_model():
    m = build_model(ModelConfig(width=16, d_embed=8, activation="gelu"), 11, 11, 2, seeds=[0])
    x = torch.randint(0, 11, (1, 20, 2))
    emb = torch.cat([m.W_E[0][x[0, :, 0]], m.W_E[0][x[0, :, 1]]], dim=-1)
    ref = F.gelu(emb @ m.W_in[0] + m.b_in[0]) @ m.W_out[0] + m.b_out[0]
    torch.testing.assert_close(m(x)[0], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(model="mlp", init="torch"), "init: used by model=transformer only"),
        (dict(model="mlp", attn_bias=True), "attn_bias: used by model=transformer only"),
        (dict(model="transformer", layernorm_at="post"), "set layernorm true"),
        (dict(model="transformer", layernorm=True, layernorm_at="mid"), "layernorm_at: unknown"),
        (dict(model="transformer", init="xavier"), "init: unknown"),
        (dict(model="transformer", activation="sqr"), "relu or gelu"),
        (dict(model="transformer", init="torch", embed_rank=4), "embed_rank must be 0"),
    ],
)
def test_bad_options_are_one_line_config_errors(changes, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**changes)


def test_defaults_leave_the_canonical_config_unchanged():
    from phenolab.config import RunConfig

    plain = RunConfig().replace(model="transformer")
    same = plain.replace(layernorm_at="pre", attn_bias=False, init="normal", activation="relu")
    assert same.run_id() == plain.run_id()
    changed = plain.replace(attn_bias=True)
    assert changed.run_id() != plain.run_id()


def test_transformerlens_init_and_no_mlp_bias():
    cfg = ModelConfig(model="transformer", d_model=128, init="transformerlens", mlp_bias=False)
    m = build_model(cfg, 114, 113, 3, seeds=[0])
    std = 0.8 / math.sqrt(128)
    for name in ("W_E", "W_pos", "W_U", "blocks.0.W_Q", "blocks.0.W_in", "blocks.0.W_out"):
        w = m.get_parameter(name)
        assert abs(w.std().item() - std) < 0.05 * std, name
    blk = m.blocks[0]
    assert blk.b_in is None and blk.b_out is None
    assert not any("b_" in n for n, _ in m.named_parameters())
    # without MLP biases = the default model with the same weights and its biases at zero
    x = torch.randint(0, 113, (1, 20, 3))
    reference = build_model(ModelConfig(model="transformer", d_model=128), 114, 113, 3, [0])
    with torch.no_grad():
        for name, prm in reference.named_parameters():
            if name.endswith(("b_in", "b_out")):
                prm.zero_()
            else:
                prm.copy_(m.get_parameter(name))
    torch.testing.assert_close(m(x), reference(x), rtol=1e-5, atol=1e-6)
