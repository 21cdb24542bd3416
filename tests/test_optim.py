import pytest
import torch

from phenolab.train.optim import SGD, Adam, AdamW


def _problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(1, 6, 4, generator=g)
    b = torch.randn(1, 4, generator=g)
    x = torch.randn(32, 6, generator=g)
    y = torch.randn(32, 4, generator=g)
    return w, b, x, y


def _loss(w, b, x, y):
    return ((x @ w[0] + b[0] - y) ** 2).mean()


def _run(make_ours, make_torch, steps=25):
    w, b, x, y = _problem()
    ours = [w.clone().requires_grad_(), b.clone().requires_grad_()]
    ref = [w.clone().requires_grad_(), b.clone().requires_grad_()]
    opt, ref_opt = make_ours(ours), make_torch(ref)
    for _ in range(steps):
        for params, o in ((ours, opt), (ref, ref_opt)):
            o.zero_grad()
            _loss(*params, x, y).backward()
            o.step()
    return ours, ref


def test_adamw_matches_torch_for_one_member():
    ours, ref = _run(
        lambda p: AdamW(p, lr=[3e-2], wd=[0.5], betas=(0.9, 0.98), eps=1e-8),
        lambda p: torch.optim.AdamW(p, lr=3e-2, weight_decay=0.5, betas=(0.9, 0.98), eps=1e-8),
    )
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_adam_with_l2_matches_torch_for_one_member():
    ours, ref = _run(
        lambda p: Adam(p, lr=[3e-2], wd=[0.5], betas=(0.9, 0.999), eps=1e-8),
        lambda p: torch.optim.Adam(p, lr=3e-2, weight_decay=0.5, betas=(0.9, 0.999), eps=1e-8),
    )
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch_for_one_member(momentum):
    ours, ref = _run(
        lambda p: SGD(p, lr=[0.05], wd=[0.1], momentum=momentum),
        lambda p: torch.optim.SGD(p, lr=0.05, weight_decay=0.1, momentum=momentum),
    )
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [AdamW, SGD])
def test_per_member_learning_rate_and_weight_decay_apply_to_their_member_only(cls):
    p = torch.ones(3, 2, 2, requires_grad=True)
    opt = cls([p], lr=[0.0, 0.1, 0.1], wd=[0.0, 0.0, 1.0])
    p.grad = torch.zeros_like(p)  # no gradient: only weight decay moves weights
    opt.step()
    assert torch.equal(p[0], torch.ones(2, 2))  # lr 0: frozen
    assert torch.equal(p[1], torch.ones(2, 2))  # wd 0, zero gradient: unchanged
    assert (p[2] < 1).all()  # wd 1: decayed


def test_optimizer_state_round_trips():
    w, b, x, y = _problem()
    params = [w.clone().requires_grad_()]
    opt = AdamW(params, lr=[1e-2], wd=[1.0])
    _loss(params[0], b, x, y).backward()
    opt.step()
    state = opt.state_dict()
    clone = AdamW([params[0].detach().clone().requires_grad_()], lr=[1e-2], wd=[1.0])
    clone.load_state_dict(state)
    assert clone.state["step"].tolist() == [1.0]
    torch.testing.assert_close(clone.state["exp_avg"][0], opt.state["exp_avg"][0])


def test_linear_warmup_per_member():
    opt = SGD([torch.zeros(2, 1, requires_grad=True)], lr=[1.0, 0.5], wd=[0.0, 0.0], warmup=[4, 0])
    lrs = [opt.next_learning_rate().tolist() for _ in range(5)]
    assert lrs == [[0.25, 0.5], [0.5, 0.5], [0.75, 0.5], [1.0, 0.5], [1.0, 0.5]]


def test_old_checkpoints_with_an_integer_step_load():
    opt = AdamW([torch.zeros(3, 2, requires_grad=True)], lr=[1e-2] * 3, wd=[1.0] * 3)
    state = opt.state_dict() | {"step": 7}  # run format 1 stored the shared count as an int
    opt.load_state_dict(state)
    assert opt.state["step"].tolist() == [7.0, 7.0, 7.0]


def test_make_optimizer_builds_the_named_kind_with_each_members_values():
    from phenolab.config import RunConfig
    from phenolab.errors import ConfigError
    from phenolab.train.optim import make_optimizer

    model = torch.nn.Linear(3, 2)
    base = RunConfig().replace(lr=0.1, wd=0.5, warmup=0)
    members = [base, base.replace(lr=0.2, wd=0.0, warmup=5)]
    for name, cls in (("adamw", AdamW), ("adam", Adam), ("sgd", SGD)):
        opt = make_optimizer([c.replace(optimizer=name) for c in members], model)
        assert type(opt) is cls
        assert opt.lr.tolist() == [0.1, 0.2] and opt.wd.tolist() == [0.5, 0.0]
        assert opt.warmup.tolist() == [0.0, 5.0]
    adamw = make_optimizer([base.replace(betas=(0.8, 0.9), eps=1e-6)], model)
    assert adamw.betas == (0.8, 0.9) and adamw.eps == 1e-6
    assert make_optimizer([base.replace(optimizer="sgd", momentum=0.9)], model).momentum == 0.9
    lstsq = RunConfig().replace(
        op="linear", model="rf", n_train=8, optimizer="lstsq", loss="mse", wd=0.0
    )
    with pytest.raises(ConfigError, match="lstsq is a closed-form solve"):
        make_optimizer([lstsq], model)


def test_warmup_offset_one_is_torch_lambdalr_as_in_the_grokfast_code():
    """Adam, warmup 10 delayed by one step = torch.optim.Adam with LambdaLR(u ↦ 1 if u > 10 else
    u / 10) stepped after each update (lr 0 at the first step, as the authors' Grokfast code)."""
    w, b, x, y = _problem()
    ours = [w.clone().requires_grad_(), b.clone().requires_grad_()]
    ref = [w.clone().requires_grad_(), b.clone().requires_grad_()]
    opt = Adam(ours, lr=[3e-2], wd=[0.01], warmup=[10], betas=(0.9, 0.98), eps=1e-8)
    opt.warmup_offset = 1.0
    ref_opt = torch.optim.Adam(ref, lr=3e-2, weight_decay=0.01, betas=(0.9, 0.98), eps=1e-8)
    schedule = torch.optim.lr_scheduler.LambdaLR(ref_opt, lambda u: 1 if u > 10 else u / 10)
    first = [p.detach().clone() for p in ours]
    for step in range(25):
        for params, o in ((ours, opt), (ref, ref_opt)):
            o.zero_grad()
            _loss(*params, x, y).backward()
            o.step()
        schedule.step()
        if step == 0:  # lr 0 at the first step: nothing moved
            assert all(torch.equal(p, q) for p, q in zip(ours, first, strict=True))
        for a, r in zip(ours, ref, strict=True):
            torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-6)


def test_warmup_offset_is_a_config_field_that_needs_a_warmup():
    from phenolab.config import RunConfig
    from phenolab.errors import ConfigError

    base = RunConfig()
    assert base.replace(warmup_offset=0).run_id() == base.run_id()
    with pytest.raises(ConfigError, match="warmup_offset"):
        base.replace(warmup=0, warmup_offset=1)
