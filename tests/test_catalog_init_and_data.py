"""Constructed outcomes with known answers for the liu2023 and tian2025 entries' measures."""

import math
from types import SimpleNamespace

import pytest

from phenolab.catalog.entries import liu2023, tian2025
from phenolab.catalog.entry import MissingCurves


def run(t_gen=None, phase="grokking", metrics=None, final_test_acc=1.0):
    return SimpleNamespace(
        events=SimpleNamespace(t_gen=t_gen, phase=phase, final_test_acc=final_test_acc),
        record=SimpleNamespace(config={"train": {"steps": 1000}}),
        metrics=metrics,
    )


def test_goldilocks_distance_on_a_log_scale():
    small = [run(100, metrics={"norm/total": ([0, 100], [40.0, 10.0])})]
    # starts at 160, generalizes at 20: ln(20/10) / ln(160/10) = 1/4 of the log gap
    large = [run(500, metrics={"norm/total": ([0, 500], [160.0, 20.0])})]
    outcome = {"alpha=1": small, "alpha=4": large}
    assert liu2023.goldilocks_distance(outcome).value == pytest.approx(math.log(2) / math.log(16))
    never = {"alpha=1": small, "alpha=4": [run(None, metrics=large[0].metrics)]}
    assert liu2023.goldilocks_distance(never).value is None


def test_tian_critical_fraction_matches_the_reference_numbers():
    assert tian2025.critical_fraction(23) == pytest.approx(0.375, abs=5e-4)
    assert tian2025.critical_fraction(47) == pytest.approx(0.225, abs=5e-4)
    assert tian2025.critical_fraction(97) == pytest.approx(0.130, abs=5e-4)


def test_tian_shares_and_lazy_stage_measures():
    lazy = {
        "train/acc": ([0, 10, 20, 30], [0.0, 0.5, 0.995, 0.98]),
        "move/W_in": ([0, 10, 20, 30], [0.0, 0.1, 0.2, 0.3]),
        "move/W_out": ([0, 10, 20, 30], [0.0, 0.5, 1.0, 1.5]),
    }
    outcome = {}
    for m in tian2025.MODULI:
        outcome[tian2025.arm_name(m, 2.0)] = [run(50, metrics=lazy), run(None, "semi-grokking")]
        outcome[tian2025.arm_name(m, 0.5)] = [run(None, "memorization", lazy)]
    assert tian2025.share_generalized(outcome).value == pytest.approx(0.5)
    assert tian2025.share_memorizing(outcome).value == 1.0
    # at step 20, the first with train accuracy ≥ 0.99: 1.0 / 0.2 and 0.2 (runs without
    # curves make the read-out unknown — MissingCurves, judged INCONCLUSIVE — so drop them first)
    only_lazy = {k: [r for r in v if r.metrics] for k, v in outcome.items()}
    assert tian2025._at_memorization(only_lazy, "ratio").value == pytest.approx(5.0)
    assert tian2025._at_memorization(only_lazy, "W_in").value == pytest.approx(0.2)
    with pytest.raises(MissingCurves, match="a run's curves were not read"):
        tian2025._at_memorization(outcome, "ratio")
