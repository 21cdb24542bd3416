import json

import pytest
import torch

from phenolab.cli import main
from phenolab.config import RunConfig, field_specs
from phenolab.errors import ConfigError
from phenolab.interventions import INTERVENTIONS, build, canonical
from phenolab.interventions.spec import parse_specs
from phenolab.run import Options
from phenolab.store import Store
from phenolab.train.optim import SGD
from tests.conftest import run, run_ensemble
from tests.test_ensemble import CUDA, MEMBERS, assert_same_curves
from tests.test_runner import CrashAt, curves


class Weights(torch.nn.Module):
    """A 'model' that is only its parameters, each [E, ...]: the hooks see nothing else."""

    def __init__(self, *tensors: torch.Tensor) -> None:
        super().__init__()
        self.ps = torch.nn.ParameterList([torch.nn.Parameter(t.clone()) for t in tensors])


def hooks(model, *member_specs, lr=0.1):
    optimizer = SGD(model.parameters(), lr=[lr] * len(member_specs), wd=0.0, warmup=0)
    return build([parse_specs(s) for s in member_specs], model, optimizer), optimizer


def filtered(hook, model, grads):
    """Feed `grads` (one [E, ...] tensor per step) through hook.after_backward; the outputs."""
    (p,) = model.parameters()
    out = []
    for g in grads:
        p.grad = g.clone()
        hook.after_backward(None)
        out.append(p.grad.clone())
    return out


# -- specs -----------------------------------------------------------------------------------


def test_specs_take_one_canonical_spelling():
    assert canonical("grokfast-ema") == "grokfast-ema"
    assert canonical(" grokfast-ema:alpha=0.98, lamb=2 ") == "grokfast-ema"  # the defaults
    assert canonical("grokfast-ema:lamb=5,alpha=0.9") == "grokfast-ema:alpha=0.9,lamb=5.0"
    assert canonical("grokfast-ma:window=1e1") == "grokfast-ma:window=10"
    a = RunConfig().replace(interventions="grokfast-ema:alpha=0.9,lamb=5,orthograd")
    b = RunConfig().replace(interventions=("grokfast-ema:lamb=5.0,alpha=0.90", "orthograd"))
    assert a.train.interventions == ("grokfast-ema:alpha=0.9,lamb=5.0", "orthograd")
    assert a.run_id() == b.run_id()
    # order is kept: it is the order the hooks run in
    c = RunConfig().replace(interventions=("orthograd", "grokfast-ema:alpha=0.9,lamb=5"))
    assert c.run_id() != a.run_id()


def test_no_interventions_leave_run_ids_unchanged():
    assert "interventions" not in RunConfig().canonical()
    assert RunConfig().run_id() == "e86bc66447c0"  # pinned in test_config too
    with_one = RunConfig().replace(interventions="orthograd")
    assert with_one.canonical()["interventions"] == ["orthograd"]
    assert with_one.run_id() != RunConfig().run_id()


@pytest.mark.parametrize(
    "spec, message",
    [
        (
            "grokfast",
            "unknown intervention 'grokfast' (valid: decay-to-init, freeze-embedding, grokfast-ema",
        ),
        ("grokfast-ema:beta=1", "grokfast-ema has no parameter 'beta' (valid: alpha, lamb)"),
        ("grokfast-ema:alpha=1", "alpha must be in [0, 1), got 1"),
        ("grokfast-ema:alpha=nan", "alpha must be in [0, 1)"),
        ("grokfast-ema:lamb=two", "lamb must be a number, got 'two'"),
        ("grokfast-ema:lamb=-1", "lamb must be ≥ 0"),
        ("grokfast-ma:window=2.5", "window must be an integer, got '2.5'"),
        ("grokfast-ma:window=0", "window must be ≥ 1"),
        ("grokfast-ema:lamb", "expected name=value, got 'lamb'"),
        ("grokfast-ema:lamb=1,lamb=2", "lamb given twice"),
        ("orthograd:x=1", "orthograd has no parameter 'x' (valid: none)"),
        ("norm-constraint:scale=0", "scale must be > 0"),
    ],
)
def test_bad_specs_are_one_line_config_errors(spec, message):
    with pytest.raises(ConfigError, match="^interventions: ") as err:
        RunConfig().replace(interventions=(spec,))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_every_intervention_documents_formula_and_parameters():
    for name, cls in INTERVENTIONS.items():
        assert cls.id == name and cls.summary and len(cls.__doc__) > 80, name
        for p in cls.params:
            assert p.help and p.valid(p.default), (name, p.name)


# -- each intervention on a constructed case --------------------------------------------------


def test_grokfast_ema_equals_its_closed_form_per_member():
    torch.manual_seed(0)
    model = Weights(torch.zeros(2, 3))
    (hook,), _ = hooks(model, ["grokfast-ema:alpha=0.9,lamb=2"], ["grokfast-ema:alpha=0.5,lamb=3"])
    grads = [torch.randn(2, 3) for _ in range(6)]
    out = filtered(hook, model, grads)
    for e, (alpha, lamb) in enumerate([(0.9, 2.0), (0.5, 3.0)]):
        for t in range(1, 7):  # μ_t = α^(t−1) g₁ + Σ_{k=2..t} (1−α) α^(t−k) g_k
            mu = alpha ** (t - 1) * grads[0][e]
            mu = mu + sum((1 - alpha) * alpha ** (t - k) * grads[k - 1][e] for k in range(2, t + 1))
            torch.testing.assert_close(out[t - 1][e], grads[t - 1][e] + lamb * mu)


def test_grokfast_ma_adds_the_mean_of_the_last_w_gradients_once_w_are_seen():
    torch.manual_seed(0)
    model = Weights(torch.zeros(2, 4))
    (hook,), _ = hooks(model, ["grokfast-ma:window=3,lamb=5"], ["grokfast-ma:window=3,lamb=0.5"])
    grads = [torch.randn(2, 4) for _ in range(7)]
    out = filtered(hook, model, grads)
    for e, lamb in enumerate([5.0, 0.5]):
        for t in range(7):
            expected = grads[t][e]
            if t >= 2:  # the window is full from the third gradient on
                expected = expected + lamb * torch.stack([g[e] for g in grads[t - 2 : t + 1]]).mean(
                    0
                )
            torch.testing.assert_close(out[t][e], expected)


def test_orthograd_is_orthogonal_to_the_weights_with_the_original_norm():
    torch.manual_seed(0)
    w = torch.randn(3, 5, 4)
    model = Weights(w)
    (hook,), _ = hooks(model, ["orthograd"], ["orthograd"], ["orthograd"])
    g = torch.randn(3, 5, 4)
    g[2] = 2.0 * w[2] + 0.1 * torch.randn(5, 4)  # mostly along the weights
    (out,) = filtered(hook, model, [g])
    for e in range(3):  # per member
        assert abs(torch.dot(out[e].flatten(), w[e].flatten())) < 1e-4 * out[e].norm() * w[e].norm()
        torch.testing.assert_close(out[e].norm(), g[e].norm())
        # and it is the rescaled projection: g − (w·g / w·w) w
        g_orth = g[e] - torch.dot(w[e].flatten(), g[e].flatten()) / w[e].pow(2).sum() * w[e]
        torch.testing.assert_close(out[e], g_orth * g[e].norm() / g_orth.norm())
    already = torch.randn(3, 5, 4)
    already -= (already * w).sum((1, 2), keepdim=True) / w.pow(2).sum((1, 2), keepdim=True) * w
    (same,) = filtered(hook, model, [already])
    torch.testing.assert_close(same, already)  # a gradient orthogonal to w is left alone


def test_norm_constraint_holds_after_each_step():
    torch.manual_seed(0)
    model = Weights(torch.randn(2, 3, 3), torch.randn(2, 7))
    init = [p.detach().clone() for p in model.parameters()]
    norm0 = torch.stack([sum(t[e].pow(2).sum() for t in init).sqrt() for e in range(2)])
    (hook,), _ = hooks(model, ["norm-constraint"], ["norm-constraint:norm=5"])
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        hook.on_step_end(None)
        total = torch.stack(
            [sum(p[e].pow(2).sum() for p in model.parameters()).sqrt() for e in (0, 1)]
        )
        torch.testing.assert_close(total, torch.tensor([norm0[0].item(), 5.0]))


def test_decay_to_init_moves_the_weights_toward_init_not_toward_zero():
    torch.manual_seed(0)
    p0 = torch.randn(2, 6)
    model = Weights(p0)
    (hook,), optimizer = hooks(model, ["decay-to-init:wd=2"], ["decay-to-init:wd=0.5"], lr=0.1)
    optimizer.next_learning_rate()  # one step counted: η = 0.1 (no warmup)
    (p,) = model.parameters()
    with torch.no_grad():
        p.fill_(0.0)
        p[:, :3] = p0[:, :3]  # half the weights sit at init, half were moved to 0
    before = p.detach().clone()
    hook.on_step_end(None)
    for e, wd in enumerate([2.0, 0.5]):
        torch.testing.assert_close(p[e], before[e] - 0.1 * wd * (before[e] - p0[e]))
        torch.testing.assert_close(
            p[e, :3], p0[e, :3]
        )  # at init: left alone (decay to 0 would not)
        assert ((p[e, 3:] - p0[e, 3:]).abs() < (before[e, 3:] - p0[e, 3:]).abs()).all()


# -- in training -------------------------------------------------------------------------------

SHORT = dict(p=23, frac=0.6, steps=60, eval_every=10)


@pytest.mark.parametrize(
    "spec",
    ["grokfast-ema", "grokfast-ma:window=10", "orthograd", "norm-constraint", "decay-to-init"],
)
def test_a_short_run_with_each_intervention_trains(tmp_path, spec):
    cfg = RunConfig().replace(**SHORT, interventions=spec)
    store = Store(tmp_path / "runs.db")
    result = run(cfg, store, device="cpu")
    assert result.record.config["train"]["interventions"] == [spec]
    loss = store.metrics(cfg.run_id())["train/loss"][1]
    assert all(v == v for v in loss) and loss[-1] < 0.9 * loss[0], loss
    if spec == "norm-constraint":  # the weight norm stays at its value at init
        norm = store.metrics(cfg.run_id())["norm/total"][1]
        assert max(norm) - min(norm) < 1e-4 * norm[0]


@pytest.mark.parametrize("spec", ["grokfast-ema", "grokfast-ma:window=30"])
def test_resume_with_a_stateful_intervention_continues_the_same_curve(tmp_path, spec):
    cfg = RunConfig().replace(**SHORT | {"steps": 100}, interventions=spec)
    reference = Store(tmp_path / "ref.db")
    run(cfg, reference, device="cpu")
    store = Store(tmp_path / "crash.db")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(cfg, store, device="cpu", callbacks=[CrashAt(75)], options=Options(0))
    result = run(cfg, store, device="cpu")
    assert result.resumed_from is not None and 0 < result.resumed_from < 75
    assert curves(store, cfg.run_id()) == curves(reference, cfg.run_id())


def test_cli_lists_interventions_and_run_takes_them(tmp_path, capsys):
    assert main(["interventions", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    listed = {item["id"]: item for item in items if item["kind"] == "hook"}
    assert set(listed) == set(INTERVENTIONS)
    fields = {item["id"]: item for item in items if item["kind"] == "config"}
    assert {
        "stablemax",
        "muon",
        "lottery-ticket",
        "grokking-ticket",
        "embedding-transfer",
        "init-scale",
    } <= set(fields)
    assert fields["stablemax"]["flags"] == "--loss stablemax --loss-dtype float64"
    specs = field_specs()
    for item in fields.values():  # every field named exists, and its flag is in the flags
        for name in item["fields"]:
            assert name in specs and "--" + name.replace("_", "-") in item["flags"], name
    assert {p["name"]: p["default"] for p in listed["grokfast-ema"]["params"]} == {
        "alpha": 0.98,
        "lamb": 2.0,
    }
    assert main(["interventions"]) == 0 and "window=100" in capsys.readouterr().out
    args = ["run", "grokking", "--p=23", "--steps=20", "--store", str(tmp_path / "r.db")]
    spec = ["--intervention", "grokfast-ema:alpha=0.9,lamb=3", "--intervention", "orthograd"]
    assert main([*args, *spec, "--json", "--no-report"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["interventions"] == ["grokfast-ema:alpha=0.9,lamb=3.0", "orthograd"]
    assert main([*args, "--intervention", "grokfast-ema:alpha=2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "alpha must be in [0, 1), got 2" in err


@pytest.mark.parametrize(
    "device, fast",
    [
        ("cpu", False),
        pytest.param("cuda", False, marks=CUDA),
        pytest.param("cuda", True, marks=CUDA),
    ],
)
@pytest.mark.parametrize(
    "specs",
    [("grokfast-ema", "orthograd", "norm-constraint"), ("grokfast-ma:window=5", "decay-to-init")],
)
def test_ensemble_member_with_interventions_equals_it_alone(tmp_path, specs, device, fast):
    """Each member's filters and constraints see only that member (on CUDA also with the
    gradient filters captured in the CUDA graph of the step). 40 steps: with ⊥Grad the frac=0.4
    member's dynamics amplify the ensemble's ~1e-7 reassociation differences (losses agree to
    2e-7 up to step 52, then drift: a flipped prediction at step 60 and 70, measured)."""
    base = RunConfig().replace(**SHORT | {"steps": 40}, interventions=specs)
    configs = [base.replace(**m) for m in MEMBERS]
    ens_store, solo_store = Store(tmp_path / "ens.db"), Store(tmp_path / "solo.db")
    run_ensemble(configs, ens_store, device, options=Options(fast=fast))
    for cfg in configs:
        run(cfg, solo_store, device)
        assert_same_curves(
            ens_store.metrics(cfg.run_id()), solo_store.metrics(cfg.run_id()), device
        )
