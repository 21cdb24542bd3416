"""Ensembles: a member trained with others equals the same config trained alone.

Tolerance (TOLERANCE): the per-member arithmetic is the same, but batched kernels may
reassociate floating-point sums (a different BLAS blocking for a batch of 4 than for 1, on CPU
as on CUDA), and training amplifies those last-bit differences step by step. So curves are
compared as two runs of one computation with different rounding, not bit for bit: losses and
norms within a relative tolerance, accuracies within a few flipped predictions (examples whose
top-two logits are within rounding of each other). Measured over these 120-step tiny runs:
H100 — accuracies ≤ 1.3e-2 apart (1–3 examples), losses ≤ 2e-2 relative, norms ≤ 1.5e-3;
idle Intel Xeon, Muon — train accuracy 2.3e-3 (3 of 1,325 examples), norm 2.5e-3; AMD EPYC
agrees to ~1e-6. A real mismatch (another lr, weight decay, seed or data split for a member)
moves these curves by far more: see test_a_wrong_member_is_caught."""

import math

import pytest
import torch

from phenolab.analysis.ensemble import quantile, summarize_group
from phenolab.config import RunConfig, check_ensemble
from phenolab.errors import ConfigError
from phenolab.models import build_model
from phenolab.run import Options, train_configs
from phenolab.run import shards as shards_module
from phenolab.run.shards import bytes_per_member, parameter_count, plan_shards
from phenolab.store import Store
from phenolab.sweep.grid import expand, varying_fields
from tests.conftest import TINY, run, run_ensemble

# (rtol, atol) per device and kind of metric: see the module docstring for the measurements.
REASSOCIATION = {"acc": (0.0, 3e-2), "loss": (5e-2, 1e-3), "norm": (5e-3, 1e-3)}
TOLERANCE = {"cpu": REASSOCIATION, "cuda": REASSOCIATION}


@pytest.fixture(autouse=True)
def _one_thread():
    """One CPU thread: with two, a 16-core machine's BLAS split the matmuls of an ensemble of 4
    and of a single run differently, and the last-bit differences grew into flipped predictions
    (the 2-core CI machine agreed to ~1e-6 either way)."""
    torch.set_num_threads(1)


def assert_same_curves(a: dict, b: dict, device: str = "cpu") -> None:
    for name in ("train/acc", "test/acc", "train/loss", "test/loss", "norm/total"):
        assert a[name][0] == b[name][0], name
        kind = "norm" if name.startswith("norm/") else name.split("/")[1]  # acc, loss
        rtol, atol = TOLERANCE[device][kind]
        torch.testing.assert_close(
            torch.tensor(a[name][1]), torch.tensor(b[name][1]), rtol=rtol, atol=atol, msg=name
        )


MEMBERS = [
    dict(seed=0),
    dict(seed=1, lr=3e-3),
    dict(seed=2, wd=0.1, init_scale=2.0),
    dict(seed=3, frac=0.4, warmup=50),  # smaller train set: padded and masked in the ensemble
]


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (none on this machine)")


@pytest.mark.parametrize(
    "device, fast",
    [
        ("cpu", False),
        pytest.param("cuda", False, marks=CUDA),
        pytest.param("cuda", True, marks=CUDA),
    ],
)
@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_member_equals_the_same_config_trained_alone(tmp_path, kind, device, fast):
    """(On CUDA also with the ensemble's step replayed from a CUDA graph.)"""
    base = RunConfig().replace(**TINY).replace(steps=120, eval_every=40)
    if kind == "transformer":
        base = base.replace(model="transformer", d_model=32, d_mlp=64, p=23, lr=3e-3)
    configs = [base.replace(**m) for m in MEMBERS]
    ens_store, solo_store = Store(tmp_path / "ens.db"), Store(tmp_path / "solo.db")
    run_ensemble(configs, ens_store, device, options=Options(fast=fast))
    for cfg in configs:
        run(cfg, solo_store, device)
        assert_same_curves(
            ens_store.metrics(cfg.run_id()), solo_store.metrics(cfg.run_id()), device
        )


@pytest.mark.parametrize("change", [dict(lr=1.5e-3), dict(wd=0.1), dict(seed=1)])
def test_a_wrong_member_is_caught(tmp_path, change):
    """The tolerances above still tell a member trained with another field apart."""
    base = RunConfig().replace(**TINY).replace(steps=120, eval_every=40)
    store = Store(tmp_path / "r.db")
    right, wrong = run(base, store, "cpu"), run(base.replace(**change), store, "cpu")
    with pytest.raises(AssertionError):
        assert_same_curves(store.metrics(right.record.id), store.metrics(wrong.record.id))


def test_per_member_weight_decay_and_learning_rate_are_applied(tmp_path):
    base = RunConfig().replace(**TINY).replace(steps=200, eval_every=50)
    configs = [base.replace(wd=0.0), base.replace(wd=1.0), base.replace(lr=1e-12)]
    store = Store(tmp_path / "r.db")
    no_wd, wd, frozen = run_ensemble(configs, store, "cpu")
    norm = {c.run_id(): store.metrics(c.run_id())["norm/total"][1] for c in configs}
    # weight decay shrinks the weights relative to the same member without it
    assert norm[configs[1].run_id()][-1] < 0.8 * norm[configs[0].run_id()][-1]
    # an (almost) zero learning rate leaves the member where it started
    assert math.isclose(norm[configs[2].run_id()][-1], norm[configs[2].run_id()][0], rel_tol=1e-6)
    assert frozen.events.phase == "confusion"


def test_ensemble_resume_after_interrupt_equals_uninterrupted(tmp_path):
    from phenolab.run import RunInterrupted
    from phenolab.train.loop import Callback

    class InterruptAt(Callback):
        def on_step_end(self, state):
            if state.step == 77:
                state.stop = "interrupted"

    base = RunConfig().replace(**TINY).replace(steps=150, eval_every=50)
    configs = [base.replace(seed=s, lr=lr) for s, lr in ((0, 1e-2), (1, 3e-3))]
    ref = Store(tmp_path / "ref.db")
    run_ensemble(configs, ref, "cpu")
    store = Store(tmp_path / "int.db")
    with pytest.raises(RunInterrupted):
        run_ensemble(configs, store, "cpu", callbacks=[InterruptAt()])
    results = run_ensemble(configs, store, "cpu")
    assert [r.resumed_from for r in results] == [77, 77]
    for cfg in configs:
        assert_same_curves(store.metrics(cfg.run_id()), ref.metrics(cfg.run_id()))


def test_finished_members_are_not_trained_again(tmp_path):
    base = RunConfig().replace(**TINY).replace(steps=40, eval_every=20)
    store = Store(tmp_path / "r.db")
    run(base, store, "cpu")
    results = run_ensemble([base, base.replace(seed=1)], store, "cpu")
    assert [r.cached for r in results] == [True, False]


def test_members_must_share_everything_but_member_fields():
    base = RunConfig()
    check_ensemble([base, base.replace(seed=1, lr=0.1, frac=0.5)])
    with pytest.raises(ConfigError, match="width: cannot differ within an ensemble"):
        check_ensemble([base, base.replace(width=64)])


def test_grid_expansion():
    configs = expand(RunConfig().flat(), {"wd": ["0.3", "1"]}, seeds=3)
    assert len(configs) == 6
    assert [(c.train.wd, c.train.seed) for c in configs[:3]] == [(0.3, 0), (0.3, 1), (0.3, 2)]
    assert varying_fields(configs) == ["seed", "wd"]
    with pytest.raises(ConfigError, match="p: only one value allowed"):
        expand(RunConfig().flat(), {"p": ["31", "37"]}, None)
    with pytest.raises(ConfigError, match="seeds: must be at least 1"):
        expand(RunConfig().flat(), {}, 0)


def test_parameter_count_matches_the_models():
    for cfg in (
        RunConfig(),
        RunConfig().replace(model="transformer", p=113),
        RunConfig().replace(model="transformer", n_layers=2, layernorm=True, sequence="x y ="),
    ):
        from phenolab.models import MODELS
        from phenolab.tasks import dims

        shape = dims(cfg.task, MODELS[cfg.model.model].reads)
        model = build_model(cfg.model, shape.vocab, shape.n_classes, shape.seq_len, seeds=[0])
        assert parameter_count(cfg) == sum(p.numel() for p in model.parameters())


def test_shards_split_by_memory_and_by_request(monkeypatch):
    configs = [RunConfig().replace(seed=s) for s in range(10)]
    plan = plan_shards(configs, torch.device("cpu"), max_members=4)
    assert [len(s) for s in plan.shards] == [4, 3, 3]
    assert plan_shards(configs, torch.device("cpu"), min_shards=2).shards[0] == configs[:5]
    # pretend only room for 2 members (at the 50 % memory fraction)
    monkeypatch.setattr(
        shards_module, "free_bytes", lambda device: 4 * bytes_per_member(configs[0])
    )
    plan = plan_shards(configs, torch.device("cpu"))
    assert plan.max_members == 2 and len(plan.shards) == 5


def test_cpu_shards_never_pad_a_member_to_another_ones_larger_data(monkeypatch):
    """A frac sweep on CPU: one shard per fraction (largest first), split further only to fit or
    to feed the workers; on a GPU the ensemble stays whole."""
    configs = [RunConfig().replace(frac=f, wd=w) for f in (0.2, 0.5) for w in (0.1, 1, 10)]
    plan = plan_shards(configs, torch.device("cpu"), min_shards=2)
    assert [[c.task.frac for c in s] for s in plan.shards] == [[0.5] * 3, [0.2] * 3]
    plan = plan_shards(configs, torch.device("cpu"), min_shards=4)
    assert [[c.task.frac for c in s] for s in plan.shards] == [[0.5] * 2, [0.5], [0.2] * 2, [0.2]]
    assert sorted(c.run_id() for s in plan.shards for c in s) == sorted(c.run_id() for c in configs)
    assert plan_shards(configs, torch.device("cpu"), max_members=2).shards == [
        configs[3:5],
        configs[5:],
        configs[:2],
        configs[2:3],
    ]
    # more sizes than twice the shards: sorted by size, cut into twice the shards
    many = [RunConfig().replace(frac=f / 20) for f in range(1, 11)]
    cut = plan_shards(many, torch.device("cpu"), min_shards=2).shards
    assert [[round(c.task.frac * 20) for c in s] for s in cut] == [
        [10, 9, 8],
        [7, 6, 5],
        [4, 3],
        [2, 1],
    ]
    seeds = [RunConfig().replace(seed=s) for s in range(6)]  # one data size: as before
    assert plan_shards(seeds, torch.device("cpu"), min_shards=2).shards == [seeds[:3], seeds[3:]]
    monkeypatch.setattr(shards_module, "free_bytes", lambda device: 2**34)
    assert plan_shards(configs, torch.device("cuda")).shards == [configs]


def test_several_groups_feed_the_workers_without_cutting_each_group(tmp_path):
    """Four groups (widths) of two seeds on two workers: four shards of two, not eight of one
    (each shard costs a process and its members' batching)."""
    base = RunConfig().replace(**TINY).replace(steps=2, eval_every=1)
    configs = [base.replace(width=w, seed=s) for w in (8, 16, 24, 32) for s in (0, 1)]
    plans = []
    train_configs(
        configs,
        Store(tmp_path / "s.db"),
        "cpu",
        workers=2,
        on_progress=lambda p: p.plan and plans.append(p.plan),
    )
    assert plans[0].shards == [2, 2, 2, 2] and plans[0].workers == 2


def test_shards_in_worker_processes_match_in_process(tmp_path):
    base = RunConfig().replace(**TINY).replace(steps=60, eval_every=20)
    configs = [base.replace(seed=s) for s in range(3)]
    parallel = Store(tmp_path / "par.db")
    results = train_configs(configs, parallel, "cpu", workers=2)
    assert [r.record.status for r in results] == ["finished"] * 3
    layouts = [r.record.env["layout"] for r in results]
    assert [(x["members"], x["shard"], x["shards"], x["workers"]) for x in layouts] == [
        (2, 0, 2, 2),
        (2, 0, 2, 2),
        (1, 1, 2, 2),
    ]
    assert [x["member"] for x in layouts] == [0, 1, 0] and layouts[0]["threads"] == 1
    serial = Store(tmp_path / "ser.db")
    train_configs(configs, serial, "cpu", workers=1)
    for cfg in configs:
        assert_same_curves(parallel.metrics(cfg.run_id()), serial.metrics(cfg.run_id()))


def test_group_summary_counts_never_generalized_as_infinite():
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([1, 2, math.inf], 0.5) == 2
    assert quantile([1, math.inf, math.inf], 0.5) == math.inf
    g = summarize_group({"wd": 1}, [100, 200, None], ["grokking", "grokking", "memorization"])
    assert g.generalized == 2 and g.median_t_gen == 200 and g.t_gen_q3 is None
    assert g.phases == {"grokking": 2, "memorization": 1}
    g = summarize_group({}, [None, None, 300], ["memorization"] * 2 + ["grokking"])
    assert g.median_t_gen is None and g.t_gen_min == 300


def test_a_group_below_five_seeds_shows_its_range_and_a_censored_seed_as_never():
    from phenolab.analysis.ensemble import summarize_group

    three = summarize_group({}, [1200, None, 1400], ["grokking", "memorization", "grokking"])
    assert three.spread() == ("range", "[1,200, never]")
    assert summarize_group({}, [300, 100, 200], ["grokking"] * 3).spread() == (
        "range",
        "[100, 300]",
    )
    five = summarize_group({}, [100, 200, 300, 400, 500], ["grokking"] * 5)
    assert five.spread() == ("IQR", "[200, 400]")
