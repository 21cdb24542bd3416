"""Muon (train/muon.py): Newton–Schulz, the update against a hand-written reference, per-member
hyperparameters, the parameter split, and runs that train, resume and batch like the others."""

import pytest
import torch

from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models import ModelConfig, build_model
from phenolab.run import Options
from phenolab.store import Store
from phenolab.train.members import member_slice, stack_members
from phenolab.train.muon import NS_COEFFICIENTS, Muon, newton_schulz
from phenolab.train.optim import make_optimizer
from tests.conftest import TINY, run, run_ensemble
from tests.test_ensemble import CUDA, assert_same_curves
from tests.test_runner import CrashAt, curves


@pytest.mark.parametrize("shape", [(3, 32, 64), (3, 64, 32)])
def test_newton_schulz_is_near_orthogonal_and_batched_per_member(shape):
    g = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    ortho = newton_schulz(g)
    assert ortho.shape == g.shape
    singular = torch.linalg.svdvals(ortho)  # [E, min(m, n)]
    assert singular.min() > 0.6 and singular.max() < 1.3  # the quintic's band, not exactly 1
    # the same directions as G: U Vᵀ up to the band, so ⟨O, G⟩ > 0 for each member
    assert ((ortho * g).sum((1, 2)) > 0).all()
    alone = torch.cat([newton_schulz(g[e : e + 1]) for e in range(shape[0])])
    torch.testing.assert_close(ortho, alone, rtol=1e-5, atol=1e-6)


def _reference_orthogonalise(u: torch.Tensor) -> torch.Tensor:
    """Newton–Schulz on one 2-D matrix, written out as in the Muon write-up."""
    a, b, c = NS_COEFFICIENTS
    x = u / (torch.sqrt((u * u).sum()) + 1e-7)
    transposed = x.shape[0] > x.shape[1]
    if transposed:
        x = x.T
    for _ in range(5):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if transposed else x


def _reference_muon(w, grads, lr, wd, warmup, mu):
    """One matrix, one member: Nesterov momentum, orthogonalise, scale, decoupled decay."""
    w, buf = w.clone(), torch.zeros_like(w)
    for step, g in enumerate(grads, start=1):
        eta = lr * min(1.0, step / warmup)
        buf = mu * buf + g
        ortho = _reference_orthogonalise(g + mu * buf)
        fan_in, fan_out = w.shape
        w = w * (1 - eta * wd) - eta * max(1.0, fan_out / fan_in) ** 0.5 * ortho
    return w


@pytest.mark.parametrize("muon_lr", [None, 0.3])
def test_one_member_matches_a_single_matrix_reference_and_torch_adamw_elsewhere(muon_lr):
    gen = torch.Generator().manual_seed(1)
    lr, wd, warmup, mu, steps = 0.05, 0.5, 3, 0.9, 8
    shapes = {"tall": (8, 4), "wide": (4, 8), "W_E": (5, 4), "bias": (4,)}  # W_E: exterior
    start = {name: torch.randn(1, *shape, generator=gen) for name, shape in shapes.items()}
    grads = [
        {n: torch.randn(1, *s, generator=gen) for n, s in shapes.items()} for _ in range(steps)
    ]

    params = {name: w.clone().requires_grad_() for name, w in start.items()}
    opt = Muon(params.items(), [lr], [wd], [warmup], mu, muon_lr=muon_lr, exterior=["W_E"])
    assert [id(p) for p in opt.hidden] == [id(params["tall"]), id(params["wide"])]
    others = [start[n].clone().requires_grad_() for n in ("W_E", "bias")]
    torch_adamw = torch.optim.AdamW(others, lr=lr, weight_decay=wd, betas=(0.9, 0.98), eps=1e-8)
    warm = torch.optim.lr_scheduler.LambdaLR(torch_adamw, lambda s: min(1.0, (s + 1) / warmup))
    for g in grads:
        opt.zero_grad()
        for name, p in params.items():
            p.grad = g[name].clone()
        opt.step()
        for p, name in zip(others, ("W_E", "bias"), strict=True):
            p.grad = g[name].clone()
        torch_adamw.step()
        warm.step()

    for name in ("tall", "wide"):
        hidden_lr = muon_lr or lr  # its own lr where given; AdamW keeps lr either way
        hidden_grads = [g[name][0] for g in grads]
        expected = _reference_muon(start[name][0], hidden_grads, hidden_lr, wd, warmup, mu)
        torch.testing.assert_close(params[name][0].detach(), expected, rtol=1e-4, atol=1e-5)
    for p, name in zip(others, ("W_E", "bias"), strict=True):
        torch.testing.assert_close(params[name].detach(), p.detach(), rtol=1e-5, atol=1e-6)


def test_per_member_learning_rate_is_applied():
    gen = torch.Generator().manual_seed(2)
    w = torch.randn(2, 6, 6, generator=gen).requires_grad_()
    b = torch.randn(2, 6, generator=gen).requires_grad_()
    before = [w.detach().clone(), b.detach().clone()]
    opt = Muon([("w", w), ("b", b)], lr=[0.0, 0.1], wd=[1.0, 1.0])
    for _ in range(3):
        opt.zero_grad()
        (w.square().sum() + b.square().sum() + (w.sum((1, 2)) * b.sum(1)).sum()).backward()
        opt.step()
    for p, p0 in zip((w, b), before, strict=True):
        torch.testing.assert_close(p[0].detach(), p0[0], rtol=0, atol=0)  # lr 0: untouched
        assert not torch.allclose(p[1].detach(), p0[1])


@pytest.mark.parametrize(
    "overrides, hidden",
    [
        (dict(), ["W_in"]),
        (
            dict(model="transformer", d_model=16, d_mlp=32, n_heads=2),
            ["blocks.0.W_Q", "blocks.0.W_K", "blocks.0.W_V", "blocks.0.W_O", "blocks.0.W_in"]
            + ["blocks.0.W_out"],
        ),
        (dict(model="dense", n_layers=3), ["W_hidden.0", "W_hidden.1"]),
    ],
)
def test_muon_takes_the_hidden_matrices_and_leaves_input_and_output_layers(overrides, hidden):
    cfg = RunConfig().replace(optimizer="muon")
    model = build_model(ModelConfig(**overrides), 16, 11, 3, [0, 1])
    opt = make_optimizer([cfg, cfg], model)
    names = {id(p): name for name, p in model.named_parameters()}
    assert [names[id(p)] for p in opt.hidden] == hidden
    assert len(opt.hidden) + len(opt.adamw.params) == len(list(model.parameters()))


def test_muon_on_a_model_without_hidden_matrices_is_a_config_error():
    cfg = RunConfig().replace(optimizer="muon")
    model = build_model(ModelConfig(model="twolayer"), 11, 11, 2, [0])
    with pytest.raises(ConfigError, match="optimizer: muon needs a hidden matrix"):
        make_optimizer([cfg], model)


@pytest.mark.parametrize("value", [1.0, -0.1])
def test_bad_muon_momentum_is_a_config_error(value):
    with pytest.raises(ConfigError, match="muon_momentum: must be in"):
        RunConfig().replace(optimizer="muon", muon_momentum=value)


@pytest.mark.parametrize(
    "fields, match",
    [(dict(optimizer="muon", muon_lr=-1), "must be non-negative"), (dict(muon_lr=0.02), "adamw")],
)
def test_bad_muon_lr_is_a_config_error(fields, match):
    with pytest.raises(ConfigError, match=f"muon_lr: .*{match}"):
        RunConfig().replace(**fields)
    assert RunConfig().replace(optimizer="muon").run_id() == (
        RunConfig().replace(optimizer="muon", muon_lr=0).run_id()  # 0 (the default): lr
    )


def test_muon_grokking_run_trains_and_resumes_from_a_checkpoint(tmp_path):
    cfg = RunConfig().replace(**TINY).replace(optimizer="muon", steps=300)
    reference = Store(tmp_path / "ref.db")
    run(cfg, reference, device="cpu")
    loss = reference.metrics(cfg.run_id())["train/loss"][1]
    assert loss[-1] < 0.1 * loss[0]

    store = Store(tmp_path / "crash.db")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(cfg, store, "cpu", callbacks=[CrashAt(250)], options=Options(checkpoint_seconds=0))
    step, _, member = store.load_checkpoint(cfg.run_id())
    assert step == 240
    optim = member["optimizer"]
    assert {"step", "momentum_buffer", "adamw"} <= set(optim)
    assert all(t.shape[0] == 1 for t in optim["momentum_buffer"] + optim["adamw"]["exp_avg"])
    result = run(cfg, store, device="cpu")
    assert result.resumed_from == 240
    assert curves(store, cfg.run_id()) == curves(reference, cfg.run_id())


def test_optimizer_state_slices_into_members_and_stacks_back():
    cfg = RunConfig().replace(p=11, optimizer="muon")
    model = build_model(cfg.model, 11, 11, 2, [0, 1, 2])
    opt = make_optimizer([cfg.replace(lr=lr) for lr in (1e-2, 3e-3, 1e-3)], model)
    model(torch.randint(0, 11, (3, 5, 2))).sum().backward()
    opt.step()
    state = opt.state_dict()
    restacked = stack_members([member_slice(state, e) for e in range(3)])
    other = make_optimizer([cfg] * 3, model)
    other.load_state_dict(restacked)
    for a, b in zip(opt.state["momentum_buffer"], other.state["momentum_buffer"], strict=True):
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(opt.adamw.state["exp_avg_sq"], other.adamw.state["exp_avg_sq"])
    torch.testing.assert_close(opt.state["step"], other.state["step"])


@pytest.mark.parametrize(
    "device, fast",
    [
        ("cpu", False),
        pytest.param("cuda", False, marks=CUDA),
        pytest.param("cuda", True, marks=CUDA),
    ],
)
def test_muon_member_equals_the_same_config_trained_alone(tmp_path, device, fast):
    """(On CUDA also with the ensemble's step replayed from a CUDA graph.)"""
    base = RunConfig().replace(**TINY).replace(optimizer="muon", steps=120, eval_every=40)
    configs = [
        base,
        base.replace(seed=1, lr=3e-3),
        base.replace(seed=2, wd=0.1, warmup=50, frac=0.4),
    ]
    ens_store, solo_store = Store(tmp_path / "ens.db"), Store(tmp_path / "solo.db")
    run_ensemble(configs, ens_store, device, options=Options(fast=fast))
    for cfg in configs:
        run(cfg, solo_store, device)
        assert_same_curves(
            ens_store.metrics(cfg.run_id()), solo_store.metrics(cfg.run_id()), device
        )
