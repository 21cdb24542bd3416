"""Sparse parity task, dense MLP, hinge loss, online sampler, hidden-progress measure and the
barak2022 entry's event helpers — on constructed cases with known answers."""

from types import SimpleNamespace

import pytest
import torch

from phenolab import tasks
from phenolab.analysis.events import value_at
from phenolab.catalog.entries import barak2022
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.measures.parity import relevant_mass
from phenolab.models import build_model
from phenolab.store import Store
from phenolab.tasks import FEATURES, parity
from phenolab.train.batches import FreshSampler
from phenolab.train.losses import hinge
from tests.conftest import run

PARITY = dict(op="parity", model="dense", optimizer="sgd", loss="hinge", warmup=0)


def parity_config(**overrides) -> RunConfig:
    base = dict(PARITY, n_bits=8, k_bits=2, width=32, batch_size=16, n_test=64, steps=40)
    return RunConfig().replace(**{**base, **overrides})


def test_labels_are_the_xor_of_the_relevant_bits():
    x = torch.tensor([[1.0, -1, 1, -1], [-1, -1, 1, 1], [1, 1, 1, 1], [-1, 1, -1, 1]])
    # bits b = (1 − x)/2; relevant {0, 1}: XOR(b0, b1) = 1 when exactly one of x0, x1 is −1
    assert parity.labels(x, torch.tensor([0, 1])).tolist() == [1, 0, 0, 1]
    assert parity.labels(x, torch.tensor([0, 2, 3])).tolist() == [1, 1, 0, 0]
    gen = torch.Generator().manual_seed(0)
    xs, ys = parity.sample(10, torch.tensor([2, 5, 7]), 200, gen)
    assert set(xs.unique().tolist()) == {-1.0, 1.0} and xs.dtype == torch.float32
    bits = (1 - xs) / 2
    assert ys.tolist() == ((bits[:, 2] + bits[:, 5] + bits[:, 7]) % 2).long().tolist()


def test_relevant_bits_are_seeded_and_reproducible():
    a = parity.relevant_bits(40, 3, seed=7)
    assert a.tolist() == parity.relevant_bits(40, 3, seed=7).tolist()
    assert a.tolist() == sorted(set(a.tolist())) and all(0 <= i < 40 for i in a.tolist())
    draws = {tuple(parity.relevant_bits(40, 3, seed=s).tolist()) for s in range(10)}
    assert len(draws) > 5  # different seeds, different secrets
    cfg = parity_config().task
    one = parity.build([cfg], [3])
    again = parity.build([cfg], [3])
    assert torch.equal(one.relevant, again.relevant) and torch.equal(one.x_test, again.x_test)
    # split_seed, when given, is the data seed
    pinned = parity.build([parity_config(split_seed=3).task], [0])
    assert torch.equal(pinned.relevant, one.relevant)


def test_fixed_and_online_training_sets():
    fixed = tasks.build([parity_config(n_train=50).task], FEATURES, [0])
    assert fixed.x_train.shape == (1, 50, 8) and fixed.stream is None
    assert fixed.x_test.shape == (1, 64, 8) and fixed.n_classes == 2
    assert torch.equal(fixed.y_train[0], parity.labels(fixed.x_train[0], fixed.relevant[0]))
    online = tasks.build([parity_config().task] * 2, FEATURES, [0, 1])
    assert online.x_train.shape == (2, 0, 8) and online.stream is not None


def test_fresh_sampler_draws_new_batches_and_restores_exactly():
    data = tasks.build([parity_config().task] * 2, FEATURES, [0, 1])
    sampler = FreshSampler(data, 16)
    idx = sampler.next()
    assert idx.shape == (2, 16) and data.x_train.shape == (2, 16, 8)
    first = data.x_train.clone()
    saved = [sampler.member_state(e) for e in range(2)]
    sampler.next()
    second = data.x_train.clone()
    assert not torch.equal(first, second)
    for e in range(2):
        assert torch.equal(data.y_train[e], parity.labels(data.x_train[e], data.relevant[e]))
        sampler.load_member_state(e, saved[e])
    sampler.next()
    assert torch.equal(data.x_train, second)  # the same batch again after a restore
    # member 1 of the ensemble sees exactly what it would see alone
    solo = tasks.build([parity_config().task], FEATURES, [1])
    solo_sampler = FreshSampler(solo, 16)
    ens = tasks.build([parity_config().task] * 2, FEATURES, [0, 1])
    ens_sampler = FreshSampler(ens, 16)
    for _ in range(3):
        solo_sampler.next(), ens_sampler.next()
    assert torch.equal(solo.x_train[0], ens.x_train[1])


def test_dense_member_equals_solo():
    cfg = parity_config(n_layers=2).model
    ensemble = build_model(cfg, 8, 2, 8, [0, 1, 2], init_scales=[1.0, 0.5, 2.0])
    solo = build_model(cfg, 8, 2, 8, [1], init_scales=[0.5])
    x = torch.randn(3, 5, 8)
    assert torch.allclose(ensemble(x)[1], solo(x[1:2])[0], atol=1e-6)
    assert ensemble.W_in.shape == (3, 8, 32) and ensemble(x).shape == (3, 5, 2)


def test_hinge_loss_on_constructed_logits():
    logits = torch.tensor([[[2.0, 0.0], [0.0, 0.0], [0.0, 0.5], [1.0, 3.0]]])  # [1, 4, 2]
    targets = torch.tensor([[0, 1, 0, 1]])
    # margins 2, 0, −0.5, 2 → losses 0, 1, 1.5, 0
    assert hinge(logits, targets).tolist() == [pytest.approx(2.5 / 4)]
    three = torch.tensor([[[1.0, 0.2, 0.9]]])  # margin 1 − 0.9 = 0.1 → 0.9
    assert hinge(three, torch.tensor([[0]])).item() == pytest.approx(0.9)


def test_hidden_progress_on_constructed_weights():
    w = torch.ones(2, 4, 3)  # [E, n, width]: member 0 uniform, member 1 concentrated
    w[1, 2] = 3.0  # row 2 has squared norm 27, the others 3
    share, ratio = relevant_mass(w, torch.tensor([[0], [2]]))
    assert share.tolist() == pytest.approx([0.25, 27 / 36])
    assert ratio.tolist() == pytest.approx([1.0, 9.0])


def test_parity_config_errors_are_clear():
    with pytest.raises(ConfigError, match="op=parity reads feature vectors: use model=dense"):
        RunConfig().replace(op="parity", batch_size=8)
    with pytest.raises(ConfigError, match="model: dense reads feature vectors"):
        RunConfig().replace(model="dense")
    with pytest.raises(ConfigError, match="batch_size: online training"):
        parity_config(batch_size=0)
    with pytest.raises(ConfigError, match="k_bits: must be in 1"):
        parity_config(k_bits=9)
    with pytest.raises(ConfigError, match=r"n_bits: only used by op=parity, not by x\+y"):
        RunConfig().replace(n_bits=20)
    with pytest.raises(ConfigError, match="frac: not used by op=parity"):
        parity_config(frac=0.5)
    with pytest.raises(ConfigError, match="hidden-progress needs op=parity"):
        RunConfig().replace(measures=("hidden-progress",))
    with pytest.raises(ConfigError, match="token embedding"):
        parity_config(measures=("fourier",))


def test_online_parity_run_records_hidden_progress_and_is_deterministic(tmp_path):
    cfg = parity_config(measures=("hidden-progress",), eval_every=10)
    a = run(cfg, Store(tmp_path / "a.db"), device="cpu")
    b = run(cfg, Store(tmp_path / "b.db"), device="cpu")
    ma, mb = (Store(tmp_path / f"{n}.db").metrics(cfg.run_id()) for n in "ab")
    assert a.record.status == "finished"
    assert ma["test/loss"] == mb["test/loss"] and ma["hidden/share"] == mb["hidden/share"]
    steps, share = ma["hidden/share"]
    assert steps[0] == 0 and 0 < share[0] < 1
    assert b.events.t_fit is None or b.events.t_fit > 0


def _curve(losses, shares, accs=None):
    steps = list(range(0, 100 * len(losses), 100))
    accs = accs or [0.5 if v > 0.5 else 1.0 for v in losses]
    return {
        "test/loss": (steps, losses),
        "test/acc": (steps, accs),
        "hidden/share": (steps, shares),
    }


def test_plateau_and_hidden_progress_expectations_on_constructed_curves():
    # step:      0    100  200  300  400  500  600  700  800  900
    losses = [1.6, 1.3, 1.05, 1.0, 1.0, 0.98, 0.95, 0.5, 0.01, 0.0]
    shares = [0.1, 0.1, 0.12, 0.14, 0.18, 0.22, 0.26, 0.3, 0.3, 0.4]
    m = _curve(losses, shares)
    assert barak2022.plateau(m, t_gen=800) == (200, 600)
    result = SimpleNamespace(
        events=SimpleNamespace(t_gen=800), metrics=m, record=SimpleNamespace(config={})
    )
    outcome = {barak2022.ARM: [result] * 3}
    assert barak2022.plateau_share(outcome).value == pytest.approx(400 / 800)
    assert barak2022.drop_delay(outcome).value == pytest.approx(4.0)
    assert barak2022.hidden_before_drop(outcome).value == pytest.approx(0.16 / 0.2)
    assert barak2022.hidden_growth(outcome).value == pytest.approx(2.6)
    never = SimpleNamespace(events=SimpleNamespace(t_gen=None), metrics=m)
    unknown = barak2022.hidden_growth({barak2022.ARM: [never, never, result]})
    assert unknown.value is None and "never learned" in unknown.note
    # a loss that falls from the start has no plateau at chance
    falling = _curve([0.8, 0.6, 0.4, 0.2, 0.0], [0.1] * 5)
    assert barak2022.plateau(falling, t_gen=300) is None


@pytest.mark.slow
def test_quick_arm_learns_the_parity_after_a_plateau(tmp_path):
    """One seed of the quick arm (about a minute on a CPU): the test loss reaches chance, stays
    there, then the network learns the parity; the relevant bits' share has grown by t_gen."""
    store = Store(tmp_path / "r.db")
    r = run(barak2022.QUICK, store, device="cpu")
    m = store.metrics(r.record.id)
    assert r.events.t_gen is not None, r.events
    start, end = barak2022.plateau(m, r.events.t_gen)
    assert start < end < r.events.t_gen
    k_over_n = barak2022.QUICK.task.k_bits / barak2022.QUICK.task.n_bits
    assert value_at(m, barak2022.SHARE, r.events.t_gen) > 2 * k_over_n
