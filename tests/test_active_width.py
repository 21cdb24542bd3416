"""Active width: a narrower dense net inside a wider one, so that a width sweep is one ensemble
(models/dense.py). A member with active width a must be the width-a net: same initial values,
same function, same training curves as a solo width-a run."""

import pytest
import torch

from phenolab.config import RunConfig, check_ensemble
from phenolab.errors import ConfigError
from phenolab.models import ModelConfig, build_model
from phenolab.models.dense import DenseMLP
from phenolab.runner import run, run_ensemble
from phenolab.store import Store
from tests.test_ensemble import assert_same_curves

NOISY_DIGITS = RunConfig().replace(
    op="digits",
    model="dense",
    widths=(16, 16),
    optimizer="sgd",
    lr=0.05,
    momentum=0.9,
    wd=1e-3,
    warmup=0,
    batch_size=50,
    n_train=200,
    label_noise=0.2,
    steps=60,
    eval_every=20,
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)  # member equivalence at the CPU tolerance (see test_ensemble.py)


def test_an_active_member_starts_as_the_narrow_net():
    wide = DenseMLP((16, 16), 10, 4, seeds=[3, 3], scales=[1.0, 2.0], active=[6, 0])
    narrow = DenseMLP((6, 6), 10, 4, seeds=[3], scales=[1.0])
    full = DenseMLP((16, 16), 10, 4, seeds=[3], scales=[2.0])
    for name, p in narrow.named_parameters():
        w = dict(wide.named_parameters())[name]
        block = tuple(slice(0, s) for s in p.shape[1:])
        assert torch.equal(w[(0, *block)], p[0]), name  # the narrow net's own draws
        assert w[0].count_nonzero() == p[0].count_nonzero(), name  # zeros elsewhere
        assert torch.equal(w[1], dict(full.named_parameters())[name][0]), name  # full member
    x = torch.randn(2, 5, 10)
    torch.testing.assert_close(wide(x)[0], narrow(x[:1])[0])
    mask = wide.live_mask()
    assert mask["W_hidden.0"][0].sum() == 36 and mask["W_hidden.0"][1].all()
    assert mask["b_in"][0].tolist() == [True] * 6 + [False] * 10
    assert mask["W_in"][0].sum() == 10 * 6 and mask["b_out"].all()
    assert DenseMLP((8,), 3, 2, seeds=[0], scales=[1.0], active=[8]).live_mask() is None


def test_full_width_init_is_unchanged():
    """active width 0 draws exactly what the dense model drew before active widths existed."""
    from phenolab.models.init import stacked_normal

    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    w_in = stacked_normal(gens, (10, 16), 10**-0.5, [1.0, 1.0])
    w_hidden = stacked_normal(gens, (16, 16), 16**-0.5, [1.0, 1.0])
    model = DenseMLP((16, 16), 10, 4, seeds=[0, 1], scales=[1.0, 1.0])
    assert torch.equal(model.W_in, w_in) and torch.equal(model.W_hidden[0], w_hidden)


def test_a_width_sweep_as_one_ensemble_trains_each_member_like_its_solo_run(tmp_path):
    store = Store(tmp_path / "runs.db")
    members = [
        NOISY_DIGITS.replace(active_width=5, seed=0),
        NOISY_DIGITS.replace(active_width=11, seed=1),
        NOISY_DIGITS.replace(seed=2),  # every unit
    ]
    check_ensemble(members)  # widths shared, active widths differ: one ensemble
    ensemble = run_ensemble(members, store, "cpu")
    for cfg, result in zip(members, ensemble, strict=True):
        h = cfg.model.active_width or 16
        solo = run(cfg.replace(active_width=0, widths=(h, h)), store, "cpu")
        assert (solo.record.id == result.record.id) == (cfg.model.active_width == 0)
        assert_same_curves(store.metrics(result.record.id), store.metrics(solo.record.id))
    # the units beyond the active width are still exactly zero after training
    weights = store.load_checkpoint(ensemble[0].record.id)[2]["model"]
    assert weights["W_hidden.0"][5:].count_nonzero() == 0
    assert weights["W_hidden.0"][:, 5:].count_nonzero() == 0
    assert weights["b_hidden.0"][5:].count_nonzero() == 0
    assert weights["W_out"][5:].count_nonzero() == 0


def test_active_width_is_checked_at_the_boundary():
    with pytest.raises(ConfigError, match="active_width: must be in 1 … 16"):
        NOISY_DIGITS.replace(active_width=17)
    with pytest.raises(ConfigError, match="active_width: used by model=dense only"):
        RunConfig().replace(active_width=4)
    with pytest.raises(ConfigError, match="active_width: must be in"):
        ModelConfig(model="dense", active_width=-1)
    assert NOISY_DIGITS.replace(active_width=0).run_id() == NOISY_DIGITS.run_id()
    model = build_model(
        ModelConfig(model="dense", widths=(8, 8), active_width=3), 5, 2, 5, seeds=[0, 1]
    )
    assert [list(u) for u in model.live] == [[3, 3], [3, 3]]
