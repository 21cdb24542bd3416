"""The nanda2023-addition entry: phase boundaries and measures on constructed curves."""

import math
from types import SimpleNamespace

import matplotlib
import pytest
import torch

from phenolab.catalog.entries import nanda2023 as nanda
from phenolab.catalog.entries.nanda2023_figures import embedding_circles
from phenolab.measures.rqi import circle_coordinates

matplotlib.use("Agg")

STEPS = list(range(0, 1001, 10))


def curve(fn):
    return STEPS, [fn(s) for s in STEPS]


def member(t_gen=700, norm_in_formation=-0.01):
    """A made-up grokking run: memorization ends at 200 (excluded loss lowest), the test loss
    falls (log-linearly) from 10 at step 500 to 1e-4 at 900, the norm falls fastest then."""

    def test_loss(s):
        return 10.0 if s <= 500 else 10.0 ** (1 - 5 * min(s - 500, 400) / 400)

    def norm(s):
        return 50 + norm_in_formation * min(max(s - 200, 0), 300) - 0.05 * min(max(s - 540, 0), 320)

    metrics = {
        "test/loss": curve(test_loss),
        "train/loss": curve(lambda s: 1e-3),
        "train/acc": curve(lambda s: 1.0),
        "circuit/excluded_loss": curve(lambda s: abs(s - 200) / 100 + 0.01),
        "circuit/restricted_loss": curve(lambda s: 4.0 * math.exp(-s / 100)),
        "norm/total": curve(norm),
        "fourier/gini": curve(lambda s: min(s, 600) / 1000),
        "fourier/key": curve(lambda s: 5.0),
        "circuit/key_share": curve(lambda s: 0.95),
    }
    return SimpleNamespace(
        metrics=metrics,
        events=SimpleNamespace(t_gen=t_gen, phase="grokking"),
        record=SimpleNamespace(id="x", config={"train": {"seed": 0}, "task": {"p": 7}}),
    )


def test_log_fall_step():
    steps, values = curve(lambda s: 10.0 ** (-s / 100))  # 1 → 1e-10, final (median) ≈ 1e-9.8
    assert nanda.log_fall_step(steps, values, 0.5) == 490
    assert nanda.log_fall_step(*curve(lambda s: 1.0), 0.5) is None  # does not fall


def test_phase_boundaries_from_the_curves():
    ph = nanda.phases(member())
    # peak log10 = 1 at 0…500, final 1e-4: 10 % / 90 % of the 5-decade fall at 540 and 860
    assert ph == nanda.Phases(t_mem=200, t_clean=540, t_end=860)


def test_expectation_measures_on_a_constructed_run():
    r = member()
    assert nanda.in_order(r)
    assert nanda.excluded_rise(r) == pytest.approx((3.4 + 0.01) / 0.01)
    assert nanda.train_fit_during_formation(r)
    assert nanda.restricted_lead(r) < 1  # restricted falls from the start, test only after 500
    speedup = nanda.norm_speedup(r)
    assert speedup > 1
    assert nanda.norm_speedup(member(norm_in_formation=0.01)) == math.inf  # rose in formation
    assert nanda.sparsity_before_gen(r) == pytest.approx((0.6 - 0.2) / (0.6 - 0.2))
    assert nanda.sparsity_before_gen(member(t_gen=400)) == pytest.approx(0.5)
    outcome = {nanda.ARM: [r, member(norm_in_formation=0.01), member()]}
    m = nanda.norm_measure(outcome)
    assert m.value == pytest.approx(speedup) and "1 seed" in m.note


def test_circle_coordinates_of_a_fourier_embedding():
    p, k = 13, 4
    a = torch.arange(p, dtype=torch.float64)
    basis = torch.stack([torch.cos(2 * math.pi * k * a / p), torch.sin(2 * math.pi * k * a / p)], 1)
    mix = torch.randn(2, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    xy, top = circle_coordinates((basis @ torch.linalg.qr(mix.T)[0].T)[None])  # orthonormal mix
    found, xy = int(top[0]), xy[0]
    assert found == k
    radius = xy.norm(dim=1)
    torch.testing.assert_close(radius, torch.full_like(radius, radius[0].item()))


def test_figures_draw():
    p, k = 7, 2
    a = torch.arange(p, dtype=torch.float64)
    emb = torch.stack([torch.cos(2 * math.pi * k * a / p), torch.sin(2 * math.pi * k * a / p)], 1)
    store = SimpleNamespace(load_checkpoint=lambda rid: (1000, 1.0, {"model": {"W_E": emb[None]}}))
    figs = nanda.figures({nanda.ARM: [member(), member()]}, store)
    assert len(figs) == 2 and all(caption for caption, _ in figs)
    assert embedding_circles([member()], SimpleNamespace(load_checkpoint=lambda rid: None))


@pytest.mark.slow
def test_quick_arm_shows_hidden_progress(tmp_path):
    """One seed of the quick arm: the excluded loss rises through circuit formation and the
    restricted loss falls before the test loss (Nanda et al. 2023, Fig. 7)."""
    from phenolab.store import Store
    from tests.conftest import run

    store = Store(tmp_path / "r.db")
    r = run(nanda.QUICK, store, device="cpu")
    r.metrics = store.metrics(r.record.id)
    assert nanda.in_order(r), (nanda.phases(r), r.events)
    assert nanda.excluded_rise(r) >= 2
    assert nanda.restricted_lead(r) < 1
