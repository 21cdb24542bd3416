"""Slow tier: the phenomena themselves, from training. Run with `python -m pytest -m slow`."""

import pytest

from phenolab.config.presets import preset
from phenolab.store import Store
from tests.conftest import run


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_main_job_groks_on_cpu(tmp_path, seed):
    """The `grokking` preset: train fits early, test generalizes > 2× later (≈ 10–20× seen)."""
    result = run(preset("grokking").replace(seed=seed), Store(tmp_path / "r.db"), device="cpu")
    ev = result.events
    assert ev.phase == "grokking", ev
    assert ev.t_fit <= 200 and 600 <= ev.t_gen <= 2_800, ev


@pytest.mark.slow
def test_no_weight_decay_delays_or_prevents_generalization(tmp_path):
    """Power et al. (2022) Fig. 2: without weight decay, generalization comes far later or not at
    all within the same budget."""
    store = Store(tmp_path / "r.db")
    with_wd = run(preset("grokking"), store, device="cpu").events
    without = run(preset("grokking").replace(wd=0.0), store, device="cpu").events
    assert with_wd.t_gen is not None
    assert without.t_gen is None or without.t_gen > 2 * with_wd.t_gen
