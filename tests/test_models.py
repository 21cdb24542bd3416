import math

import pytest
import torch
import torch.nn.functional as F

from phenolab.models import ModelConfig, build_model
from phenolab.models.mlp import EmbedMLP
from phenolab.models.transformer import Transformer

torch.set_default_dtype(torch.float32)


def naive_mlp(m: EmbedMLP, x: torch.Tensor) -> torch.Tensor:
    """The textbook embedding MLP: concat(W_E[x], W_E[y]) → ReLU(· W_in + b) → · W_out + b."""
    outs = []
    for e in range(m.W_E.shape[0]):
        emb = torch.cat([m.W_E[e][x[e, :, 0]], m.W_E[e][x[e, :, 1]]], dim=-1)  # [B, 2d]
        hidden = torch.relu(emb @ m.W_in[e] + m.b_in[e])
        outs.append(hidden @ m.W_out[e] + m.b_out[e])
    return torch.stack(outs)


def naive_transformer(m: Transformer, x: torch.Tensor) -> torch.Tensor:
    """A plain per-member, all-positions causal transformer with the same weights."""
    outs = []
    for e in range(x.shape[0]):
        resid = m.W_E[e][x[e]] + m.W_pos[e]  # [B, T, d]
        b, t, d = resid.shape
        h = m.n_heads
        for blk in m.blocks:
            normed = (
                resid
                if blk.ln_attn is None
                else F.layer_norm(resid, (d,), blk.ln_attn.weight[e], blk.ln_attn.bias[e])
            )
            q = (normed @ blk.W_Q[e]).view(b, t, h, d // h).transpose(1, 2)
            k = (normed @ blk.W_K[e]).view(b, t, h, d // h).transpose(1, 2)
            v = (normed @ blk.W_V[e]).view(b, t, h, d // h).transpose(1, 2)
            scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
            mask = torch.ones(t, t, dtype=torch.bool).tril()
            attn = scores.masked_fill(~mask, float("-inf")).softmax(-1)
            z = (attn @ v).transpose(1, 2).reshape(b, t, d)
            resid = resid + z @ blk.W_O[e]
            normed = (
                resid
                if blk.ln_mlp is None
                else F.layer_norm(resid, (d,), blk.ln_mlp.weight[e], blk.ln_mlp.bias[e])
            )
            resid = (
                resid + torch.relu(normed @ blk.W_in[e] + blk.b_in[e]) @ blk.W_out[e] + blk.b_out[e]
            )
        last = resid[:, -1]
        if m.ln_final is not None:
            last = F.layer_norm(last, (d,), m.ln_final.weight[e], m.ln_final.bias[e])
        outs.append(last @ m.W_U[e])
    return torch.stack(outs)


def tokens(members: int, batch: int, p: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, p, (members, batch, 2), generator=g)
    op, eq = torch.full((members, batch, 1), p), torch.full((members, batch, 1), p + 1)
    return torch.cat([x[..., :1], op, x[..., 1:], eq], dim=-1)


def test_mlp_shapes_and_factorised_first_layer_is_exact():
    m = build_model(
        ModelConfig(width=32, d_embed=16), vocab=11, n_classes=11, seq_len=2, seeds=[0, 1, 2]
    )
    x = torch.randint(0, 11, (3, 50, 2))
    out = m(x)
    assert out.shape == (3, 50, 11)
    torch.testing.assert_close(out, naive_mlp(m, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_layers", [1, 2])
@pytest.mark.parametrize("layernorm", [False, True])
def test_transformer_matches_naive_all_positions_reference(n_layers, layernorm):
    cfg = ModelConfig(
        model="transformer", d_model=32, n_heads=4, d_mlp=64, n_layers=n_layers, layernorm=layernorm
    )
    m = build_model(cfg, vocab=13, n_classes=11, seq_len=4, seeds=[0, 1])
    if layernorm:  # make the LayerNorm parameters non-trivial
        with torch.no_grad():
            for name, prm in m.named_parameters():
                if "ln" in name:
                    prm.add_(0.1 * torch.randn_like(prm))
    x = tokens(2, 40, 11)
    out = m(x)
    assert out.shape == (2, 40, 11)
    torch.testing.assert_close(out, naive_transformer(m, x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_ensemble_member_equals_model_built_alone(kind):
    cfg = ModelConfig(model=kind, width=32, d_embed=16, d_model=32, d_mlp=64)
    ens = build_model(cfg, vocab=13, n_classes=11, seq_len=4, seeds=[5, 7, 9])
    solo = build_model(cfg, vocab=13, n_classes=11, seq_len=4, seeds=[7])
    for (name, p_ens), (_, p_solo) in zip(
        ens.named_parameters(), solo.named_parameters(), strict=True
    ):
        assert torch.equal(p_ens[1:2], p_solo), name
    x = tokens(1, 30, 11) if kind == "transformer" else torch.randint(0, 11, (1, 30, 2))
    torch.testing.assert_close(ens(x.expand(3, -1, -1))[1:2], solo(x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_init_scale_multiplies_every_initial_weight(kind):
    base = dict(model=kind, width=32, d_embed=16, d_model=32, d_mlp=64)
    m1 = build_model(ModelConfig(**base), 13, 11, 4, seeds=[3])
    m8 = build_model(ModelConfig(**base, init_scale=8.0), 13, 11, 4, seeds=[3])
    for (name, a), (_, b) in zip(m1.named_parameters(), m8.named_parameters(), strict=True):
        if name.startswith("W") or ".W" in name:
            torch.testing.assert_close(b, 8.0 * a, msg=name)


def test_initial_scales_follow_the_papers():
    # Transformer (Nanda et al.): N(0, 1/d_model) weights; MLP: unit-norm-ish embeddings.
    t = build_model(ModelConfig(model="transformer", d_model=128), 115, 113, 4, seeds=[0])
    assert abs(t.W_E.std().item() - 128**-0.5) < 0.01
    assert abs(t.W_U.std().item() - 113**-0.5) < 0.01
    m = build_model(ModelConfig(d_embed=64), 97, 97, 2, seeds=[0])
    assert abs(m.W_E.std().item() - 64**-0.5) < 0.01


@pytest.mark.parametrize(
    "changes",
    [
        dict(),
        dict(embed_rank=8),
        dict(model="transformer", n_layers=2, layernorm=True),
        dict(model="twolayer", activation="sqr"),
        dict(model="dense", op="parity", batch_size=8, widths=(30, 20)),
        dict(model="cnn", op="digits", widths=(4, 8)),
        dict(model="rf", op="linear", n_train=20, optimizer="lstsq", loss="mse", wd=0.0),
        dict(
            model="rf",
            op="linear",
            n_train=20,
            optimizer="lstsq",
            loss="mse",
            wd=0.0,
            feature_map="subset",
            width=50,
        ),
    ],
)
def test_each_kind_counts_the_numbers_its_module_holds(changes):
    """The shard planner's count (ModelKind.parameter_count, a meta-device build) is the real
    module's: parameters and buffers of one member."""
    from phenolab.config import RunConfig
    from phenolab.models import MODELS
    from phenolab.run.shards import parameter_count
    from phenolab.tasks import dims

    cfg = RunConfig().replace(**changes)
    shape = dims(cfg.task, MODELS[cfg.model.model].reads)
    model = build_model(
        cfg.model, shape.vocab, shape.n_classes, shape.seq_len, [0], image_shape=shape.image_shape
    )
    held = sum(t.numel() for t in (*model.parameters(), *model.buffers()))
    assert parameter_count(cfg) == held
