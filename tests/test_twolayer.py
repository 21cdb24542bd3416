import pytest
import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models import ModelConfig, build_model


def test_twolayer_is_the_one_hot_network_with_square_activation():
    p, width = 5, 3
    cfg = ModelConfig(model="twolayer", width=width, activation="sqr")
    model = build_model(cfg, vocab=p, n_classes=p, seq_len=2, seeds=[0, 1])
    x = torch.tensor([[[0, 1], [4, 2], [3, 3]]] * 2)  # [E=2, B=3, 2]
    logits = model(x)
    for e in range(2):
        W_in, W_out = model.W_in[e].detach(), model.W_out[e].detach()  # [2p, h], [h, p]
        onehot = torch.cat([torch.eye(p)[x[e, :, 0]], torch.eye(p)[x[e, :, 1]]], dim=1)  # [B, 2p]
        expected = (onehot @ W_in).pow(2) @ W_out
        torch.testing.assert_close(logits[e], expected)
    assert {n for n, _ in model.named_parameters()} == {"W_in", "W_out"}  # no biases


def test_twolayer_init_scale_and_variance():
    cfg = ModelConfig(model="twolayer", width=400)
    small, big = (
        build_model(cfg, vocab=50, n_classes=50, seq_len=2, seeds=[0], init_scales=[a])
        for a in (1.0, 4.0)
    )
    torch.testing.assert_close(big.W_out, 4 * small.W_out)
    # torch.nn.Linear's variance 1 / (3 fan_in)
    assert small.W_in.std().item() == pytest.approx((3 * 100) ** -0.5, rel=0.05)
    assert small.W_out.std().item() == pytest.approx((3 * 400) ** -0.5, rel=0.05)


def test_square_activation_in_the_embedding_mlp():
    relu = build_model(ModelConfig(), vocab=7, n_classes=7, seq_len=2, seeds=[3])
    sqr = build_model(ModelConfig(activation="sqr"), vocab=7, n_classes=7, seq_len=2, seeds=[3])
    x = torch.tensor([[[1, 2], [5, 6]]])
    d = relu.W_E.shape[-1]
    pre = relu.W_E[0, x[0, :, 0]] @ relu.W_in[0, :d] + relu.W_E[0, x[0, :, 1]] @ relu.W_in[0, d:]
    torch.testing.assert_close(sqr(x)[0], pre.pow(2) @ sqr.W_out[0], rtol=1e-5, atol=1e-6)


def test_bad_activation_is_a_clear_error():
    with pytest.raises(ConfigError, match="activation: unknown 'tanh'"):
        RunConfig().replace(activation="tanh")
    with pytest.raises(ConfigError, match="activation: the transformer"):
        RunConfig().replace(model="transformer", activation="sqr")


def test_default_activation_leaves_run_ids_alone():
    assert "activation" not in RunConfig().canonical()
    assert RunConfig().replace(activation="relu").run_id() == RunConfig().run_id()
